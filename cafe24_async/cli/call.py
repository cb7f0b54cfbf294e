"""`cafe24-async call METHOD PATH K=V ...`: one API call, its JSON answer on stdout.

The path is the documented one (`/api/v2/admin/products/{product_no}` with
`product_no=7`), or the same path with the values in place
(`/api/v2/admin/products/7`). Params are `K=V` text, read by the route's
documented types; `K:=JSON` passes a JSON value, e.g. a write's body as
`request:='{"product_name": "Tee", "supply_price": 9000}'` (or `request:=@body.json`).
Any of the four APIs is reached: Admin and Front by `--base-url`, Analytics by
`--analytics-base-url`, D.Collection by `--dcollection-base-url` with the partner
credentials (no `--mall` needed there).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from cafe24_async.cli.common import EXIT_OK, UsageError, add_credentials, make_client, parse_pairs, run_async
from cafe24_async.routes import ROUTES, RouteNotFoundError, find_route
from cafe24_async.routes.route import Route

EXAMPLES = """examples:
  cafe24-async call GET /api/v2/admin/products/{product_no} product_no=7 --mall acme
  cafe24-async call GET /api/v2/admin/products/7 --mall acme
  cafe24-async call GET /api/v2/admin/products limit=5 fields=product_no,price --mall acme
  cafe24-async call POST /api/v2/admin/products --mall acme \\
      request:='{"product_name": "Tee", "supply_price": 9000}'
  cafe24-async call GET /visitors/view start_date=2026-03-01 end_date=2026-03-31 --mall acme
  cafe24-async call GET /api/products/count dcollection_product_category=C200802 \\
      --dcollection-id ID   # D.Collection; the secret in CAFE24_DCOLLECTION_SECRET
"""


def register(sub: Any) -> None:
    call = sub.add_parser("call", help="one API call; the JSON answer goes to stdout",
                          description=__doc__.split("\n\n", 1)[1] if __doc__ else None, epilog=EXAMPLES,
                          formatter_class=argparse.RawDescriptionHelpFormatter)
    call.add_argument("method", help="GET, POST, PUT or DELETE")
    call.add_argument("path", help="documented path, e.g. /api/v2/admin/products/{product_no}, "
                                   "or with the values in place: /api/v2/admin/products/7")
    call.add_argument("params", nargs="*", metavar="K=V",
                      help="a param as text (documented numbers and dates are read from it); "
                           "K:=JSON for a JSON value (objects, lists), K:=@FILE for JSON in a file")
    call.add_argument("--mall", help="mall id (not needed for D.Collection, which is partner-wide)")
    call.add_argument("--extra", action="append", default=[], metavar="K=V",
                      help="a parameter the docs do not list yet, sent unchecked (repeatable)")
    add_credentials(call, apis=True)
    call.set_defaults(handler=run_async(cmd_call), trailing="params")  # K=V may also follow the options


def resolve(method: str, path: str) -> tuple[Route, dict[str, str]]:
    """The documented route of `METHOD path`, and the placeholder values found in `path`."""
    try:
        return find_route(method, path), {}
    except RouteNotFoundError as exc:
        filled = [(r, values) for r in ROUTES if r.method == method.upper()
                  and (values := _placeholders(r.path, path)) is not None]
        if len(filled) == 1:
            return filled[0]
        message = str(exc).replace("arguments (positional or by name)", "K=V pairs, e.g. product_no=7")
        raise RouteNotFoundError(message) from None


def _placeholders(template: str, path: str) -> dict[str, str] | None:
    """{placeholder: value} when `path` is `template` with values in its placeholders."""
    want, got = template.strip("/").split("/"), path.strip("/").split("/")
    if len(want) != len(got) or "{" not in template:
        return None
    values = {}
    for w, g in zip(want, got, strict=True):
        if w.startswith("{") and w.endswith("}"):
            if not g or g.startswith("{"):
                return None
            values[w[1:-1]] = g
        elif w != g:
            return None
    return values


async def cmd_call(args: argparse.Namespace) -> int:
    params = parse_pairs(args.params)
    if args.extra:
        params["extra_params"] = parse_pairs(args.extra)
    route, values = resolve(args.method, args.path)
    for name, value in values.items():
        if name in params:
            raise UsageError(f"{name} is given twice: in the path and as {name}={params[name]}")
        params[name] = value
    if route.api != "dcollection" and not args.mall:
        raise UsageError(f"{route.method} {route.path} is a call of one mall: pass --mall ID")
    async with make_client(args) as api:
        owner = api.partner if route.api == "dcollection" else api.mall(args.mall)
        result = await owner.call(route.method, route.path, **params)
    sys.stdout.write(json.dumps(result, ensure_ascii=False, indent=2, default=str) + "\n")
    sys.stdout.flush()  # a reader that left (`| head`) is noticed here, not at exit
    return EXIT_OK
