"""`cafe24-async call METHOD PATH k=v ...`: one API call, its JSON answer on stdout."""

from __future__ import annotations

import argparse
import json
from typing import Any

from cafe24_async.cli.common import EXIT_OK, add_credentials, make_client, parse_pairs, run_async


def register(sub: Any) -> None:
    call = sub.add_parser("call", help="one API call; the JSON answer goes to stdout")
    call.add_argument("method")
    call.add_argument("path", help="documented path, e.g. /api/v2/admin/products/{product_no}")
    call.add_argument("params", nargs="*", metavar="K=V")
    call.add_argument("--mall", required=True)
    add_credentials(call)
    call.set_defaults(handler=run_async(cmd_call))


async def cmd_call(args: argparse.Namespace) -> int:
    params = parse_pairs(args.params)
    async with make_client(args) as api:
        result = await api.mall(args.mall).call(args.method, args.path, **params)
    print(json.dumps(result, ensure_ascii=False, indent=2, default=str))
    return EXIT_OK
