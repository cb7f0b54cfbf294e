"""One partition, run to its end exactly once, whichever worker runs it and however often.

(For a sync partition, `run_sync` reads what changed since the mall's cursor:
at least once, as every sync is. A sync's output appears whole or not at all,
and its cursor moves after it; an attempt that finds the output published by
an earlier one answers it as done instead of reading again from a cursor that
may have moved already.)

`run_partition` is what a task does, without Celery: it holds the partition
(a lock file beside its output), answers the stored result if the partition
is already done, and otherwise runs the export job (`run_export`) into the
partition's file, from the checkpoint an earlier attempt left if there is one.

Why the output and its checkpoint live in a directory every worker reaches,
and not in Redis: the checkpoint is only worth the bytes it covers (it records
the output's size and their sha256, and a resume cuts off what comes after),
so it must sit beside the output, and the output must be where the worker
that resumes can open it. A shared directory (one machine's disk, or a POSIX
file system mounted on every worker: NFSv4, EFS, CephFS) keeps both together
with the guarantees the export already has: fsync before the checkpoint, an
atomic replace, a cut at the last good byte.

The partition lock (`FILE.partition.lock`, an `flock` through `export.lock`)
makes one process at a time run a partition: a second delivery of the same
task (the broker's visibility timeout ran out while the first still ran)
waits for it, then answers the stored result. The kernel drops an `flock`
when its process dies, kill -9 included, so the worker that takes over after
a crash gets the lock at once. (On NFS a lock of a dead machine is dropped
when the server's lease for it ends, 90 s by default.)

Order of events, and what a kill at each point leaves:
  lock -> no result yet -> export (checkpoints as it goes; a kill: resumed from
  the last one) -> export done, checkpoint removed -> result written (a kill
  between the two: the next attempt finds no checkpoint and writes the file
  afresh, still once per record) -> lock released.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import json
import os
import socket
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from cafe24_async.celery.errors import PartitionBusyError
from cafe24_async.celery.meter import Meter, metered
from cafe24_async.celery.partition import Partition, check_run
from cafe24_async.celery.result import DONE, FAILED, PartitionResult
from cafe24_async.errors import Cafe24ConnectionError, Cafe24Error, RateLimitError, ServerError
from cafe24_async.export import ExportReport, OutputBusyError, run_export
from cafe24_async.export.errors import OutputError, ResumeError
from cafe24_async.export.lock import OutputLock
from cafe24_async.export.output import output_errors
from cafe24_async.sync import SyncBusyError, run_sync

if TYPE_CHECKING:
    from cafe24_async.client import Cafe24

__all__ = ["PartitionPaths", "run_partition"]

#: Seconds between looks at a partition lock another process holds.
LOCK_POLL = 0.2

#: Failures worth another attempt later: the network, Redis, the server, the broker.
RETRYABLE: tuple[type[BaseException], ...] = (Cafe24ConnectionError, ServerError, RateLimitError)


@attrs.frozen
class PartitionPaths:
    """The files of one partition under the shared directory."""

    output: Path

    @classmethod
    def of(cls, root: str | os.PathLike[str], run: str, partition: Partition) -> PartitionPaths:
        return cls(Path(root) / partition.relpath(run))

    @property
    def result(self) -> Path:
        return Path(f"{self.output}.result.json")

    @property
    def lock(self) -> str:
        """What `OutputLock` is given: it locks `FILE.partition.lock`."""
        return f"{self.output}.partition"


def sync_state_path(root: str | os.PathLike[str], partition: Partition) -> Path:
    """A mall's sync cursors, shared by every run (one file per mall, so syncs of
    different malls never wait for each other's state file)."""
    return Path(root) / "sync-state" / f"{partition.mall_id}.json"


async def run_partition(
    api: Cafe24,
    run: str,
    partition: Partition,
    root: str | os.PathLike[str],
    *,
    checkpoint_interval: float = 1.0,
    concurrency: int | None = None,
    busy_wait: float = 30.0,
) -> PartitionResult:
    """Run `partition` of `run` into its file under `root`, or answer its stored result.

    A failure of the export (a mall's API error, a changed output) is answered as
    a result with status "failed" (`retryable` when another attempt may succeed);
    its checkpoint stays, so a later attempt resumes it. Raises `PartitionBusyError`
    when another live process held the partition for `busy_wait` seconds.
    """
    check_run(run)
    partition.check()
    paths = PartitionPaths.of(root, run, partition)
    async with _holding(paths, partition, busy_wait):
        stored = read_result(paths, run, partition)
        if stored is not None:
            return stored
        if partition.mode == "sync" and paths.output.exists():
            # An earlier attempt published the sync's output (a finished read) and died before
            # its result: reading again would start from a cursor it may have moved already.
            result = _published(run, partition, paths)
            write_result(paths, result)
            return result
        started, t0 = time.time(), time.monotonic()
        meter = Meter()
        failure: BaseException | None = None
        records = this_run = 0
        resumed = False
        with metered(meter):
            try:
                report = await _read(api, partition, paths, root, concurrency, checkpoint_interval)
            except SyncBusyError as busy:  # a sync of this mall and resource from another run is under way
                raise PartitionBusyError(partition.key, busy.holder, 0.0) from None
            except Cafe24Error as exc:  # bad input, a changed output, Redis: reported, not raised
                failure = exc
            else:
                records, this_run, resumed = report.grand_total, report.total, report.resumed
                failure = next(iter(report.failures.values()), None)
        result = PartitionResult(
            run=run, key=partition.key, mall_id=partition.mall_id, resource=partition.resource,
            since=partition.since, until=partition.until, status=FAILED if failure else DONE,
            records=records, records_this_run=this_run, requests=meter.requests, throttled=meter.throttled,
            seconds=round(time.monotonic() - t0, 6), started_at=started, finished_at=time.time(),
            resumed=resumed, output=str(partition.relpath(run)), worker=socket.gethostname(), pid=os.getpid(),
            error=f"{type(failure).__name__}: {failure}" if failure else None,
            retryable=isinstance(failure, RETRYABLE),
        )
        if result.ok:
            write_result(paths, result)
        return result


async def _read(
    api: Cafe24, partition: Partition, paths: PartitionPaths, root: str | os.PathLike[str],
    concurrency: int | None, checkpoint_interval: float,
) -> ExportReport:
    """The partition's export, or its sync, into its output."""
    if partition.mode == "sync":
        state = sync_state_path(root, partition)
        synced = await run_sync(api, partition.sync_spec(), str(paths.output), state=state,
                                since=partition.since, concurrency=concurrency)
        return synced.export
    return await run_export(api, partition.spec(), str(paths.output), concurrency=concurrency,
                            checkpoint_interval=checkpoint_interval)


def _published(run: str, partition: Partition, paths: PartitionPaths) -> PartitionResult:
    """The result of a sync whose output an earlier attempt published (its records counted)."""
    with output_errors(str(paths.output)), open(paths.output, encoding="utf-8", newline="") as fh:
        records = sum(1 for _ in csv.reader(fh)) - 1 if partition.format != "jsonl" else sum(1 for _ in fh)
    now = time.time()
    return PartitionResult(
        run=run, key=partition.key, mall_id=partition.mall_id, resource=partition.resource,
        since=partition.since, until=partition.until, status=DONE, records=max(0, records),
        records_this_run=0, requests=0, throttled=0, seconds=0.0, started_at=now, finished_at=now,
        resumed=True, output=str(partition.relpath(run)), worker=socket.gethostname(), pid=os.getpid(),
    )


@contextlib.asynccontextmanager
async def _holding(paths: PartitionPaths, partition: Partition, busy_wait: float) -> AsyncIterator[None]:
    """Hold the partition's lock, waiting up to `busy_wait` seconds for another holder."""
    deadline = time.monotonic() + busy_wait
    while True:
        lock = OutputLock(paths.lock)
        try:
            lock.__enter__()
        except OutputBusyError as exc:
            if time.monotonic() >= deadline:
                raise PartitionBusyError(partition.key, exc.holder, busy_wait) from None
            await asyncio.sleep(LOCK_POLL)
            continue
        break
    try:
        yield
    finally:
        lock.__exit__(None, None, None)


def read_result(paths: PartitionPaths, run: str, partition: Partition) -> PartitionResult | None:
    """The stored result of a finished partition, None when it has none."""
    try:
        text = paths.result.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise OutputError(f"cannot read {paths.result}: {exc.strerror or exc}") from exc
    try:
        data: Any = json.loads(text)
        result = PartitionResult.from_dict(data)
    except (ValueError, TypeError, AttributeError):
        raise ResumeError(
            f"{paths.result} is damaged; remove it (and {paths.output}) to run the partition again"
        ) from None
    if result.run != run or result.key != partition.key:
        raise ResumeError(f"{paths.result} belongs to partition {result.key} of run {result.run}")
    return result


def write_result(paths: PartitionPaths, result: PartitionResult) -> None:
    """Store `result` beside the output, atomically and durably."""
    with output_errors(str(paths.result)):
        fd, tmp = tempfile.mkstemp(prefix=f".{paths.result.name}.", dir=paths.result.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(result.to_dict(), fh)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, paths.result)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        folder = os.open(paths.result.parent, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)
