"""What every subcommand shares: exit codes, argument helpers, the client, error lines.

Every library error becomes one line on stderr and an exit code, never a
traceback; SIGTERM stops a command the way Ctrl-C does.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any

from cafe24_async.auth.stores import FileTokenStore, TokenStore
from cafe24_async.client import Cafe24
from cafe24_async.dates import parse_date_text
from cafe24_async.errors import (
    APIError,
    Cafe24ConnectionError,
    ConfigurationError,
    ReauthorizeError,
    TokenStoreError,
    ValidationError,
)
from cafe24_async.export import ExportError, OutputError
from cafe24_async.routes import RouteNotFoundError

EXIT_OK, EXIT_API, EXIT_INPUT, EXIT_AUTH, EXIT_OUTPUT = 0, 1, 2, 3, 4
EXIT_INTERRUPTED, EXIT_TERMINATED = 130, 128 + signal.SIGTERM

TOKEN_STORE_HINT = "repair the file, or move it away and authorise each mall again (`cafe24-async auth url`)"

#: A subcommand's handler: the parsed arguments in, the exit code out.
Handler = Callable[[argparse.Namespace], int]


class UsageError(Exception):
    """Bad command-line input: reported with exit code 2."""


class Terminated(Exception):
    """SIGTERM stopped the command: reported with exit code 143."""


def default_token_file() -> str:
    env = os.environ.get("CAFE24_TOKEN_FILE")
    if env:
        return env
    return str(Path.home() / ".config" / "cafe24-async" / "tokens.json")


def parse_day(text: str) -> str:
    try:
        parse_date_text(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"bad date {text!r}: use YYYY-MM-DD or ISO-8601") from None
    return text


def parse_pairs(pairs: Sequence[str]) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise UsageError(f"expected key=value, got {pair!r}")
        params[key] = value
    return params


def add_credentials(p: argparse.ArgumentParser, *, pacing: bool = True) -> None:
    """The app's credentials, the token file and the base URL (and, for commands that
    make API calls, the pacing settings)."""
    p.add_argument("--client-id", default=os.environ.get("CAFE24_CLIENT_ID"),
                   help="the app's client id (env CAFE24_CLIENT_ID)")
    p.add_argument("--client-secret", default=os.environ.get("CAFE24_CLIENT_SECRET"),
                   help="better given as CAFE24_CLIENT_SECRET")
    p.add_argument("--token-file", default=default_token_file(),
                   help="where tokens are kept (env CAFE24_TOKEN_FILE)")
    p.add_argument("--base-url", default=os.environ.get("CAFE24_BASE_URL", "https://{mall_id}.cafe24api.com"),
                   help="Admin/Front API base URL with a literal {mall_id} (env CAFE24_BASE_URL)")
    if pacing:
        p.add_argument("--leak-rate", type=float, default=None, help="bucket drain per second (default 2)")
        p.add_argument("--max-per-second", type=int, default=None, metavar="N",
                       help="calls per second per mall (default 10; 0 turns the cap off, for sandboxes)")


def pacing(args: argparse.Namespace) -> dict[str, Any]:
    """The client's pacing settings given on the command line."""
    settings: dict[str, Any] = {}
    if getattr(args, "leak_rate", None) is not None:
        settings["leak_rate"] = args.leak_rate
    if getattr(args, "max_per_second", None) is not None:
        if args.max_per_second < 0:
            raise UsageError("--max-per-second must be 0 (off) or more")
        settings["max_per_second"] = args.max_per_second or None
    return settings


def make_client(args: argparse.Namespace, store: TokenStore | None = None, **extra: Any) -> Cafe24:
    if not args.client_id:
        raise UsageError("no client id: set CAFE24_CLIENT_ID or pass --client-id")
    settings: dict[str, Any] = {"base_url": args.base_url, **extra, **pacing(args)}
    return Cafe24(
        client_id=args.client_id,
        client_secret=args.client_secret,
        token_store=store if store is not None else FileTokenStore(args.token_file),
        **settings,
    )


def explain(exc: BaseException) -> tuple[int, str]:
    """The exit code and the one line that report an error."""
    if isinstance(exc, OutputError):  # before ExportError: its own exit code
        return EXIT_OUTPUT, str(exc)
    if isinstance(exc, (UsageError, ValidationError, ExportError, ConfigurationError, RouteNotFoundError)):
        return EXIT_INPUT, f"error: {exc}"
    if isinstance(exc, TokenStoreError):
        return EXIT_AUTH, f"{exc}; {TOKEN_STORE_HINT}"
    if isinstance(exc, ReauthorizeError):
        return EXIT_AUTH, f"{exc}; run `cafe24-async auth url` to authorise again"
    if isinstance(exc, Cafe24ConnectionError):
        return EXIT_API, f"connection failed: {exc}"
    if isinstance(exc, APIError):
        return EXIT_API, f"API error: {exc}"
    return EXIT_API, f"failed: {exc}"  # another library error, or a system error not of the output


def run_async(command: Callable[[argparse.Namespace], Coroutine[Any, Any, int]]) -> Handler:
    """A handler that runs the async `command` in its own event loop, stopped by SIGTERM."""
    def handler(args: argparse.Namespace) -> int:
        return asyncio.run(until_sigterm(command(args)))

    return handler


async def until_sigterm(main: Coroutine[Any, Any, int]) -> int:
    """Run `main`; SIGTERM cancels it the way Ctrl-C does (an export saves its final
    checkpoint on the way out), then `Terminated` makes the exit code 143."""
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    assert task is not None
    stopped = False

    def stop() -> None:
        nonlocal stopped
        if not stopped:
            stopped = True
            task.cancel()

    loop.add_signal_handler(signal.SIGTERM, stop)
    try:
        result = await main
    except asyncio.CancelledError:
        if not stopped:
            raise
        task.uncancel()
    finally:
        loop.remove_signal_handler(signal.SIGTERM)
    if stopped:
        raise Terminated
    return result
