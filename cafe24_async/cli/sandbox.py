"""`cafe24-async sandbox serve`: the built-in Cafe24 look-alike on a loopback port.

It prints everything a client needs (client id and secret, the base URLs, a
ready token for each mall, and the environment lines for the other commands),
and with `--write-token-file` saves that token where the other commands read
tokens, so `cafe24-async export --mall sandbox ...` works at once, with no OAuth
round. Issued tokens are kept in a state file (`--state`), so tokens saved by a
client stay good after the sandbox restarts.

The client secret and the tokens printed are the sandbox's own well-known test
values: this command is the one place the CLI prints them in full.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import os
import shlex
import signal
import sys
from pathlib import Path
from typing import Any

from cafe24_async.auth.stores import FileTokenStore
from cafe24_async.auth.token import Token
from cafe24_async.cli.common import EXIT_OK, UsageError, add_logging, configure_logging
from cafe24_async.cli.export import SANDBOX_ORDERS, SANDBOX_PRODUCTS


def default_state_file(port: int) -> str:
    """Where `sandbox serve` keeps issued tokens: one file per port, under the user's state folder."""
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return str(Path(base) / "cafe24-async" / f"sandbox-{port}.json")


def register(sub: Any) -> None:
    sandbox = sub.add_parser("sandbox", help="the built-in sandbox mall (a local Cafe24 look-alike)")
    sandbox_sub = sandbox.add_subparsers(dest="sandbox_command", required=True, metavar="serve")
    serve = sandbox_sub.add_parser(
        "serve", help="serve sandbox malls on loopback, with a ready token",
        description=__doc__.split("\n\n", 1)[1] if __doc__ else None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    serve.add_argument("--port", type=int, default=8024, help="loopback port (default 8024)")
    serve.add_argument("--mall", action="append", default=[], help="mall id (repeat; default: sandbox)")
    serve.add_argument("--products", type=int, default=SANDBOX_PRODUCTS,
                       help="products per mall (default %(default)s)")
    serve.add_argument("--orders", type=int, default=SANDBOX_ORDERS,
                       help="orders per mall, over a year (default %(default)s)")
    serve.add_argument("--leak-rate", type=float, default=2.0,
                       help="the bucket's drain, calls per second (default 2, as Cafe24)")
    serve.add_argument("--no-quotas", action="store_true",
                       help="turn off the usage quotas (default: Cafe24's 3,000 calls and 600 s of "
                            "processing per 10 minutes per mall)")
    serve.add_argument("--write-token-file", metavar="PATH",
                       help="save each mall's ready token in this token file (the format `--token-file` and "
                            "CAFE24_TOKEN_FILE read), replacing only those malls' entries")
    state = serve.add_mutually_exclusive_group()
    state.add_argument("--state", metavar="FILE",
                       help="keep issued tokens in FILE so they survive a restart "
                            "(default: $XDG_STATE_HOME/cafe24-async/sandbox-PORT.json)")
    state.add_argument("--no-state", action="store_true", help="keep tokens in memory only")
    add_logging(serve)
    sandbox.set_defaults(handler=cmd_sandbox)


def cmd_sandbox(args: argparse.Namespace) -> int:
    configure_logging(args)
    if not 0 < args.port < 65536:
        raise UsageError(f"--port must be between 1 and 65535, not {args.port}")
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C is how the sandbox is stopped
        asyncio.run(serve_until_stopped(args))
    print("sandbox stopped", file=sys.stderr)
    return EXIT_OK


async def serve_until_stopped(args: argparse.Namespace) -> None:
    from cafe24_async.sandbox import Sandbox, SandboxConfig
    from cafe24_async.sandbox.config import LIVE_QUOTAS

    malls = tuple(args.mall) or ("sandbox",)
    try:
        quotas = {} if args.no_quotas else LIVE_QUOTAS
        config = SandboxConfig(malls=malls, products=args.products, orders=args.orders,
                               leak_rate=args.leak_rate, **quotas)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    state = None if args.no_state else (args.state or default_state_file(args.port))
    try:
        sandbox = Sandbox(config, port=args.port, state_file=state)
    except ValueError as exc:  # a damaged state file
        raise UsageError(f"{exc}, or pass --no-state") from None
    except OSError as exc:
        raise UsageError(f"cannot keep the sandbox state in {state}: {exc.strerror or exc}") from None
    try:
        await sandbox.start()
    except OSError as exc:
        raise UsageError(_port_problem(args.port, exc)) from None
    try:
        tokens = {mall_id: Token.from_response(sandbox.issue_token(mall_id)) for mall_id in malls}
        if args.write_token_file:
            store = FileTokenStore(args.write_token_file)
            for mall_id, token in tokens.items():
                await store.save(mall_id, token)
        print(banner(sandbox, tokens, args.write_token_file, state), flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, stop.set)
        try:
            await stop.wait()
        finally:
            loop.remove_signal_handler(signal.SIGTERM)
    finally:
        await sandbox.close()


def _port_problem(port: int, exc: OSError) -> str:
    if exc.errno == errno.EADDRINUSE:
        return f"port {port} is in use (another sandbox?); stop it, or pick another port with --port"
    if exc.errno == errno.EACCES:
        return f"port {port} is not ours to use (ports below 1024 need privileges); pick another with --port"
    return f"cannot serve the sandbox on port {port}: {exc.strerror or exc}"


def banner(sandbox: Any, tokens: dict[str, Token], token_file: str | None, state: str | None) -> str:
    """What a client needs, as text: settings, tokens, and the environment for the other commands."""
    config = sandbox.config
    lines = [
        f"Cafe24 sandbox on {sandbox.base_url} (malls: {', '.join(tokens)}); Ctrl-C stops it",
        "",
        f"  client id         {config.client_id}",
        f"  client secret     {config.client_secret}   (the sandbox's well-known test secret)",
        f"  redirect URI      {config.redirect_uri}",
        f"  base URL          {sandbox.base_url}   (Admin and Front; {{mall_id}} stays as written)",
        f"  Analytics URL     {sandbox.root_url}",
        f"  D.Collection URL  {sandbox.root_url}   (partner id and secret: the client id and secret)",
    ]
    for mall_id, token in tokens.items():
        expires = token.expires_at.isoformat(timespec="minutes")
        lines.append(f"  token of {mall_id:<8} {token.access_token}   (refresh {token.refresh_token}; "
                     f"expires {expires}, then refreshed by the client)")
    if token_file:
        lines.append(f"  token file        {token_file}   (written: the other commands read it)")
    lines.append(f"  token state       {state or 'memory only: tokens end with this sandbox'}")
    env = {
        "CAFE24_CLIENT_ID": config.client_id,
        "CAFE24_CLIENT_SECRET": config.client_secret,
        "CAFE24_BASE_URL": sandbox.base_url,
        "CAFE24_ANALYTICS_BASE_URL": sandbox.root_url,
        "CAFE24_DCOLLECTION_BASE_URL": sandbox.root_url,
        "CAFE24_DCOLLECTION_ID": config.client_id,
        "CAFE24_DCOLLECTION_SECRET": config.client_secret,
    }
    if token_file:
        env["CAFE24_TOKEN_FILE"] = str(Path(token_file).resolve())
    first = next(iter(tokens))
    lines += ["", "In another shell:", ""]
    lines += [f"  export {name}={shlex.quote(value)}" for name, value in env.items()]
    if not token_file:
        lines.append("  # and save a token: run `sandbox serve` with --write-token-file tokens.json")
    lines.append(f"  cafe24-async export products --mall {first} --out products.jsonl")
    lines.append(f"  cafe24-async status --mall {first}")
    return "\n".join(lines)
