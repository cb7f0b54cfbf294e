"""`cafe24-async apply`: rows of a CSV or JSON Lines file written to one route, each exactly once.

    cafe24-async apply products.variants.update_many --in stock.csv --mall acme
    cafe24-async apply products.variants.inventories.update --in stock.jsonl --mall acme --verify
    cafe24-async apply "PUT /api/v2/admin/shipments" --in invoices.csv --mall acme --map invoice=tracking_no
    cafe24-async apply products.update --in prices.csv --mall acme --dry-run

Columns are the route's parameters by name: its path values (`product_no`) and
body fields (`variant_code`, `quantity`); `--map COLUMN=PARAM` renames a column,
`--ignore COLUMN` leaves one out. An empty cell sends nothing for that field.
The results go to `--out` (default: the input's name with `.results.jsonl`),
one line per row; the journal beside them (`RESULTS.journal`) makes the run
resumable: after Ctrl-C, SIGTERM, a crash or kill -9, run the same command
again. See `cafe24_async.bulk` for what happens to each row.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from cafe24_async.bulk import (
    BULK_FORMS,
    BulkInputError,
    BulkOutputError,
    BulkProgress,
    BulkReport,
    BulkSettings,
    JournalError,
    bulk_apply,
    read_rows,
)
from cafe24_async.cli.common import (
    EXIT_INPUT,
    EXIT_OK,
    EXIT_OUTPUT,
    UsageError,
    add_credentials,
    make_client,
    run_async,
)

#: Exit code of a run that went through every row, some of which did not end as asked.
EXIT_ROWS = 5

EXIT_CODES = """exit codes:
  0    done: every row ok (a dry run: every row valid)
  1    the API failed and the run stopped; run the same command again to resume
  2    bad input (the route, a column, a row, or a journal of another job): nothing was sent
  3    authorisation needed, or the token store is damaged
  4    the results or journal cannot be written, or another run holds the journal (its PID is named)
  5    done, but some rows failed, are unchanged or unknown (a dry run: invalid or ineffective);
       the results file says which and why
  130  Ctrl-C: run the same command again to resume
  143  SIGTERM (e.g. a container stop): the same as Ctrl-C
"""


def register(sub: Any) -> None:
    cmd = sub.add_parser("apply", help="write the rows of a CSV/JSONL file to a route, each exactly once",
                         description=__doc__, epilog=EXIT_CODES,
                         formatter_class=argparse.RawDescriptionHelpFormatter)
    cmd.add_argument("resource", nargs="?",
                     help="the write route: its name (products.variants.update_many) or 'METHOD /path'")
    cmd.add_argument("--in", dest="input", metavar="FILE", help="the rows: FILE.csv or FILE.jsonl")
    cmd.add_argument("--mall", help="mall id")
    cmd.add_argument("--out", help="results file, one line per row (.jsonl or .csv; default "
                     "INPUT.results.jsonl, for a dry run INPUT.dry-run.jsonl)")
    cmd.add_argument("--journal", help="the journal (default RESULTS.journal)")
    cmd.add_argument("--format", choices=("csv", "jsonl"), help="the input's format (default: its extension)")
    cmd.add_argument("--map", action="append", default=[], metavar="COLUMN=PARAM",
                     help="send a column as this parameter (repeat for several)")
    cmd.add_argument("--ignore", action="append", default=[], metavar="COLUMN", help="leave a column out")
    cmd.add_argument("--verify", action="store_true",
                     help="after writing, read every record back and flag rows the mall does not show")
    cmd.add_argument("--dry-run", action="store_true",
                     help="check every row and the settings the writes depend on; send no write")
    cmd.add_argument("--restart", action="store_true",
                     help="drop the journal and start over (rows already applied may be sent again)")
    cmd.add_argument("--skip-invalid", action="store_true",
                     help="send the valid rows, report the others failed")
    cmd.add_argument("--resend-ambiguous", action="store_true",
                     help="send again rows whose call may have been applied when that cannot be "
                     "checked (POSTs)")
    cmd.add_argument("--keep-headroom", type=float, default=30.0, metavar="PCT",
                     help="percent of the mall's usage quota left to other apps (default 30)")
    cmd.add_argument("--stale-seconds", type=float, default=5.0, metavar="S",
                     help="seconds a read may show a record as it was before a write (default 5)")
    cmd.add_argument("--concurrency", type=int, default=4, help="calls in flight (default 4)")
    cmd.add_argument("--chunk-size", type=int, default=None, help="rows per call, below the route's cap")
    cmd.add_argument("--max-attempts", type=int, default=5, help="calls that may carry one row (default 5)")
    cmd.add_argument("--list", action="store_true", help="list the routes that take several rows per call")
    cmd.add_argument("--quiet", action="store_true", help="no progress display")
    add_credentials(cmd)
    cmd.set_defaults(handler=run_async(cmd_apply))


def settings_of(args: argparse.Namespace) -> BulkSettings:
    return BulkSettings(
        concurrency=args.concurrency, keep_headroom=args.keep_headroom, stale_seconds=args.stale_seconds,
        max_attempts=args.max_attempts, resend_ambiguous=args.resend_ambiguous,
        skip_invalid=args.skip_invalid,
        chunk_size=args.chunk_size,
    )


def mapping_of(pairs: list[str]) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for pair in pairs:
        column, sep, param = pair.partition("=")
        if not sep or not column or not param:
            raise UsageError(f"--map takes COLUMN=PARAM, got {pair!r}")
        if column in mapping:
            raise UsageError(f"--map gives the column {column!r} twice")
        mapping[column] = param
    return mapping


def default_out(source: str, dry_run: bool = False) -> str:
    """INPUT.results.jsonl beside the input (a dry run: INPUT.dry-run.jsonl, so that it never
    takes the place of a real run's results)."""
    path = Path(source)
    return str(path.with_name(path.stem + (".dry-run.jsonl" if dry_run else ".results.jsonl")))


async def cmd_apply(args: argparse.Namespace) -> int:
    if args.list:
        for form in BULK_FORMS:
            print(f"{form.method:6} {form.path:60} {form.cap:>4} per call  ({form.source})")
        return EXIT_OK
    if not args.resource or not args.input or not args.mall:
        raise UsageError("apply needs a RESOURCE, --in FILE and --mall ID (or --list)")
    try:
        settings = settings_of(args)
        rows = read_rows(args.input, mapping_of(args.map), args.ignore, args.format)
        out = args.out or default_out(args.input, args.dry_run)
        journal = args.journal or out + ".journal"
        progress = None if args.quiet or args.dry_run else BulkProgress(args.resource)
        async with make_client(args) as api:
            report = await bulk_apply(
                api.mall(args.mall), args.resource, rows, journal=journal, results=out, settings=settings,
                verify=args.verify, dry_run=args.dry_run, restart=args.restart, progress=progress,
            )
    except (BulkInputError, JournalError) as exc:
        print(f"cafe24-async: error: {exc}", file=sys.stderr)
        return EXIT_INPUT
    except BulkOutputError as exc:
        print(f"cafe24-async: {exc}", file=sys.stderr)
        return EXIT_OUTPUT
    if progress is not None:
        progress.finish(report.summary())
    elif not args.quiet or report.problems:
        print(report.summary(), file=sys.stderr)
    return apply_exit_code(report)


def apply_exit_code(report: BulkReport) -> int:
    """0 when every row ended as asked, else 5 (the results file names the rows)."""
    return EXIT_ROWS if report.problems else EXIT_OK
