"""`cafe24-async sync`: the records that changed since the last run, into a new file.

    cafe24-async sync products --mall acme --state sync-state.json --out products-2026-03-02.jsonl
    cafe24-async sync orders --mall acme --mall beta --state sync-state.json --since 2025-01-01 \\
        --out orders-2026-03-02.jsonl

A state file keeps, per mall and resource, the moment up to which every change
was read; each run reads the period from there (less `--lookback`) to its own
start, writes it to `--out` (a new file: an existing one is refused without
`--replace`), and moves the cursors once the file is complete and on disk. The
first run of a mall reads everything (orders: everything placed since
`--since`). Delivery is at least once: merge by the primary key each record
carries. See `cafe24_async.sync` for the rules.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from cafe24_async.cli.common import (
    EXIT_API,
    EXIT_AUTH,
    EXIT_OK,
    TOKEN_STORE_HINT,
    UsageError,
    add_credentials,
    make_client,
    parse_day,
    parse_pairs,
    run_async,
)
from cafe24_async.errors import ReauthorizeError, TokenStoreError
from cafe24_async.export.writers import FORMATS
from cafe24_async.paging.changes import incremental_routes
from cafe24_async.sync import DEFAULT_LOOKBACK, SyncReport, SyncSpec, run_sync

EXIT_CODES = """exit codes:
  0    done: the changes are in --out and every mall's cursor moved
  1    the API failed for a mall (it keeps its cursor; the others moved); run again
  2    bad input, or a damaged state file: nothing was read or written
  3    authorisation needed, or the token store is damaged
  4    --out exists (see --replace) or cannot be written, or another sync of this
       resource with this state file is running (its PID is named)
  130  Ctrl-C, 143 SIGTERM: no cursor moved; run again to read the same period
"""


def _incremental() -> str:
    names = []
    for route in incremental_routes():
        name = ".".join(route.namespace)
        name = name if route.api == "admin" else f"{route.api}.{name}"
        changes = route.changes
        assert changes is not None
        how = changes.field if changes.updated else "by " + "/".join(changes.date_types)
        names.append(f"  {name:24} {how}")
    return "resources that can sync (and by what):\n" + "\n".join(names) + "\n"


def register(sub: Any) -> None:
    cmd = sub.add_parser(
        "sync", help="the records that changed since the last run (a cursor per mall in a state file)",
        description=__doc__.split("\n\n", 2)[2] if __doc__ else None, epilog=_incremental() + EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    cmd.add_argument("resource", help="products, orders, customersprivacy, front.products, ...")
    cmd.add_argument("--mall", action="append", default=[], help="mall id (repeat for several)")
    cmd.add_argument("--state", required=True, help="the state file of cursors (made on the first run)")
    cmd.add_argument("--out", required=True,
                     help="FILE.jsonl or FILE.csv for this run's changes (a new file), or - for stdout")
    cmd.add_argument("--lookback", type=_seconds, default=DEFAULT_LOOKBACK, metavar="SECONDS",
                     help=f"read this much before each cursor again (default {DEFAULT_LOOKBACK:.0f}; "
                          "also 10m, 2h, 1d)")
    cmd.add_argument("--date-type", action="append", default=None, metavar="TYPE", dest="date_types",
                     help="orders (and other routes read by date type): the dates to read changes by, "
                          "repeat for several (default: placed, paid, shipping started, delivered, "
                          "cancellation/return/exchange completed)")
    cmd.add_argument("--since", type=parse_day,
                     help="a mall's first run: read what changed (orders: was placed) since this date")
    cmd.add_argument("--full", action="store_true",
                     help="read every mall as on its first run, whatever its cursor")
    cmd.add_argument("--replace", action="store_true", help="write over an existing --out")
    cmd.add_argument("--fields", help="comma-separated fields to fetch (the primary key is always added)")
    cmd.add_argument("--embed", help="comma-separated sub-resources to embed (variants, items, ...)")
    cmd.add_argument("--param", action="append", default=[], metavar="K=V", help="any documented filter")
    cmd.add_argument("--format", choices=FORMATS, help="output format when --out is -")
    cmd.add_argument("--concurrency", type=int, default=None, help="pages in flight per mall")
    cmd.add_argument("--quiet", action="store_true", help="no summary line")
    add_credentials(cmd, apis=True)
    cmd.set_defaults(handler=run_async(cmd_sync))


def _seconds(text: str) -> float:
    """`600`, `10m`, `2h`, `1d` as seconds."""
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    number, unit = (text[:-1], units[text[-1]]) if text and text[-1] in units else (text, 1)
    try:
        value = float(number) * unit
    except ValueError:
        raise argparse.ArgumentTypeError(f"bad duration {text!r}: seconds, or 10m, 2h, 1d") from None
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"bad duration {text!r}: must not be negative")
    return value


def sync_spec(args: argparse.Namespace) -> SyncSpec:
    params = parse_pairs(args.param)
    if args.fields:
        params["fields"] = [f.strip() for f in args.fields.split(",") if f.strip()]
    if args.embed:
        params["embed"] = [e.strip() for e in args.embed.split(",") if e.strip()]
    malls = tuple(args.mall)
    if not malls and not args.resource.startswith("dcollection."):
        raise UsageError("pass at least one --mall")
    return SyncSpec(args.resource, malls or ("partner",), params, args.format)


async def cmd_sync(args: argparse.Namespace) -> int:
    spec = sync_spec(args)
    async with make_client(args) as api:
        report = await run_sync(
            api, spec, args.out, state=args.state, lookback=args.lookback, date_types=args.date_types,
            since=args.since, full=args.full, replace=args.replace, concurrency=args.concurrency,
        )
    if not args.quiet or report.errors:
        print(report.summary(), file=sys.stderr)
    return sync_exit_code(report)


def sync_exit_code(report: SyncReport) -> int:
    failures = report.export.failures.values()
    damaged = next((e for e in failures if isinstance(e, TokenStoreError)), None)
    if damaged is not None:
        print(f"cafe24-async: {damaged}; {TOKEN_STORE_HINT}", file=sys.stderr)
        return EXIT_AUTH
    if any(isinstance(e, ReauthorizeError) for e in failures):
        print("cafe24-async: re-authorize the mall(s) above with `cafe24-async auth url`", file=sys.stderr)
        return EXIT_AUTH
    return EXIT_API if report.errors else EXIT_OK
