"""`python -m cafe24_async`: the same as the `cafe24-async` command."""

from cafe24_async.cli import main

main()
