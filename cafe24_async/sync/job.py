"""An incremental sync: what changed since the last run, from one or many malls, into one file.

A daily export of everything costs a mall's bucket for minutes every day
(100,000 products are 1,000 pages). A sync reads only what changed: the state
file (`sync.state`) keeps, per (mall, resource), the moment up to which every
change was read, and the next run reads the period from that moment, less a
lookback, to its own start (`paging.changes`: update-time windows, or orders by
the dates a change sets, each record once).

- **The first run** of a mall (no cursor yet) reads everything: the whole list
  for routes with an update-time filter (or, given `since`, what changed since
  then); for routes read by date type, every record created since `since` (by
  the first date type, the one every record has: orders by order date).
- **The cursor** saved is the run's start, taken on the client's clock before
  the first request. A change made after that moment may or may not be in this
  run, and is read again by the next, whose period starts at that moment less
  the lookback. Why not the latest update time seen? It would be the server's
  own clock, but a change made just before it and not yet visible to the list
  (the stale window after a write) would fall behind the cursor for good,
  and a quiet mall would never move its cursor. The start time only moves
  forward by what was read; its one risk, a client clock ahead of the server's,
  is what the lookback (default 10 minutes) covers.
- **Output**: written to `OUTPUT.partial`, made durable, then renamed to the
  output, so a reader never sees a half-written file; an existing output is
  refused unless `replace`. Only then are the cursors saved (atomically, under
  the state file's lock), so a run that dies leaves the old cursors and its
  period is read again: delivery is at least once, and each record carries its
  primary key (and `mall_id`) so a merge downstream is exact.
- One run per (state file, resource) at a time (a lock with the holder's PID);
  one mall failing does not stop the others, and keeps its old cursor.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from cafe24_async.durable import fsync_folder
from cafe24_async.errors import ValidationError
from cafe24_async.export.arguments import typed_params
from cafe24_async.export.errors import ExportError, OutputBusyError, OutputError
from cafe24_async.export.job import feed
from cafe24_async.export.lock import OutputLock
from cafe24_async.export.output import Output, output_errors, output_format
from cafe24_async.export.report import Baseline, ExportReport
from cafe24_async.export.resources import resolve_resource
from cafe24_async.export.writers import RecordWriter, make_writer
from cafe24_async.paging import Page
from cafe24_async.paging.changes import changes_of, incremental_routes
from cafe24_async.paging.keyset import with_key_field
from cafe24_async.routes.route import Route
from cafe24_async.sync.reads import MallRead, check_plan, plan_read, read_mall
from cafe24_async.sync.state import Cursor, SyncState, run_lock, updating

if TYPE_CHECKING:
    from cafe24_async.client import Cafe24
    from cafe24_async.mall import Mall

#: Seconds read again before each cursor, unless a run says otherwise.
DEFAULT_LOOKBACK = 600.0
WHERE = "run_sync"


class SyncBusyError(OutputError):
    """Another run of the same resource with the same state file is under way."""

    def __init__(self, state: Path, resource: str, busy: OutputBusyError) -> None:
        self.lock, self.holder = busy.lock, busy.holder
        who = f"PID {busy.holder}" if busy.holder is not None else "its PID not yet written"
        super().__init__(
            f"another sync of {resource} with the state {state} is running ({who}, holding {busy.lock}); "
            "wait for it to finish or stop it, then run again"
        )


@attrs.frozen
class SyncSpec:
    """What to sync: a resource, the malls, and the list params (filters, fields, embed)."""

    resource: str
    malls: tuple[str, ...]
    params: Mapping[str, Any] = attrs.field(factory=dict)
    format: str | None = None


@attrs.define
class SyncReport:
    """What one sync run did."""

    export: ExportReport
    #: Per mall: "first" (no cursor before: everything) or "changes" (since its cursor).
    modes: dict[str, str]
    #: The cursor each mall now has (malls that failed keep their old one, not listed).
    read_until: dict[str, datetime]
    #: Where each mall's period started (None: a full read), lookback included.
    read_from: dict[str, datetime | None]

    @property
    def errors(self) -> dict[str, str]:
        return self.export.errors

    @property
    def total(self) -> int:
        return self.export.total

    def summary(self) -> str:
        text = self.export.summary()
        firsts = [m for m, mode in self.modes.items() if mode == "first"]
        parts = []
        if firsts:
            parts.append(f"first run (everything) for {', '.join(firsts)}")
        starts = {m: s for m, s in self.read_from.items() if s is not None and self.modes[m] == "changes"}
        if starts:
            earliest = min(starts.values())
            parts.append(f"changes since {earliest.isoformat(timespec='seconds')}"
                         f"{' (earliest)' if len(set(starts.values())) > 1 else ''}")
        if self.read_until:
            parts.append(f"cursor now {max(self.read_until.values()).isoformat(timespec='seconds')}")
        return f"{text}; {'; '.join(parts)}" if parts else text


async def run_sync(
    api: Cafe24,
    spec: SyncSpec,
    output: str,
    *,
    state: str | os.PathLike[str],
    lookback: float | timedelta = DEFAULT_LOOKBACK,
    date_types: Sequence[str] | None = None,
    since: datetime | date | str | None = None,
    full: bool = False,
    replace: bool = False,
    concurrency: int | None = None,
) -> SyncReport:
    """Sync `spec` into `output` (a path, or "-" for stdout) and move the cursors in `state`.

    Raises `ExportError`/`ValidationError` for bad arguments and `StateError` for a
    damaged state file before anything is read or written, `OutputError` when the
    output exists (without `replace`) or cannot be written, `SyncBusyError` when
    another run of this resource holds the state file. A mall that fails is
    reported in `SyncReport.errors` and keeps its old cursor.
    """
    route, malls, params, fmt = _check(api, spec, output, lookback, date_types, full, replace)
    state_path = Path(os.fspath(state))
    lock = run_lock(state_path, spec.resource)
    try:
        lock.__enter__()
    except OutputBusyError as busy:
        raise SyncBusyError(state_path, spec.resource, busy) from None
    try:
        with contextlib.ExitStack() as stack:
            if output != "-":
                stack.enter_context(OutputLock(output))
                _refuse_existing(output, replace)
            saved = SyncState.load(state_path)
            started = api.clock.now()
            reads = {
                m: plan_read(route, mall, _until(saved.cursor(m, spec.resource)), since=since,
                             date_types=date_types, full=full, until=started, lookback=lookback)
                for m, mall in malls.items()
            }
            for read in reads.values():  # every mall's read checked before anything is sent
                check_plan(route, read, params)
            run = SyncRun(route, reads, params, concurrency)
            report = await run.write(output, fmt)
            done = {m for m in reads if m not in report.failures}
            if done:
                with updating(state_path) as current:
                    for m in done:
                        current.set(m, spec.resource, Cursor(started, run.records[m], started.isoformat()))
    finally:
        lock.__exit__(None, None, None)
    return SyncReport(
        report,
        {m: "first" if r.first else "changes" for m, r in reads.items()},
        dict.fromkeys(sorted(done), started),
        {m: r.read_from for m, r in reads.items()},
    )


def _until(cursor: Cursor | None) -> datetime | None:
    return cursor.read_until if cursor is not None else None


def _check(
    api: Cafe24, spec: SyncSpec, output: str, lookback: Any, date_types: Any, full: bool, replace: bool,
) -> tuple[Route, dict[str, Mall], dict[str, Any], str]:
    if not isinstance(spec, SyncSpec):
        raise ExportError(f"spec must be a SyncSpec, not {type(spec).__name__}")
    if not isinstance(output, str) or not output:
        raise ExportError("output must be a file path, or '-' for standard output")
    for name, flag in (("full", full), ("replace", replace)):
        if not isinstance(flag, bool):
            raise ValidationError(name, "must be True or False", WHERE)
    seconds = lookback.total_seconds() if isinstance(lookback, timedelta) else lookback
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not 0 <= seconds < 10_000_000:
        raise ValidationError("lookback", "must be seconds (0 or more) or a timedelta", WHERE)
    route = _resolve(spec.resource)
    changes_of(route)  # a route that cannot tell what changed: ValidationError naming those that can
    fmt = output_format(output, spec.format)
    if isinstance(spec.malls, str) or not isinstance(spec.malls, tuple) or not spec.malls:
        raise ExportError("malls must be a tuple of one or more mall ids, e.g. ('acme',)")
    if route.api == "dcollection":
        from cafe24_async.client import PARTNER

        malls = {PARTNER: api.partner}
    else:
        malls = {m: api.mall(m) for m in dict.fromkeys(spec.malls)}
    params = typed_params(route, spec.params)
    if "offset" in params:
        raise ExportError("offset: a sync pages by itself from the first record")
    if params.get("fields") and route.primary_key:
        params["fields"] = with_key_field(params["fields"], route.primary_key)
    return route, malls, params, fmt


def _resolve(resource: str) -> Route:
    """The list route of `resource`: an exportable one, or one the API answers whole that can
    tell what changed (script tags)."""
    try:
        return resolve_resource(resource)
    except ExportError:
        for route in incremental_routes():
            name = ".".join(route.namespace)
            if isinstance(resource, str) and resource.removeprefix("admin.") in (name, f"{route.api}.{name}"):
                return route
        raise


def _refuse_existing(output: str, replace: bool) -> None:
    if not replace and os.path.exists(output):
        raise OutputError(
            f"{output} exists: a sync writes each run's changes to a new file (load it and move it "
            "away, or name the output by date); replace=True (--replace) writes over it"
        )


class SyncRun:
    """One run: a reader task per mall feeding one writer that owns the output."""

    def __init__(
        self, route: Route, reads: dict[str, MallRead], params: dict[str, Any], concurrency: int | None,
    ) -> None:
        self.route = route
        self.reads = reads
        self.params = params
        self.concurrency = concurrency
        self.records: dict[str, int] = dict.fromkeys(reads, 0)
        self.failures: dict[str, BaseException] = {}
        self.queue: asyncio.Queue[tuple[str, Page | BaseException | None]] = asyncio.Queue(maxsize=16)

    async def read(self, mall_id: str) -> None:
        await feed(self.queue, mall_id, read_mall(self.route, self.reads[mall_id], self.params,
                                                  self.concurrency))

    async def write(self, output: str, fmt: str) -> ExportReport:
        """Every mall's pages into the output, published whole; the run's report."""
        malls = {m: r.mall for m, r in self.reads.items()}
        baseline = Baseline(malls)
        clock = next(iter(malls.values())).context.clock
        began = clock.monotonic()
        partial = Path(output + ".partial") if output != "-" else None
        writer = make_writer(Output.fresh(partial) if partial is not None else Output.stdout(), fmt, None)
        readers = [asyncio.create_task(self.read(m)) for m in self.reads]
        try:
            await self._consume(writer, len(readers))
            writer.durable()
        finally:
            for task in readers:
                task.cancel()
            for task in readers:
                with contextlib.suppress(BaseException):
                    await task
            writer.close()
        if partial is not None:
            _publish(partial, output)
        limit = self.params.get("limit")
        return baseline.report(
            self.route, self.records, self.records, seconds=clock.monotonic() - began, resumed=False,
            failures=self.failures, output=output, limit=int(limit) if limit is not None else None,
        )

    async def _consume(self, writer: RecordWriter, active: int) -> None:
        while active:
            mall_id, item = await self.queue.get()
            if isinstance(item, Page):
                records = [r if "mall_id" in r else {"mall_id": mall_id, **r} for r in item.records]
                writer.write(records)
                self.records[mall_id] += len(records)
                continue
            active -= 1
            if item is not None:
                self.failures[mall_id] = item


def _publish(partial: Path, output: str) -> None:
    """The finished (durable) partial file renamed to the output, the rename made durable."""
    with output_errors(output):
        os.replace(partial, output)
    fsync_folder(Path(output).resolve().parent)
