"""A bulk export: every record of one resource, from one or many malls, into one file.

Each mall is read by its own task (`read_pages`: largest pages, concurrent
within the mall's bucket, date windows, keyset past the offset cap); a single
writer appends the pages in the order they arrive, adding `mall_id` to each
record, and every `checkpoint_interval` seconds makes the output durable and
then saves the checkpoint (each mall's cursor after its last written page).

Exactly once: a page is either wholly before the checkpoint's byte size (kept,
and its cursor saved) or after it (cut off on resume, and read again). One
mall failing does not stop the others; its cursor stays in the checkpoint, so a
later run resumes it.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import attrs

from cafe24_async.export.checkpoint import Checkpoint, MallProgress, checkpoint_path
from cafe24_async.export.progress import Progress
from cafe24_async.export.resources import ExportError, resolve_resource
from cafe24_async.export.writers import format_for, make_writer
from cafe24_async.pagination import Cursor, Page, read_pages
from cafe24_async.routes import APIS
from cafe24_async.routes.route import Route

if TYPE_CHECKING:
    from cafe24_async.client import Cafe24
    from cafe24_async.mall import Mall


@attrs.frozen
class ExportSpec:
    """What to export: a resource, the malls, and the list params (filters, fields, embed)."""

    resource: str
    malls: tuple[str, ...]
    params: Mapping[str, Any] = attrs.field(factory=dict)
    format: str | None = None

    @property
    def route(self) -> Route:
        return resolve_resource(self.resource)

    def fingerprint(self, output: str) -> dict[str, Any]:
        return {
            "resource": self.route.qualified_name,
            "malls": list(self.malls),
            "params": {k: _plain(v) for k, v in sorted(self.params.items())},
            "format": format_for(output, self.format),
        }


def _plain(value: Any) -> Any:
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_plain(v) for v in value]
    return value if isinstance(value, (int, float, bool)) or value is None else str(value)


@attrs.define
class ExportReport:
    records: dict[str, int]
    #: Requests made by this run, retries included.
    requests: int
    pages: int
    counts: int
    retries: int
    throttled: int
    #: Pages the records need at the largest page size: ceil(N / limit max) per mall.
    minimum_pages: int
    seconds: float
    resumed: bool
    errors: dict[str, str] = attrs.field(factory=dict)
    output: str = "-"
    #: The exception that stopped each failed mall.
    failures: dict[str, BaseException] = attrs.field(factory=dict, repr=False)

    @property
    def total(self) -> int:
        return sum(self.records.values())

    def summary(self) -> str:
        state = "resumed, " if self.resumed else ""
        text = (
            f"{self.total:,} records from {len(self.records)} mall(s) to {self.output} "
            f"in {self.seconds:.1f}s ({state}{self.requests:,} requests: {self.pages:,} pages + "
            f"{self.counts:,} counts + {self.retries:,} retries; minimum {self.minimum_pages:,} pages; "
            f"{self.throttled} throttled)"
        )
        if self.errors:
            text += "; failed: " + "; ".join(f"{m}: {e}" for m, e in self.errors.items())
        return text


def _mall_of(api: Cafe24, route: Route, mall_id: str) -> Mall:
    if route.api == "dcollection":
        from cafe24_async.client import PARTNER

        _ = api.dcollection  # makes the partner context
        partner = api._partner
        assert partner is not None and mall_id == PARTNER
        return partner
    return api.mall(mall_id)


def _bucket_state(mall: Mall, route: Route) -> tuple[float, float]:
    """(level, capacity) of the pacing object the route's API uses, for the display."""
    limiter = mall.limiter(APIS[route.api].limiter)
    bucket = getattr(limiter, "bucket", None)
    capacity = float(bucket.capacity) if bucket is not None else float(getattr(limiter, "limit", 0))
    return limiter.level, capacity


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
    """Export `spec` to `output` (a path, or "-" for stdout), resuming from its checkpoint."""
    route = spec.route
    if route.api == "dcollection":
        from cafe24_async.client import PARTNER

        spec = attrs.evolve(spec, malls=(PARTNER,))
    fmt = format_for(output, spec.format)
    job = spec.fingerprint(output)
    ck_path = checkpoint_path(output) if output != "-" else None
    checkpoint = Checkpoint.load(ck_path) if ck_path is not None and not restart else None
    resumed = checkpoint is not None
    if checkpoint is not None and checkpoint.job != job:
        raise ExportError(
            f"{ck_path} belongs to a different export ({checkpoint.job['resource']}, "
            f"malls {checkpoint.job['malls']}); run again with --restart to start over"
        )
    if checkpoint is None:
        checkpoint = Checkpoint(job=job)
    writer = make_writer(output, fmt, checkpoint.size, checkpoint.columns)

    malls = {m: _mall_of(api, route, m) for m in spec.malls}
    base_requests = {m: mall.stats.requests for m, mall in malls.items()}
    base_routes = {m: mall.stats.by_route.copy() for m, mall in malls.items()}
    base_retries = {m: mall.stats.retries for m, mall in malls.items()}
    base_throttled = {m: mall.stats.throttled for m, mall in malls.items()}
    run_records: dict[str, int] = dict.fromkeys(spec.malls, 0)
    expected: dict[str, int | None] = {}
    errors: dict[str, str] = {}
    failures: dict[str, BaseException] = {}
    queue: asyncio.Queue[tuple[str, Page | BaseException | None]] = asyncio.Queue(maxsize=16)
    started = time.monotonic()

    async def produce(mall_id: str) -> None:
        state = checkpoint.malls.setdefault(mall_id, MallProgress())
        if state.done:
            await queue.put((mall_id, None))
            return
        cursor = Cursor.from_dict(state.cursor) if state.cursor else None
        try:
            async for page in read_pages(
                malls[mall_id], route, (), dict(spec.params), concurrency=concurrency, resume=cursor
            ):
                await queue.put((mall_id, page))
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # reported with its mall; the other malls go on
            await queue.put((mall_id, exc))
            return
        await queue.put((mall_id, None))

    def save() -> None:
        checkpoint.size = writer.durable()
        checkpoint.columns = writer.columns
        if ck_path is not None:
            checkpoint.save(ck_path)

    def show(force: bool = False) -> None:
        if progress is None:
            return
        states = [_bucket_state(m, route) for m in malls.values()]
        level = max((s[0] for s in states), default=0.0)
        capacity = max((s[1] for s in states), default=0.0)
        known = [e for e in expected.values() if e is not None]
        progress.update(
            sum(run_records.values()), sum(m.stats.requests - base_requests[k] for k, m in malls.items()),
            level, capacity, sum(known) if len(known) == len(malls) else None, force,
        )

    producers = [asyncio.create_task(produce(m)) for m in spec.malls]
    active = len(producers)
    last_save = time.monotonic()
    completed = False
    try:
        while active:
            mall_id, item = await queue.get()
            if item is None:
                checkpoint.malls[mall_id].done = True
                active -= 1
                continue
            if isinstance(item, BaseException):
                errors[mall_id] = f"{type(item).__name__}: {item}"
                failures[mall_id] = item
                active -= 1
                continue
            records = [r if "mall_id" in r else {"mall_id": mall_id, **r} for r in item.records]
            writer.write(records)
            state = checkpoint.malls[mall_id]
            state.cursor = item.cursor.to_dict()
            state.records += len(records)
            checkpoint.records += len(records)
            run_records[mall_id] += len(records)
            window_total = item.expected
            expected[mall_id] = (
                None if window_total is None else state.records - item.cursor.seen + window_total
            )
            if time.monotonic() - last_save >= checkpoint_interval:
                save()
                last_save = time.monotonic()
            show()
        completed = not errors
    finally:
        for task in producers:
            task.cancel()
        for task in producers:
            with contextlib.suppress(BaseException):
                await task
        save()
        writer.close()
        if completed and ck_path is not None:
            ck_path.unlink(missing_ok=True)

    pages = counts = 0
    minimum = 0
    for m, mall in malls.items():
        delta = mall.stats.by_route - base_routes[m]
        pages += delta[route.qualified_name]
        counts += sum(n for name, n in delta.items() if name.endswith(".count"))
        limit = route.pagination.limit_max if route.pagination else 1
        minimum += math.ceil(checkpoint.malls[m].records / limit)
    report = ExportReport(
        records=run_records,
        requests=sum(m.stats.requests - base_requests[k] for k, m in malls.items()),
        pages=pages,
        counts=counts,
        retries=sum(m.stats.retries - base_retries[k] for k, m in malls.items()),
        throttled=sum(m.stats.throttled - base_throttled[k] for k, m in malls.items()),
        minimum_pages=minimum,
        seconds=time.monotonic() - started,
        resumed=resumed,
        errors=errors,
        output=output,
        failures=failures,
    )
    show(force=True)
    return report
