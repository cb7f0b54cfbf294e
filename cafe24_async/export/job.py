"""A bulk export: every record of one resource, from one or many malls, into one file.

`run_export` first checks every argument (`export.arguments`: nothing is
created or sent for a bad one), then takes the output's lock (`export.lock`:
one run per file), reads the checkpoint (`export.checkpoint`) and opens the
output, checking that it still holds the bytes the checkpoint covers
(`export.output`). Only then does `ExportRun` start.

Each mall is read by its own task (`read_pages`: largest pages, concurrent
within the mall's bucket, date windows, keyset past the offset cap); a single
writer appends the pages in the order they arrive, adding `mall_id` to each
record, and every `checkpoint_interval` seconds makes the output durable and
then saves the checkpoint (each mall's cursor after its last written page).

Exactly once (`ExportRun.write_page`): a page is either wholly before the
checkpoint's byte size (kept, and its cursor saved) or after it (cut off on
resume, and read again). One mall failing does not stop the others; its cursor
stays in the checkpoint, so a later run resumes it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import TYPE_CHECKING

from cafe24_async.clock import Clock
from cafe24_async.export.arguments import ExportPlan, plan_export
from cafe24_async.export.checkpoint import Checkpoint, MallProgress, checkpoint_path
from cafe24_async.export.errors import RESTART, ResumeError
from cafe24_async.export.lock import OutputLock
from cafe24_async.export.output import Output, output_errors
from cafe24_async.export.progress import Progress, expected_total
from cafe24_async.export.report import Baseline, ExportReport
from cafe24_async.export.spec import ExportSpec
from cafe24_async.export.writers import RecordWriter, make_writer
from cafe24_async.paging import Cursor, Page, read_pages
from cafe24_async.routes import APIS
from cafe24_async.routes.route import Route

if TYPE_CHECKING:
    from cafe24_async.client import Cafe24
    from cafe24_async.mall import Mall

__all__ = ["ExportReport", "ExportRun", "ExportSpec", "run_export"]

#: What a mall's reader hands the writer: a page, the error that stopped it, or None when done.
Item = tuple[str, Page | BaseException | None]


async def run_export(
    api: Cafe24,
    spec: ExportSpec,
    output: str,
    *,
    restart: bool = False,
    concurrency: int | None = None,
    progress: Progress | None = None,
    checkpoint_interval: float = 1.0,
) -> ExportReport:
    """Export `spec` to `output` (a path, or "-" for stdout), resuming from its checkpoint.

    Raises `ExportError` (or `ValidationError`, `ConfigurationError`) for bad
    arguments before anything is written, `OutputBusyError` when another run
    holds the output, and `ResumeError` when the output no longer matches its
    checkpoint. A mall that fails is reported in `ExportReport.errors`.
    """
    plan = plan_export(api, spec, output, restart=restart, concurrency=concurrency,
                       checkpoint_interval=checkpoint_interval)
    if plan.output == "-":
        writer = make_writer(Output.stdout(), plan.format, None)
        run = ExportRun(plan, Checkpoint(job=plan.job), writer, None, resumed=False)
        return await run.run(concurrency, progress, checkpoint_interval)
    with OutputLock(plan.output):
        run = _file_run(plan, restart)
        return await run.run(concurrency, progress, checkpoint_interval)


def _file_run(plan: ExportPlan, restart: bool) -> ExportRun:
    """The run into a file: from its checkpoint once the output is checked, or afresh."""
    ck_path = checkpoint_path(plan.output)
    checkpoint = _resume_point(ck_path, plan.job, restart)
    path = Path(plan.output)
    if checkpoint is None:
        writer = make_writer(Output.fresh(path), plan.format, None)
        return ExportRun(plan, Checkpoint(job=plan.job), writer, ck_path, resumed=False)
    writer = make_writer(Output.resume(path, checkpoint.mark, ck_path), plan.format, checkpoint.columns)
    return ExportRun(plan, checkpoint, writer, ck_path, resumed=True)


def _resume_point(ck_path: Path, job: dict[str, object], restart: bool) -> Checkpoint | None:
    """The checkpoint to go on from: None to start over (`restart` drops the old one first)."""
    if restart:
        with output_errors(f"the checkpoint {ck_path}"):
            ck_path.unlink(missing_ok=True)
        return None
    checkpoint = Checkpoint.load(ck_path)
    if checkpoint is not None and checkpoint.job != job:
        raise ResumeError(
            f"{ck_path} belongs to a different export ({checkpoint.job['resource']}, "
            f"malls {checkpoint.job['malls']}); {RESTART}"
        )
    return checkpoint


class ExportRun:
    """One run: a reader task per mall feeding one writer that owns the output and checkpoint."""

    def __init__(
        self, plan: ExportPlan, checkpoint: Checkpoint, writer: RecordWriter, ck_path: Path | None,
        *, resumed: bool,
    ) -> None:
        self.plan = plan
        self.checkpoint = checkpoint
        self.writer = writer
        self.ck_path = ck_path
        self.resumed = resumed
        self.records: dict[str, int] = dict.fromkeys(plan.malls, 0)
        self.expected: dict[str, int | None] = {}
        self.failures: dict[str, BaseException] = {}
        self.queue: asyncio.Queue[Item] = asyncio.Queue(maxsize=16)
        #: The client's injected clock (every mall of a run shares it).
        self.clock: Clock = next(iter(plan.malls.values())).context.clock
        dr = plan.route.date_range
        #: The date range read in windows, for the estimate of records not counted yet.
        self.whole_range = (
            (plan.spec.params[dr.start], plan.spec.params[dr.end])
            if dr is not None and plan.spec.params.get(dr.start) and plan.spec.params.get(dr.end) else None
        )

    async def run(self, concurrency: int | None, progress: Progress | None, interval: float) -> ExportReport:
        started = self.clock.monotonic()
        if progress is not None:
            progress.start()  # the display's elapsed time is the run's, as the summary's is
        baseline = Baseline(self.plan.malls)
        readers = [asyncio.create_task(self.read(m, concurrency)) for m in self.plan.malls]
        completed = False
        try:
            await self.consume(len(readers), interval, lambda force: self.show(progress, baseline, force))
            completed = not self.failures
        finally:
            await _stop(readers)
            self.finish(completed)
        limit = self.plan.spec.params.get("limit")
        return baseline.report(
            self.plan.route, self.records, {m: s.records for m, s in self.checkpoint.malls.items()},
            seconds=self.clock.monotonic() - started, resumed=self.resumed, failures=self.failures,
            output=self.plan.output, limit=int(limit) if limit is not None else None,
        )

    async def read(self, mall_id: str, concurrency: int | None) -> None:
        """Put every page of one mall on the queue, then None (or the error that stopped it)."""
        state = self.checkpoint.malls.setdefault(mall_id, MallProgress())
        if state.done:
            await self.queue.put((mall_id, None))
            return
        cursor = Cursor.from_dict(state.cursor) if state.cursor else None
        pages = read_pages(self.plan.malls[mall_id], self.plan.route, (), dict(self.plan.spec.params),
                           concurrency=concurrency, resume=cursor)
        await feed(self.queue, mall_id, pages)

    async def consume(self, active: int, interval: float, show: Callable[[bool], None]) -> None:
        """Write pages as they come until every reader is done or failed."""
        last_save = self.clock.monotonic()
        while active:
            mall_id, item = await self.queue.get()
            if isinstance(item, Page):
                self.write_page(mall_id, item)
                if self.clock.monotonic() - last_save >= interval:
                    self.save()
                    last_save = self.clock.monotonic()
                show(False)
                continue
            active -= 1
            if item is None:
                state = self.checkpoint.malls[mall_id]
                state.done = True
                self.expected[mall_id] = state.records  # exact now
            else:
                self.failures[mall_id] = item

    def write_page(self, mall_id: str, page: Page) -> None:
        """Append one page, then move the mall's cursor past it.

        The bytes and the cursor reach the checkpoint together: `save()` records
        the cursor only with the durable size and sha256 that include the page.
        If the write fails, nothing moves, and the output refuses to be saved.
        """
        records = [r if "mall_id" in r else {"mall_id": mall_id, **r} for r in page.records]
        self.writer.write(records)
        state = self.checkpoint.malls[mall_id]
        state.cursor = page.cursor.to_dict()
        state.records += len(records)
        self.checkpoint.records += len(records)
        self.records[mall_id] += len(records)
        self.expected[mall_id] = expected_total(
            state.records - page.cursor.seen, page.expected, page.cursor.window, self.whole_range,
        )

    def save(self) -> None:
        """Make the output durable, then record what it covers in the checkpoint."""
        mark = self.writer.durable()
        self.checkpoint.size, self.checkpoint.sha256 = mark.size, mark.sha256
        self.checkpoint.columns = self.writer.columns
        if self.ck_path is not None:
            self.checkpoint.save(self.ck_path)

    def finish(self, completed: bool) -> None:
        """The final checkpoint (or none, when every mall is done), then close the output."""
        try:
            if self.writer.healthy:
                self.save()
        finally:
            self.writer.close()
        if completed and self.ck_path is not None:
            with output_errors(f"the checkpoint {self.ck_path}"):
                self.ck_path.unlink(missing_ok=True)

    def show(self, progress: Progress | None, baseline: Baseline, force: bool) -> None:
        if progress is None:
            return
        states = [_bucket_state(m, self.plan.route) for m in self.plan.malls.values()]
        level = max((s[0] for s in states), default=0.0)
        capacity = max((s[1] for s in states), default=0.0)
        known = [e for e in self.expected.values() if e is not None]
        total = sum(known) if len(known) == len(self.plan.malls) else None
        done = sum(s.records for s in self.checkpoint.malls.values())  # every run, resumed ones included
        progress.update(sum(self.records.values()), baseline.requests(), level, capacity, total, force,
                        done=done)


async def _stop(tasks: list[asyncio.Task[None]]) -> None:
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(BaseException):
            await task


def _bucket_state(mall: Mall, route: Route) -> tuple[float, float]:
    """(level, capacity) of the pacing object the route's API uses, for the display."""
    limiter = mall.limiter(APIS[route.api].limiter)
    bucket = getattr(limiter, "bucket", None)
    capacity = float(bucket.capacity) if bucket is not None else float(getattr(limiter, "limit", 0))
    return limiter.level, capacity


async def feed(queue: asyncio.Queue[Item], mall_id: str, pages: AsyncIterator[Page]) -> None:
    """Put every page of one mall on `queue`, then None; or the error that stopped it (the
    other malls go on, and the writer reports it with its mall)."""
    try:
        async for page in pages:
            await queue.put((mall_id, page))
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        await queue.put((mall_id, exc))
        return
    await queue.put((mall_id, None))
