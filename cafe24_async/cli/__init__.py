"""The `cafe24-async` command (also `python -m cafe24_async`).

    cafe24-async export RESOURCE --mall ID [--mall ID ...] --out FILE.jsonl|FILE.csv|-
    cafe24-async export products --sandbox --out exports/products.jsonl
    cafe24-async resources
    cafe24-async auth url|exchange|refresh|show --mall ID ...
    cafe24-async call METHOD PATH --mall ID [k=v ...]
    cafe24-async sandbox serve [--port N] [--write-token-file PATH]
    cafe24-async status --mall ID

Each subcommand lives in its own module of this package and registers its
parser and handler in `SUBCOMMANDS`. Credentials come from the environment
(CAFE24_CLIENT_ID, CAFE24_CLIENT_SECRET) or flags; tokens live in a
`FileTokenStore` (CAFE24_TOKEN_FILE, default ~/.config/cafe24-async/tokens.json).
Secrets are never printed in full.

Exit codes: 0 done; 1 the API failed (or another system error); 2 bad input
(an export then writes nothing); 3 authorisation needed, or the token store is
damaged; 4 the output cannot be written, or another export is writing it; 130
Ctrl-C; 143 SIGTERM (a container stop). Ctrl-C and SIGTERM both save an
export's final checkpoint: run the same command again to resume it. Every
library error becomes one line on stderr and its code, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from cafe24_async.cli import apply, auth, call, export, sandbox, status, sync, webhooks
from cafe24_async.cli.common import (
    EXIT_INTERRUPTED,
    EXIT_TERMINATED,
    Terminated,
    UsageError,
    report,
)
from cafe24_async.cli.export import SANDBOX_ORDERS, SANDBOX_PRODUCTS
from cafe24_async.errors import Cafe24Error

#: The subcommand modules, in the order `--help` lists them.
SUBCOMMANDS = (export, sync, apply, auth, call, sandbox, status, webhooks)

__all__ = ["SANDBOX_ORDERS", "SANDBOX_PRODUCTS", "build_parser", "main", "run"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cafe24-async", description="Cafe24 API client and bulk exporter")
    sub = parser.add_subparsers(dest="command", required=True)
    for module in SUBCOMMANDS:
        module.register(sub)
    return parser


def run(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    trailing = getattr(args, "trailing", None)  # a command's K=V list, which may also follow its options
    if extra and trailing and not any(e.startswith("-") for e in extra):
        getattr(args, trailing).extend(extra)
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    try:
        return int(args.handler(args))
    except KeyboardInterrupt:
        print("\ninterrupted (Ctrl-C); run the same command again to resume", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Terminated:
        print("stopped (SIGTERM); run the same command again to resume", file=sys.stderr)
        return EXIT_TERMINATED
    except (UsageError, Cafe24Error, OSError) as exc:
        return report(exc)  # one line and its exit code; a closed pipe (`| head`) quietly 0


def main() -> None:
    sys.exit(run())
