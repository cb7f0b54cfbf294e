"""What every subcommand shares: exit codes, argument helpers, the client, error lines.

Every library error becomes one line on stderr and an exit code, never a
traceback; SIGTERM stops a command the way Ctrl-C does. A reader that stops
early (`cafe24-async call ... | head`) ends the command quietly with exit 0, as
Unix tools do.

Settings come from flags or the environment, the same names for every command:

    CAFE24_CLIENT_ID, CAFE24_CLIENT_SECRET       the app's credentials
    CAFE24_TOKEN_FILE                            the token file (default ~/.config/cafe24-async/tokens.json)
    CAFE24_BASE_URL                              Admin/Front API, with a literal {mall_id}
    CAFE24_ANALYTICS_BASE_URL                    Analytics API
    CAFE24_DCOLLECTION_BASE_URL                  D.Collection API
    CAFE24_DCOLLECTION_ID, CAFE24_DCOLLECTION_SECRET   D.Collection partner credentials
    CAFE24_LOG_LEVEL                             log level of the library's loggers
"""

from __future__ import annotations

import argparse
import asyncio
import errno
import json
import logging
import os
import signal
import sys
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
from cafe24_async.routes import APIS, RouteNotFoundError

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


def parse_pairs(pairs: Sequence[str], what: str = "K=V") -> dict[str, Any]:
    """`K=V` pairs as params: V is text (a route's documented numbers and dates are read
    from it later); `K:=JSON` gives a JSON value (an object, a list, a number), and
    `K:=@FILE` the JSON in FILE. A key given twice is refused, not silently replaced."""
    params: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        raw = key.endswith(":")
        key = key[:-1] if raw else key
        if not sep or not key:
            raise UsageError(f"expected {what} (or K:=JSON), got {pair!r}")
        if key in params:
            raise UsageError(
                f"{key} is given twice; give it once (several values: {key}=A,B, or {key}:='[\"A\", \"B\"]')"
            )
        params[key] = _json_value(key, value) if raw else value
    return params


def _json_value(key: str, text: str) -> Any:
    source = f"{key}:={text}"
    if text.startswith("@"):
        try:
            text = Path(text[1:]).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            why = getattr(exc, "strerror", None) or exc
            raise UsageError(f"{source}: cannot read {text[1:]} ({why})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"{source}: not JSON ({exc.msg} at character {exc.pos})") from None


def _env(name: str, default: str | None = None) -> str | None:
    return os.environ.get(name) or default


def add_credentials(p: argparse.ArgumentParser, *, pacing: bool = True, apis: bool = False) -> None:
    """The app's credentials, the token file and the base URL; for commands that make
    API calls, the pacing settings; with `apis`, the Analytics and D.Collection
    settings too (commands whose calls may go to any of the four APIs)."""
    creds = p.add_argument_group("credentials and addresses")
    creds.add_argument("--client-id", default=_env("CAFE24_CLIENT_ID"),
                       help="the app's client id (env CAFE24_CLIENT_ID)")
    creds.add_argument("--client-secret", default=_env("CAFE24_CLIENT_SECRET"),
                       help="the app's client secret; better given as CAFE24_CLIENT_SECRET")
    creds.add_argument("--token-file", default=default_token_file(),
                       help="where tokens are kept (env CAFE24_TOKEN_FILE; default "
                            "~/.config/cafe24-async/tokens.json)")
    creds.add_argument("--base-url", default=_env("CAFE24_BASE_URL", APIS["admin"].base_url),
                       help="Admin/Front API base URL, holding a literal {mall_id} that each mall's id "
                            "replaces, e.g. 'http://127.0.0.1:8024/{mall_id}' for `sandbox serve` "
                            "(env CAFE24_BASE_URL; default %(default)s)")
    creds.add_argument("--front-api-key", default=_env("CAFE24_FRONT_API_KEY"),
                       help="the Front API key: Front calls then carry Basic client_id:key and get "
                            "the higher limit; better given as CAFE24_FRONT_API_KEY")
    creds.add_argument("--api-version", default=_env("CAFE24_API_VERSION"),
                       help="pin X-Cafe24-Api-Version, e.g. 2026-09-01 (env CAFE24_API_VERSION)")
    creds.add_argument("--unknown-params", choices=("error", "warn", "send"), default="error",
                       help="a parameter or code the docs do not list: refuse it (default), send it "
                            "with a warning, or send it")
    if apis:
        creds.add_argument("--analytics-base-url", default=_env("CAFE24_ANALYTICS_BASE_URL",
                                                                APIS["analytics"].base_url),
                           help="Analytics API base URL (env CAFE24_ANALYTICS_BASE_URL; default %(default)s)")
        creds.add_argument("--dcollection-base-url", default=_env("CAFE24_DCOLLECTION_BASE_URL",
                                                                  APIS["dcollection"].base_url),
                           help="D.Collection API base URL (env CAFE24_DCOLLECTION_BASE_URL; "
                                "default %(default)s)")
        creds.add_argument("--dcollection-id", default=_env("CAFE24_DCOLLECTION_ID"),
                           help="D.Collection partner id (env CAFE24_DCOLLECTION_ID)")
        creds.add_argument("--dcollection-secret", default=_env("CAFE24_DCOLLECTION_SECRET"),
                           help="D.Collection partner secret; better given as CAFE24_DCOLLECTION_SECRET")
    if pacing:
        pace = p.add_argument_group("pacing")
        pace.add_argument("--leak-rate", type=float, default=None, help="bucket drain per second (default 2)")
        pace.add_argument("--max-per-second", type=int, default=None, metavar="N",
                          help="calls per second per mall (default 10; 0 turns the cap off, for sandboxes)")
    add_logging(p)


def add_logging(p: argparse.ArgumentParser) -> None:
    """`-v`/`--verbose` and `--log-level`: what the library's loggers print on stderr."""
    group = p.add_argument_group("logging (on stderr)")
    group.add_argument("-v", "--verbose", action="count", default=0,
                       help="-v: INFO (token refreshes, quota pauses); -vv: DEBUG (every request with its "
                            "status, time and bucket level; every retry and its reason)")
    group.add_argument("--log-level", default=_env("CAFE24_LOG_LEVEL"), type=str.upper,
                       choices=("DEBUG", "INFO", "WARNING", "ERROR"),
                       help="the level of the cafe24_async.* loggers (env CAFE24_LOG_LEVEL; default WARNING)")


#: The library's loggers, each named in the README ("Logging").
LOGGERS = ("cafe24_async.request", "cafe24_async.auth", "cafe24_async.quota", "cafe24_async.ratelimit",
           "cafe24_async.params")


def configure_logging(args: argparse.Namespace) -> None:
    """Send the `cafe24_async` loggers to stderr at the level asked for (WARNING by default)."""
    verbose = getattr(args, "verbose", 0) or 0
    level_name = getattr(args, "log_level", None)
    if verbose:
        level = logging.DEBUG if verbose > 1 else logging.INFO
    elif level_name:
        level = getattr(logging, level_name)
    else:
        level = logging.WARNING
    logger = logging.getLogger("cafe24_async")
    if not any(getattr(h, "_cafe24_cli", False) for h in logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        handler._cafe24_cli = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
        logger.propagate = False
    logger.setLevel(level)


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


def api_settings(args: argparse.Namespace) -> dict[str, Any]:
    """The client settings given on the command line beyond the credentials: the Front
    key, the API version, the unknown-parameter policy, and (if the command has them)
    the Analytics and D.Collection settings."""
    settings: dict[str, Any] = {}
    for name in ("front_api_key", "api_version", "unknown_params"):
        if getattr(args, name, None):
            settings[name] = getattr(args, name)
    if getattr(args, "analytics_base_url", None):
        settings["analytics_base_url"] = args.analytics_base_url
    if getattr(args, "dcollection_base_url", None):
        settings["dcollection_base_url"] = args.dcollection_base_url
    partner, secret = getattr(args, "dcollection_id", None), getattr(args, "dcollection_secret", None)
    if bool(partner) != bool(secret):
        raise UsageError("D.Collection needs both --dcollection-id and --dcollection-secret "
                         "(CAFE24_DCOLLECTION_ID, CAFE24_DCOLLECTION_SECRET)")
    if partner:
        settings["dcollection_credentials"] = (partner, secret)
    return settings


def make_client(args: argparse.Namespace, store: TokenStore | None = None, **extra: Any) -> Cafe24:
    if not args.client_id:
        raise UsageError("no client id: set CAFE24_CLIENT_ID or pass --client-id")
    settings: dict[str, Any] = {"base_url": args.base_url, **api_settings(args), **extra, **pacing(args)}
    return Cafe24(
        client_id=args.client_id,
        client_secret=args.client_secret,
        token_store=store if store is not None else FileTokenStore(args.token_file),
        **settings,
    )


def is_broken_pipe(exc: BaseException) -> bool:
    """Whether `exc` is, or was caused by, writing to a pipe whose reader has gone."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, BrokenPipeError) or (isinstance(seen, OSError) and seen.errno == errno.EPIPE):
            return True
        seen = seen.__cause__
    return False


def report(exc: BaseException) -> int:
    """Report an error as one line on stderr and return its exit code.

    A broken pipe on stdout (the reader stopped early, as `head` does) is not an
    error: nothing is printed and the code is 0. Stdout is pointed at /dev/null so
    that the interpreter's last flush does not fail again.
    """
    if is_broken_pipe(exc):
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        return EXIT_OK
    code, message = explain(exc)
    print(f"cafe24-async: {message}", file=sys.stderr)
    return code


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
        configure_logging(args)
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
