"""`cafe24-async export` and `cafe24-async resources`: bulk exports from the command line."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from cafe24_async.auth.stores import MemoryTokenStore
from cafe24_async.auth.token import Token
from cafe24_async.cli.common import (
    EXIT_API,
    EXIT_AUTH,
    EXIT_OK,
    TOKEN_STORE_HINT,
    UsageError,
    add_credentials,
    make_client,
    pacing,
    parse_day,
    parse_pairs,
    run_async,
)
from cafe24_async.client import Cafe24
from cafe24_async.errors import ReauthorizeError, TokenStoreError
from cafe24_async.export import ExportReport, ExportSpec, Progress, exportable, resolve_resource, run_export
from cafe24_async.export.arguments import typed_params
from cafe24_async.export.writers import FORMATS

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


def register(sub: Any) -> None:
    exp = sub.add_parser("export", help="export every record of a resource", epilog=EXIT_CODES,
                         formatter_class=argparse.RawDescriptionHelpFormatter)
    exp.add_argument("resource", help="e.g. products, orders, customersprivacy, front.products")
    exp.add_argument("--mall", action="append", default=[], help="mall id (repeat for several)")
    exp.add_argument("--since", type=parse_day, help="start of the date range (YYYY-MM-DD)")
    exp.add_argument("--until", type=parse_day, help="end of the date range, inclusive")
    exp.add_argument("--fields", help="comma-separated fields to fetch")
    exp.add_argument("--embed", help="comma-separated sub-resources to embed (variants, items, ...)")
    exp.add_argument("--param", action="append", default=[], metavar="K=V", help="any documented filter")
    exp.add_argument("--extra", action="append", default=[], metavar="K=V",
                     help="a filter the docs do not list yet, sent unchecked (repeatable)")
    exp.add_argument("--out", required=True,
                     help="FILE.jsonl (JSON Lines), FILE.csv, or - for stdout (JSON Lines); the extension "
                          "sets the format")
    formats = exp.add_mutually_exclusive_group()
    formats.add_argument("--format", choices=FORMATS,
                         help="output format, when --out is - (a file's extension must agree with it)")
    formats.add_argument("--excel", action="store_const", const="excel", dest="format",
                         help="CSV that Excel opens with Korean text intact (UTF-8 with a byte-order mark)")
    exp.add_argument("--restart", action="store_true", help="ignore an existing checkpoint")
    exp.add_argument("--concurrency", type=int, default=None, help="pages in flight per mall")
    exp.add_argument("--sandbox", action="store_true", help="run against a built-in sandbox mall")
    exp.add_argument("--quiet", action="store_true", help="no progress display")
    add_credentials(exp, apis=True)
    exp.set_defaults(handler=run_async(cmd_export))

    resources = sub.add_parser("resources", help="list exportable resources")
    resources.set_defaults(handler=cmd_resources)


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
    params = typed_params(route, params)  # `--param limit=50` is the number 50
    if args.extra:
        params["extra_params"] = parse_pairs(args.extra)
    return params


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
    from cafe24_async.sandbox.config import LIVE_QUOTAS

    config = SandboxConfig(malls=spec.malls, products=SANDBOX_PRODUCTS, orders=SANDBOX_ORDERS,
                           leak_rate=args.leak_rate or 2.0, **LIVE_QUOTAS)
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


def cmd_resources(args: argparse.Namespace) -> int:
    for name, route in sorted(exportable().items()):
        dates = f"  dates {route.date_range.start}..{route.date_range.end}" if route.date_range else ""
        print(f"{name:40} {route.method} {route.path}{dates}")
    return EXIT_OK
