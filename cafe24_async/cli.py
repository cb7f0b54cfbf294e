"""The `cafe24-async` command (also `python -m cafe24_async`).

    cafe24-async export RESOURCE --mall ID [--mall ID ...] --out FILE.jsonl|FILE.csv|-
    cafe24-async export products --sandbox --out exports/products.jsonl
    cafe24-async resources
    cafe24-async auth url|exchange|refresh|show --mall ID ...
    cafe24-async call METHOD PATH --mall ID [k=v ...]
    cafe24-async sandbox serve [--port N]

Credentials come from the environment (CAFE24_CLIENT_ID, CAFE24_CLIENT_SECRET)
or flags; tokens live in a `FileTokenStore` (CAFE24_TOKEN_FILE, default
~/.config/cafe24-async/tokens.json). Secrets are never printed in full.

Exit codes: 0 done; 1 the API failed (or another system error); 2 bad input
(an export then writes nothing); 3 authorisation needed, or the token store is
damaged; 4 the output cannot be written, or another export is writing it; 130
Ctrl-C; 143 SIGTERM (a container stop). Ctrl-C and SIGTERM both save an
export's final checkpoint: run the same command again to resume it. Every
library error becomes one line on stderr and its code, never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
from collections.abc import Coroutine, Sequence
from pathlib import Path
from typing import Any

from cafe24_async.auth.stores import FileTokenStore, MemoryTokenStore, TokenStore
from cafe24_async.auth.token import Token, mask
from cafe24_async.client import Cafe24
from cafe24_async.dates import parse_date_text
from cafe24_async.errors import (
    APIError,
    Cafe24ConnectionError,
    Cafe24Error,
    ConfigurationError,
    ReauthorizeError,
    TokenStoreError,
    ValidationError,
)
from cafe24_async.export import (
    ExportError,
    ExportReport,
    ExportSpec,
    OutputError,
    Progress,
    exportable,
    resolve_resource,
    run_export,
)
from cafe24_async.export.arguments import typed_params
from cafe24_async.routes import RouteNotFoundError

EXIT_OK, EXIT_API, EXIT_INPUT, EXIT_AUTH, EXIT_OUTPUT = 0, 1, 2, 3, 4
EXIT_INTERRUPTED, EXIT_TERMINATED = 130, 128 + signal.SIGTERM

EXIT_CODES = """exit codes:
  0    done: every record written
  1    the API failed (the summary names each failed mall; run again to resume it),
       or another system error
  2    bad input: nothing was written or sent
  3    authorisation needed, or the token store is damaged
  4    the output cannot be written, or another export is writing it (its PID is named)
  130  Ctrl-C: the final checkpoint is saved; run the same command again to resume
  143  SIGTERM (e.g. a container stop): the same as Ctrl-C
"""

#: The dataset of the sandbox mall that `--sandbox` starts.
SANDBOX_PRODUCTS = 3000
SANDBOX_ORDERS = 20000


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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cafe24-async", description="Cafe24 API client and bulk exporter")
    sub = parser.add_subparsers(dest="command", required=True)

    def credentials(p: argparse.ArgumentParser) -> None:
        p.add_argument("--client-id", default=os.environ.get("CAFE24_CLIENT_ID"))
        p.add_argument("--client-secret", default=os.environ.get("CAFE24_CLIENT_SECRET"),
                       help="better given as CAFE24_CLIENT_SECRET")
        p.add_argument("--token-file", default=default_token_file())
        p.add_argument("--base-url", default=os.environ.get("CAFE24_BASE_URL", "https://{mall_id}.cafe24api.com"))
        p.add_argument("--leak-rate", type=float, default=None, help="bucket drain per second (default 2)")
        p.add_argument("--max-per-second", type=int, default=None, metavar="N",
                       help="calls per second per mall (default 10; 0 turns the cap off, for sandboxes)")

    exp = sub.add_parser("export", help="export every record of a resource", epilog=EXIT_CODES,
                         formatter_class=argparse.RawDescriptionHelpFormatter)
    exp.add_argument("resource", help="e.g. products, orders, customersprivacy, front.products")
    exp.add_argument("--mall", action="append", default=[], help="mall id (repeat for several)")
    exp.add_argument("--since", type=parse_day, help="start of the date range (YYYY-MM-DD)")
    exp.add_argument("--until", type=parse_day, help="end of the date range, inclusive")
    exp.add_argument("--fields", help="comma-separated fields to fetch")
    exp.add_argument("--embed", help="comma-separated sub-resources to embed (variants, items, ...)")
    exp.add_argument("--param", action="append", default=[], metavar="K=V", help="any documented filter")
    exp.add_argument("--out", required=True, help="FILE.jsonl, FILE.csv, or - for stdout (JSON lines)")
    exp.add_argument("--format", choices=("jsonl", "csv"))
    exp.add_argument("--restart", action="store_true", help="ignore an existing checkpoint")
    exp.add_argument("--concurrency", type=int, default=None, help="pages in flight per mall")
    exp.add_argument("--sandbox", action="store_true", help="run against a built-in sandbox mall")
    exp.add_argument("--quiet", action="store_true", help="no progress display")
    credentials(exp)

    sub.add_parser("resources", help="list exportable resources")

    auth = sub.add_parser("auth", help="manage OAuth tokens in the token file")
    auth_sub = auth.add_subparsers(dest="auth_command", required=True)
    url = auth_sub.add_parser("url", help="print the URL a mall operator opens to authorise the app")
    url.add_argument("--mall", required=True)
    url.add_argument("--redirect-uri", required=True)
    url.add_argument("--scope", action="append", required=True)
    url.add_argument("--state")
    exchange = auth_sub.add_parser("exchange", help="trade an authorization code for tokens")
    exchange.add_argument("code")
    exchange.add_argument("--mall", required=True)
    exchange.add_argument("--redirect-uri", required=True)
    refresh = auth_sub.add_parser("refresh", help="refresh the stored token now")
    refresh.add_argument("--mall", required=True)
    show = auth_sub.add_parser("show", help="show the stored token (secrets masked)")
    show.add_argument("--mall", required=True)
    for p in (url, exchange, refresh, show):
        credentials(p)

    call = sub.add_parser("call", help="one API call; the JSON answer goes to stdout")
    call.add_argument("method")
    call.add_argument("path", help="documented path, e.g. /api/v2/admin/products/{product_no}")
    call.add_argument("params", nargs="*", metavar="K=V")
    call.add_argument("--mall", required=True)
    credentials(call)

    sandbox = sub.add_parser("sandbox", help="the built-in sandbox mall")
    sandbox_sub = sandbox.add_subparsers(dest="sandbox_command", required=True)
    serve = sandbox_sub.add_parser("serve", help="serve a sandbox mall on loopback")
    serve.add_argument("--port", type=int, default=8024)
    serve.add_argument("--mall", action="append", default=[])
    serve.add_argument("--products", type=int, default=SANDBOX_PRODUCTS)
    serve.add_argument("--orders", type=int, default=SANDBOX_ORDERS)
    serve.add_argument("--leak-rate", type=float, default=2.0)
    return parser


def pacing(args: argparse.Namespace) -> dict[str, Any]:
    """The client's pacing settings given on the command line."""
    settings: dict[str, Any] = {}
    if args.leak_rate is not None:
        settings["leak_rate"] = args.leak_rate
    if args.max_per_second is not None:
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


def export_params(args: argparse.Namespace) -> dict[str, Any]:
    route = resolve_resource(args.resource)
    params = parse_pairs(args.param)
    if args.since or args.until:
        if route.date_range is None:
            raise UsageError(f"{args.resource} has no date range; --since/--until do not apply")
        if args.since:
            params[route.date_range.start] = args.since
        if args.until:
            params[route.date_range.end] = args.until
    if args.fields:
        params["fields"] = [f.strip() for f in args.fields.split(",") if f.strip()]
    if args.embed:
        params["embed"] = [e.strip() for e in args.embed.split(",") if e.strip()]
    return typed_params(route, params)  # `--param limit=50` is the number 50


async def cmd_export(args: argparse.Namespace) -> int:
    spec = export_spec(args)
    progress = None if args.quiet else Progress(args.resource)
    if args.sandbox:
        report = await sandbox_export(args, spec, progress)
    else:
        async with make_client(args) as api:
            report = await run_export(api, spec, args.out, restart=args.restart,
                                      concurrency=args.concurrency, progress=progress)
    if progress is not None:
        progress.finish(report.summary())
    elif report.errors:
        print(report.summary(), file=sys.stderr)
    return export_exit_code(report)


def export_spec(args: argparse.Namespace) -> ExportSpec:
    params = export_params(args)
    malls = tuple(args.mall) or (("sandbox",) if args.sandbox else ())
    if not malls and not args.resource.startswith("dcollection."):
        raise UsageError("pass at least one --mall (or --sandbox)")
    return ExportSpec(args.resource, malls, params, args.format)


async def sandbox_export(
    args: argparse.Namespace, spec: ExportSpec, progress: Progress | None
) -> ExportReport:
    """`spec` exported from an in-process sandbox mall (deterministic data, no credentials)."""
    from cafe24_async.sandbox import Sandbox, SandboxConfig

    config = SandboxConfig(malls=spec.malls, products=SANDBOX_PRODUCTS, orders=SANDBOX_ORDERS,
                           leak_rate=args.leak_rate or 2.0)
    settings = {"leak_rate": config.leak_rate, **pacing(args)}
    async with Sandbox(config) as sandbox:
        store = MemoryTokenStore()
        for mall_id in spec.malls:
            await store.save(mall_id, Token.from_response(sandbox.issue_token(mall_id)))
        async with Cafe24(
            client_id=config.client_id, client_secret=config.client_secret, token_store=store,
            base_url=sandbox.base_url, analytics_base_url=sandbox.root_url,
            dcollection_base_url=sandbox.root_url,
            dcollection_credentials=(config.client_id, config.client_secret), **settings,
        ) as api:
            return await run_export(api, spec, args.out, restart=args.restart,
                                    concurrency=args.concurrency, progress=progress)


TOKEN_STORE_HINT = "repair the file, or move it away and authorise each mall again (`cafe24-async auth url`)"


def export_exit_code(report: ExportReport) -> int:
    """0 when every mall is done; 3 when a mall needs authorising (or the token store is
    damaged), else 1 when a mall failed."""
    damaged = next((e for e in report.failures.values() if isinstance(e, TokenStoreError)), None)
    if damaged is not None:
        print(f"cafe24-async: {damaged}; {TOKEN_STORE_HINT}", file=sys.stderr)
        return EXIT_AUTH
    if any(isinstance(e, ReauthorizeError) for e in report.failures.values()):
        print("cafe24-async: re-authorize the mall(s) above with `cafe24-async auth url`", file=sys.stderr)
        return EXIT_AUTH
    return EXIT_API if report.errors else EXIT_OK


def token_summary(mall_id: str, token: Token) -> dict[str, Any]:
    return {
        "mall_id": mall_id,
        "access_token": mask(token.access_token),
        "refresh_token": mask(token.refresh_token),
        "expires_at": token.expires_at.isoformat(),
        "refresh_token_expires_at": token.refresh_token_expires_at.isoformat()
        if token.refresh_token_expires_at else None,
        "scopes": list(token.scopes),
    }


async def cmd_auth(args: argparse.Namespace) -> int:
    api = make_client(args)
    async with api:
        if args.auth_command == "url":
            url, state = api.authorize_url(args.mall, args.redirect_uri, args.scope, args.state)
            print(url)
            print(f"state: {state}", file=sys.stderr)
            return EXIT_OK
        if args.auth_command == "exchange":
            token = await api.exchange_code(args.mall, args.code, args.redirect_uri)
        elif args.auth_command == "refresh":
            mall = api.mall(args.mall)
            current = await api.token_store.load(args.mall)
            if current is None:
                raise ReauthorizeError(args.mall, "no token stored for this mall")
            token = await mall.refresher.after_rejection(current)
        else:
            stored = await api.token_store.load(args.mall)
            if stored is None:
                raise ReauthorizeError(args.mall, f"no token stored in {args.token_file}")
            token = stored
        print(json.dumps(token_summary(args.mall, token), indent=2))
        return EXIT_OK


async def cmd_call(args: argparse.Namespace) -> int:
    params = parse_pairs(args.params)
    async with make_client(args) as api:
        result = await api.mall(args.mall).call(args.method, args.path, **params)
    print(json.dumps(result, ensure_ascii=False, indent=2, default=str))
    return EXIT_OK


def cmd_sandbox(args: argparse.Namespace) -> int:
    from cafe24_async.sandbox import SandboxConfig, serve

    malls = tuple(args.mall) or ("sandbox",)
    config = SandboxConfig(malls=malls, products=args.products, orders=args.orders, leak_rate=args.leak_rate)
    print(f"sandbox on http://127.0.0.1:{args.port}/{{mall_id}} (malls: {', '.join(malls)}; "
          f"client id {config.client_id!r}); Ctrl-C stops it", file=sys.stderr)
    try:
        serve(config, port=args.port)
    except OSError as exc:  # the port is taken or not ours to use
        reason = str(exc).rpartition(": ")[2] or exc.strerror or str(exc)
        raise UsageError(f"cannot serve the sandbox on port {args.port}: {reason}") from None
    return EXIT_OK


def cmd_resources() -> int:
    for name, route in sorted(exportable().items()):
        dates = f"  dates {route.date_range.start}..{route.date_range.end}" if route.date_range else ""
        print(f"{name:40} {route.method} {route.path}{dates}")
    return EXIT_OK


def run(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return dispatch(args)
    except KeyboardInterrupt:
        print("\ninterrupted (Ctrl-C); run the same command again to resume", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Terminated:
        print("stopped (SIGTERM); run the same command again to resume", file=sys.stderr)
        return EXIT_TERMINATED
    except (UsageError, Cafe24Error, OSError) as exc:
        code, message = explain(exc)
        print(f"cafe24-async: {message}", file=sys.stderr)
        return code


def dispatch(args: argparse.Namespace) -> int:
    if args.command == "export":
        return asyncio.run(until_sigterm(cmd_export(args)))
    if args.command == "auth":
        return asyncio.run(until_sigterm(cmd_auth(args)))
    if args.command == "call":
        return asyncio.run(until_sigterm(cmd_call(args)))
    if args.command == "sandbox":
        return cmd_sandbox(args)
    return cmd_resources()


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


def main() -> None:
    sys.exit(run())
