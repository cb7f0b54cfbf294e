"""`bulk_apply`: many rows written to one route of one mall, each exactly once, resumable.

    report = await bulk_apply(mall, "products.variants.update_many", rows,
                              journal="stock.journal", results="stock.results.jsonl")

How a run goes:

1. Every row is checked (`bulk.plan`); a bad row stops the job before anything
   is sent. The journal (`bulk.journal`) is locked (one run per journal) and
   read back: rows with an outcome keep it.
2. Calls an earlier run sent without recording their answer (Ctrl-C, SIGTERM,
   kill -9, a crash) are settled first: after the staleness window, their rows'
   records are read back and compared with what the rows sent
   (`bulk.readback`). The mall shows the row: it was applied, ok. It does not:
   it was not applied, and it is sent again. Nothing to compare it with: a PUT
   (absolute values) is sent again, a POST is reported "unknown" and not sent
   again unless `resend_ambiguous` asks for it. The comparison takes the
   record's values to be this job's: another writer changing the same fields
   meanwhile can make an applied row look unapplied (it is then sent again, the
   same absolute values).
3. The remaining rows go out in calls (`Plan.chunks`: up to the route's cap per
   call), `concurrency` calls at a time, each paced by the mall's bucket and
   quota and spaced to leave `keep_headroom` percent of the quota to others
   (`bulk.pace`). Before a call leaves, its intent (the rows and a fingerprint
   of the request) is fsynced to the journal; after its answer, each row's
   outcome (`bulk.send`): applied, failed, refused-so-send-again (after a delay
   that doubles, at most `max_attempts` calls per row), or ambiguous, which is
   settled as in 2 while the other calls go on.
4. With `verify`, once every row is done and the staleness window has passed,
   the records of the rows that succeeded are read back; a row the mall accepted
   but does not show is "unchanged", naming the field (and the setting that
   explains it, `bulk.effects`).
5. The results file gets one line per input row (`bulk.results`).

The journal is kept after a complete run, so the same call again changes
nothing and writes the same results. `dry_run` checks the rows and the settings
the writes depend on and sends no write (`bulk.preflight`).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections import Counter
from collections.abc import Coroutine, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from cafe24_async.bulk.errors import BulkInputError, JournalError
from cafe24_async.bulk.files import JournalLock
from cafe24_async.bulk.journal import OK, Journal, JournalState, Outcome
from cafe24_async.bulk.pace import Headroom
from cafe24_async.bulk.plan import Chunk, Plan, Row, fingerprint, make_plan, prepare_rows
from cafe24_async.bulk.preflight import Conditions, preflight
from cafe24_async.bulk.profile import profile_for, resolve_route
from cafe24_async.bulk.progress import BulkProgress
from cafe24_async.bulk.readback import Check, Reader
from cafe24_async.bulk.results import BulkReport, RowResult, write_results
from cafe24_async.bulk.rows import InputRows, given_rows
from cafe24_async.bulk.send import Sender, Verdict
from cafe24_async.errors import Cafe24Error
from cafe24_async.routes.route import Route

if TYPE_CHECKING:
    from cafe24_async.mall import Mall


def _positive(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise BulkInputError(f"{attribute.name} must be a number above 0, not {value!r}")


def _not_negative(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise BulkInputError(f"{attribute.name} must be a number of at least 0, not {value!r}")


def _whole(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise BulkInputError(f"{attribute.name} must be a whole number of at least 1, not {value!r}")


def _percent(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 100:
        raise BulkInputError(f"{attribute.name} must be a percentage from 0 to below 100, not {value!r}")


@attrs.frozen(kw_only=True)
class BulkSettings:
    """How a bulk write paces itself and what it may send again."""

    #: Calls in flight at once.
    concurrency: int = attrs.field(default=4, validator=_whole)
    #: Percent of the mall's usage quota (calls and processing time) left for other apps:
    #: the job spaces its calls as usage nears 100 - keep_headroom.
    keep_headroom: float = attrs.field(default=30.0, validator=_percent)
    #: Seconds between calls when usage reaches that ceiling.
    max_interval: float = attrs.field(default=5.0, validator=_positive)
    #: Seconds after a write during which a read may still show the record as it was.
    stale_seconds: float = attrs.field(default=5.0, validator=_not_negative)
    #: Calls that may carry one row (refusals and re-sends included).
    max_attempts: int = attrs.field(default=5, validator=_whole)
    #: Send again a row whose call may have been applied when that cannot be checked and
    #: the route is not idempotent (a POST without a read route). Off: such rows are "unknown".
    resend_ambiguous: bool = False
    #: Send the valid rows and report the others as failed, instead of refusing the job.
    skip_invalid: bool = False
    #: Rows per call, below the route's cap (None: the cap).
    chunk_size: int | None = None
    #: Seconds before rows a server refused for now go again (doubling, at most 30).
    retry_delay: float = attrs.field(default=0.5, validator=_not_negative)


async def bulk_apply(
    mall: Mall,
    route: Route | str,
    rows: InputRows | Iterable[Mapping[str, Any]],
    *,
    journal: str | Path | None = None,
    results: str | Path | None = None,
    settings: BulkSettings | None = None,
    verify: bool = False,
    dry_run: bool = False,
    restart: bool = False,
    progress: BulkProgress | None = None,
) -> BulkReport:
    """Write `rows` to `route` on `mall`, each exactly once (see the module docstring).

    `route` is a write route, "METHOD /path" or its Python name
    (`products.variants.update_many`). Each row maps parameter names to values:
    the route's path values and body fields. `journal` is the file that makes the
    job resumable and exactly-once across crashes (None: in memory, for one run);
    `results` gets one line per row. `restart` drops the journal (rows the mall
    already took may then be sent again).

    Raises `BulkInputError` (bad route, columns or rows: nothing sent),
    `JournalError` (a journal of another job, damaged, or missing while its results
    exist), `JournalBusyError` (another run holds the journal), `BulkOutputError`,
    or the library error that stopped the run (authorisation, a failed read);
    a stopped run resumes when called again. Rows that fail are reported, not raised.
    """
    settings = settings if settings is not None else BulkSettings()
    if not isinstance(settings, BulkSettings):
        raise BulkInputError("settings must be a BulkSettings")
    profile = profile_for(resolve_route(route))
    given = rows if isinstance(rows, InputRows) else given_rows(rows)
    plan = make_plan(mall, profile, given, skip_invalid=settings.skip_invalid, chunk_size=settings.chunk_size)
    results_path = Path(results) if results is not None else None
    if dry_run:
        return await _dry_run(plan, settings, results_path)
    if journal is None:
        book, state = Journal.memory(plan.job)
        report = await BulkRun(plan, book, state, settings, progress).run(verify)
        return _finish(report, results_path)
    path = _journal_path(journal, results_path)
    with JournalLock(path):
        book, state = Journal.open(path, plan.job, restart=restart, results=results_path)
        try:
            report = await BulkRun(plan, book, state, settings, progress).run(verify)
        finally:
            book.close()
        return _finish(report, results_path)


def _journal_path(journal: str | Path, results: Path | None) -> Path:
    path = Path(journal)
    if results is not None and results.absolute() == path.absolute():
        raise BulkInputError(f"the journal and the results file are the same file ({path})")
    return path


def _finish(report: BulkReport, results: Path | None) -> BulkReport:
    if results is not None:
        write_results(results, report.results)
        report.results_file = str(results)
    return report


async def _dry_run(plan: Plan, settings: BulkSettings, results: Path | None) -> BulkReport:
    mall = plan.mall
    clock = mall.context.clock
    started, requests = clock.monotonic(), mall.stats.requests
    reader = Reader(mall, plan.profile, settings.concurrency)
    conditions = Conditions(mall, plan.profile)
    rows = await preflight(plan, reader, conditions)
    report = BulkReport(
        route=f"{plan.profile.route.method} {plan.profile.route.path}", mall=mall.mall_id, rows=plan.total,
        results=rows, requests=mall.stats.requests - requests, reads=reader.reads + conditions.reads,
        seconds=clock.monotonic() - started, dry_run=True,
    )
    return _finish(report, results)


class BulkRun:
    """One run of a bulk write: settle what an earlier run left open, send the rest."""

    def __init__(
        self, plan: Plan, journal: Journal, state: JournalState, settings: BulkSettings,
        progress: BulkProgress | None,
    ) -> None:
        self.plan = plan
        self.profile = plan.profile
        self.mall = plan.mall
        self.clock = self.mall.context.clock
        self.journal = journal
        self.state = state
        self.settings = settings
        self.progress = progress
        self.sender = Sender(self.mall, self.profile)
        self.reader = Reader(self.mall, self.profile, settings.concurrency)
        self.conditions = Conditions(self.mall, self.profile)
        self.headroom = Headroom(self.mall.quota, self.clock, settings.keep_headroom, settings.max_interval)
        self.rows = {row.index: row for row in plan.rows}
        self.final: dict[int, Outcome] = {i: o for i, o in state.outcomes.items() if i in self.rows}
        self.attempts: Counter[int] = Counter(state.attempts)
        self.last_error: dict[int, str] = dict(state.last_error)
        self.numbers = itertools.count(state.last_chunk + 1)
        self.queue: asyncio.Queue[Chunk] = asyncio.Queue()
        self._work = 0
        self._wake = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        self.fatal: BaseException | None = None
        #: When the last write call of this run was answered (verify waits the stale window from it).
        self.last_write = -float("inf")
        self.calls = self.ambiguous = self.resent = 0

    # -- the run ----------------------------------------------------------------------

    async def run(self, verify: bool) -> BulkReport:
        started, requests = self.clock.monotonic(), self.mall.stats.requests
        if self.state.resumed:
            self.last_write = started  # an earlier run may have written just before this one began
        workers = [asyncio.create_task(self._worker()) for _ in range(self.settings.concurrency)]
        try:
            self._begin()
            self._show(force=True)
            if self._work:
                await self._wake.wait()
        finally:
            for task in [*workers, *self._tasks]:
                task.cancel()
            for task in [*workers, *self._tasks]:
                with contextlib.suppress(BaseException):
                    await task
        if self.fatal is not None:
            raise self.fatal
        results = self._results()
        if verify:
            results = await self._verify(results)
        self._show(force=True)
        return BulkReport(
            route=f"{self.profile.route.method} {self.profile.route.path}", mall=self.mall.mall_id,
            rows=self.plan.total, results=results, requests=self.mall.stats.requests - requests,
            calls=self.calls, reads=self.reader.reads + self.conditions.reads, ambiguous=self.ambiguous,
            resent=self.resent, seconds=self.clock.monotonic() - started, resumed=self.state.resumed,
            verified=verify, highest_usage=self.headroom.highest, spaced_seconds=self.headroom.waited,
        )

    def _begin(self) -> None:
        """Settle the calls an earlier run left open, and queue every pending row."""
        unsettled: set[int] = set()
        for chunk in self.state.open.values():
            rows = self._open_rows(chunk.number, chunk.order, chunk.rows, chunk.fingerprint)
            if rows:
                unsettled.update(r.index for r in rows)
                self.ambiguous += len(rows)
                # The call went out before this run began: its stale window started before now.
                not_before = self.clock.monotonic() + self.settings.stale_seconds
                self._spawn(self._settle(chunk.number, rows, not_before))
        pending = [r for r in self.plan.rows if r.index not in self.final and r.index not in unsettled]
        spent = {r.index: Outcome("retry", self.last_error.get(r.index)) for r in pending
                 if self.attempts[r.index] >= self.settings.max_attempts}
        if spent:  # earlier runs sent them as often as allowed
            self._decide(None, spent, "attempts")
        self._again([r for r in pending if r.index not in spent], delay=0.0)

    def _open_rows(self, number: int, order: list[int], open_rows: set[int], fp: str) -> list[Row]:
        """The rows of call `number` still without an outcome, once the call is known to be
        this job's (its fingerprint is that of these rows as sent)."""
        if any(i not in self.rows for i in order):
            raise JournalError(self.journal.path or "in memory", f"names rows of call {number} that are not "
                               "valid rows of this job")
        whole = tuple(self.rows[i] for i in order)
        if fingerprint(prepare_rows(self.mall, self.profile, whole)) != fp:
            raise JournalError(self.journal.path or "in memory", f"records call {number} with a fingerprint "
                               "that is not that of its rows as this job sends them")
        return [self.rows[i] for i in order if i in open_rows and i not in self.final]

    async def _worker(self) -> None:
        while True:
            chunk = await self.queue.get()
            try:
                await self._send(chunk)
            except asyncio.CancelledError:
                raise
            except BaseException as exc:  # the journal, a bug: stop the run, the journal holds the rest
                self._stop(exc)
            finally:
                self._done()

    async def _send(self, chunk: Chunk) -> None:
        if self.fatal is not None:
            return
        await self.headroom.wait()
        if self.fatal is not None:
            return
        indexes = [r.index for r in chunk.rows]
        self.journal.intent(chunk.number, indexes, chunk.fingerprint)
        self.attempts.update(indexes)
        self.calls += 1
        verdict = await self.sender.send(chunk, resent=all(self.attempts[i] > 1 for i in indexes))
        self.last_write = self.clock.monotonic()
        self.headroom.observe()
        self._decide(chunk.number, verdict.outcomes, "answer")
        if verdict.ambiguous:
            self.ambiguous += len(verdict.ambiguous)
            not_before = self.clock.monotonic() + self.settings.stale_seconds
            self._spawn(self._settle(chunk.number, list(verdict.ambiguous), not_before))
        if verdict.fatal:
            self._stop(_fatal_error(verdict))

    # -- outcomes ---------------------------------------------------------------------

    def _decide(self, number: int | None, outcomes: dict[int, Outcome], why: str) -> None:
        """Record outcomes (journal first), then send the "retry" rows again after a delay."""
        decided = {i: self._limit(i, o) for i, o in outcomes.items()}
        self.journal.outcome(number, decided, why)
        again: list[Row] = []
        for index, outcome in decided.items():
            if outcome.final:
                self.final[index] = outcome
            else:
                if outcome.error:
                    self.last_error[index] = outcome.error
                again.append(self.rows[index])
        if again:
            self.resent += len(again)
            tries = max(self.attempts[r.index] for r in again)
            self._again(again, delay=min(30.0, self.settings.retry_delay * 2 ** max(0, tries - 1)))
        self._show()

    def _limit(self, index: int, outcome: Outcome) -> Outcome:
        """A "retry" past the attempts allowed is a failure."""
        if outcome.final or self.attempts[index] < self.settings.max_attempts:
            return outcome
        return Outcome("failed", f"gave up after {self.attempts[index]} calls; last: {outcome.error}")

    def _again(self, rows: list[Row], delay: float) -> None:
        if not rows:
            return
        if delay <= 0:
            for chunk in self.plan.chunks(rows, self.numbers):
                self._work += 1
                self.queue.put_nowait(chunk)
            return
        self._spawn(self._later(rows, delay))

    async def _later(self, rows: list[Row], delay: float) -> None:
        await self.clock.sleep(delay)
        self._again(rows, 0.0)

    async def _settle(self, number: int, rows: list[Row], not_before: float) -> None:
        """Decide rows whose call may have been applied, by reading their records back."""
        wait = not_before - self.clock.monotonic()
        if wait > 0:
            await self.clock.sleep(wait)
        checks: dict[int, Check] = {}
        if self.reader.can_read:
            checks = await self.reader.checks(rows)  # a failed read stops the run; the journal keeps it open
        outcomes = {row.index: await self._judge(row, checks.get(row.index)) for row in rows}
        self._decide(number, outcomes, "reread")

    async def _judge(self, row: Row, check: Check | None) -> Outcome:
        """What the record read back says of a row whose call may have been applied."""
        if check is None or (check.record is not None and check.compared == 0):
            if self.profile.idempotent or self.settings.resend_ambiguous:
                return Outcome("retry", "its call may have been applied; sent again (nothing to compare)")
            return Outcome(
                "unknown", "its call may have been applied and the route has no read to check it; not sent "
                "again (resend_ambiguous=True / --resend-ambiguous sends it anyway)",
            )
        if check.record is None:
            return Outcome("retry", "not found when read back, so not applied")
        if check.matches:
            return OK
        fields = [m.field for m in check.mismatches]
        reasons = await self.conditions.reasons(fields, check.record)
        if reasons:
            text = "; ".join(m.text() for m in check.mismatches)
            return Outcome("unchanged", f"{text} ({'; '.join(reasons)})")
        return Outcome("retry", "read back as not applied: " + "; ".join(m.text() for m in check.mismatches))

    # -- the end ----------------------------------------------------------------------

    def _results(self) -> list[RowResult]:
        keys = self.profile.item_key
        results: list[RowResult] = []
        for index in range(self.plan.total):
            if index in self.plan.invalid:
                line, problem = self.plan.invalid[index]
                results.append(RowResult(line, "failed", f"not sent: {problem}"))
                continue
            row = self.rows[index]
            outcome = self.final.get(index) or Outcome("failed", self.last_error.get(index) or "not finished")
            results.append(RowResult(row.line, outcome.status, outcome.error, row.names(keys)))
        return results

    async def _verify(self, results: list[RowResult]) -> list[RowResult]:
        """Read back the rows that succeeded, once the stale window has passed; a row the
        mall does not show becomes "unchanged"."""
        if not self.reader.can_read:
            return results
        wait = self.last_write + self.settings.stale_seconds - self.clock.monotonic()
        if wait > 0:
            await self.clock.sleep(wait)
        done = [self.rows[i] for i, o in self.final.items() if o.status == "ok"]
        checks = await self.reader.checks(done)
        changed: dict[int, RowResult] = {}
        for row in done:
            check = checks[row.index]
            if check.record is None:
                changed[row.index] = RowResult(row.line, "unchanged", "not found when read back",
                                               row.names(self.profile.item_key))
            elif check.mismatches:
                reasons = await self.conditions.reasons([m.field for m in check.mismatches], check.record)
                text = "; ".join(m.text() for m in check.mismatches)
                if reasons:
                    text += f" ({'; '.join(reasons)})"
                changed[row.index] = RowResult(row.line, "unchanged", text, row.names(self.profile.item_key))
        return [changed.get(i, result) for i, result in enumerate(results)]

    # -- bookkeeping --------------------------------------------------------------------

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        self._work += 1

        async def guarded() -> None:
            try:
                await work
            except asyncio.CancelledError:
                raise
            except BaseException as exc:
                self._stop(exc)
            finally:
                self._done()

        task = asyncio.create_task(guarded())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _done(self) -> None:
        self._work -= 1
        if self._work <= 0:
            self._wake.set()

    def _stop(self, error: BaseException) -> None:
        if self.fatal is None:
            self.fatal = error
        self._wake.set()

    def _show(self, force: bool = False) -> None:
        if self.progress is None:
            return
        done = len(self.final) + len(self.plan.invalid)
        self.progress.update(done, self.plan.total, self.calls, self.mall.bucket_level, self.mall.quota.usage,
                             force)


def _fatal_error(verdict: Verdict) -> BaseException:
    return verdict.error if verdict.error is not None else Cafe24Error("the run was stopped")
