"""One partition at a time, without Celery: the worker's loop, the stored result, the lock.

The sandbox and redis-server run as processes of their own; the partitions run
in this process through `WorkerLoop` (one event loop in a thread, one client)
and `run_in_process`, as a Celery pool thread runs them.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest

from benchmarks.bench_redis import free_port, redis_server
from cafe24_async.celery import (
    Partition,
    PartitionBusyError,
    PartitionPaths,
    PartitionResult,
    WorkerSettings,
    combine,
    plan,
    plan_sync,
    run_partition,
)
from cafe24_async.celery.worker import WorkerLoop, close_process_loop, run_in_process
from cafe24_async.export import ExportError, ResumeError
from cafe24_async.redis_support import RedisUnavailableError
from tests.celery.cluster import CLIENT_ID, CLIENT_SECRET, seed_tokens
from tests.celery.sandbox_process import ROOT, SandboxProcess, sandbox_process

SANDBOX = {
    "leak_rate": 50.0, "bucket_capacity": 10, "products": 150, "orders": 40, "variants_per_product": 1,
    "customers": 5, "reviews": 5, "categories": 3, "coupons": 2, "brands": 2,
}


@attrs.frozen
class Stack:
    sandbox: SandboxProcess
    redis_url: str
    prefix: str

    def settings(self, export_dir: Path, **changes: Any) -> WorkerSettings:
        return WorkerSettings(
            client_id=CLIENT_ID, client_secret=CLIENT_SECRET, redis_url=self.redis_url,
            export_dir=str(export_dir), base_url=self.sandbox.base_url, leak_rate=SANDBOX["leak_rate"],
            bucket_capacity=int(SANDBOX["bucket_capacity"]), max_per_second=None, redis_prefix=self.prefix,
            checkpoint_interval=0.0, **changes,
        )

    def requests(self, mall_id: str) -> int:
        return int(self.sandbox.stats()[mall_id]["requests"])


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    with sandbox_process(SANDBOX, 3) as sandbox, redis_server() as redis_url:
        prefix = f"test-{uuid.uuid4().hex[:8]}"
        seed_tokens(redis_url, prefix, sandbox.tokens())
        yield Stack(sandbox, redis_url, prefix)


@pytest.fixture(autouse=True, scope="module")
def _close_loops() -> Iterator[None]:
    yield
    close_process_loop()  # the loops `run_in_process` started in this process


def in_threads(count: int, work: Any) -> list[Any]:
    """`work(i)` in `count` threads at once (as a Celery thread pool runs tasks); their answers."""
    answers: list[Any] = [None] * count
    errors: list[BaseException] = []

    def one(i: int) -> None:
        try:
            answers[i] = work(i)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    return answers


def test_one_loop_and_one_client_run_partitions_from_many_threads(stack: Stack, tmp_path: Path) -> None:
    parts = plan(["m0000", "m0001", "m0002"], ["products"], params={"products": {"limit": 20}})
    worker = WorkerLoop(stack.settings(tmp_path))
    try:
        results = in_threads(3, lambda i: worker.run("r1", parts[i]))
        api = worker.api
        again = in_threads(3, lambda i: worker.run("r1", parts[i]))
        assert worker.api is api is not None
        assert worker.partitions == 6
    finally:
        worker.close()
    products = stack.sandbox.ids("products")
    for part, result in zip(parts, results, strict=True):
        assert result.ok and result.records == len(products[part.mall_id]) == 150
        assert result.requests == 1 + 150 // 20 + 1  # a count, then pages of 20
        lines = (tmp_path / part.relpath("r1")).read_text().splitlines()
        assert len(lines) == 150
    assert again == results  # a partition done before answers its stored result, sending nothing
    assert combine(tmp_path, "r1", parts, tmp_path / "products.jsonl") == 450
    assert len((tmp_path / "products.jsonl").read_text().splitlines()) == 450


def test_a_second_delivery_waits_for_the_first_and_answers_the_same_result(stack: Stack, tmp_path: Path) -> None:
    (part,) = plan(["m0001"], ["orders"], "2025-11-01", "2026-10-31", params={"orders": {"limit": 5}})
    settings = stack.settings(tmp_path)
    before = stack.requests("m0001")
    worker = WorkerLoop(settings)
    try:
        first, second = in_threads(2, lambda i: worker.run("dup", part))
    finally:
        worker.close()
    assert first == second and first.ok and first.records == 40
    assert stack.requests("m0001") - before == first.requests  # run once, not twice


def test_the_lock_of_a_process_killed_with_sigkill_is_free_at_once(stack: Stack, tmp_path: Path) -> None:
    (part,) = plan(["m0002"], ["products"])
    paths = PartitionPaths.of(tmp_path, "k9", part)
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import sys, time
            from cafe24_async.export.lock import OutputLock
            with OutputLock({paths.lock!r}):
                print("HELD", flush=True)
                sys.stdin.read()
        """)],
        cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "HELD"

        async def attempt() -> PartitionResult:
            from cafe24_async.celery.worker import Resources

            resources = await Resources.open(stack.settings(tmp_path))
            try:
                return await run_partition(resources.api, "k9", part, tmp_path, busy_wait=0)
            finally:
                await resources.close()

        with pytest.raises(PartitionBusyError, match=f"PID {holder.pid}"):
            asyncio.run(attempt())
        holder.kill()  # SIGKILL: no cleanup runs, the lock file stays
        holder.wait(10)
        assert Path(paths.lock + ".lock").exists()
        result = asyncio.run(attempt())
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait(10)
    assert result.ok and result.records == 150


def test_asyncio_run_per_task_gives_the_same_outcome(stack: Stack, tmp_path: Path) -> None:
    (part,) = plan(["m0000"], ["orders"], "2025-11-01", "2026-10-31")
    result = run_in_process(stack.settings(tmp_path, loop="per-task"), "pt", part)
    assert result.ok and result.records == 40 and not result.resumed


def test_a_worker_without_redis_fails_with_a_library_error(stack: Stack, tmp_path: Path) -> None:
    (part,) = plan(["m0000"], ["products"])
    settings = attrs.evolve(stack.settings(tmp_path), redis_url=f"redis://127.0.0.1:{free_port()}/0")
    worker = WorkerLoop(settings)
    try:
        with pytest.raises(RedisUnavailableError):
            worker.run("nr", part)
    finally:
        worker.close()
    assert not (tmp_path / part.relpath("nr")).exists()


def test_combine_names_partitions_that_are_not_done(tmp_path: Path) -> None:
    parts = plan(["m0000", "m0001"], ["products"])
    with pytest.raises(ExportError, match="2 partitions are not done: products/m0000/all, products/m0001/all"):
        combine(tmp_path, "r", parts, tmp_path / "all.jsonl")
    assert not (tmp_path / "all.jsonl").exists()


def test_a_stored_result_that_is_not_this_partitions_is_refused(stack: Stack, tmp_path: Path) -> None:
    other, part = Partition("m0001", "products"), Partition("m0000", "products")
    run_in_process(stack.settings(tmp_path), "r", other)
    paths = PartitionPaths.of(tmp_path, "r", part)
    paths.output.parent.mkdir(parents=True)
    paths.result.write_bytes(PartitionPaths.of(tmp_path, "r", other).result.read_bytes())
    with pytest.raises(ResumeError, match="belongs to partition products/m0001/all of run r"):
        run_in_process(stack.settings(tmp_path), "r", part)
    paths.result.write_text('{"run": "r"')
    with pytest.raises(ResumeError, match="is damaged; remove it"):
        run_in_process(stack.settings(tmp_path), "r", part)


def test_a_sync_partition_keeps_the_mall_cursor_beside_the_outputs(stack: Stack, tmp_path: Path) -> None:
    (part,) = plan_sync(["m0002"], ["products"])
    settings = stack.settings(tmp_path)
    first = run_in_process(settings, "s1", part)
    assert first.ok and first.records == 150  # a mall's first sync reads everything
    assert (tmp_path / "sync-state" / "m0002.json").exists()
    assert str(part.relpath("s1")) == "s1/products/m0002/changes.jsonl"

    # An attempt killed after publishing its output and before its result: the next
    # one answers the published file instead of reading from the moved cursor.
    PartitionPaths.of(tmp_path, "s1", part).result.unlink()
    before = stack.requests("m0002")
    again = run_in_process(settings, "s1", part)
    assert again.ok and again.resumed and again.records == 150 and again.records_this_run == 0
    assert stack.requests("m0002") == before

    later = run_in_process(settings, "s2", part)  # the next run: only what changed since the cursor
    assert later.ok and later.records < 150
