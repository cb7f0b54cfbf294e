"""`cafe24-async sandbox serve`: the built-in Cafe24 look-alike on a loopback port."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from cafe24_async.cli.common import EXIT_OK, UsageError
from cafe24_async.cli.export import SANDBOX_ORDERS, SANDBOX_PRODUCTS


def register(sub: Any) -> None:
    sandbox = sub.add_parser("sandbox", help="the built-in sandbox mall")
    sandbox_sub = sandbox.add_subparsers(dest="sandbox_command", required=True)
    serve = sandbox_sub.add_parser("serve", help="serve a sandbox mall on loopback")
    serve.add_argument("--port", type=int, default=8024, help="loopback port (default 8024)")
    serve.add_argument("--mall", action="append", default=[], help="mall id (repeat; default: sandbox)")
    serve.add_argument("--products", type=int, default=SANDBOX_PRODUCTS, help="products per mall")
    serve.add_argument("--orders", type=int, default=SANDBOX_ORDERS, help="orders per mall, over a year")
    serve.add_argument("--leak-rate", type=float, default=2.0, help="bucket drain per second (default 2)")
    sandbox.set_defaults(handler=cmd_sandbox)


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
