"""One event loop and one client per worker process, kept from task to task.

A Celery task is a plain function run by a pool thread (or process). The
partitions it runs are asyncio code, and they gain from sharing: one aiohttp
connection pool, one Redis connection pool, one `Mall` per mall with its
learned bucket state and its token in memory. So each worker process starts
one event loop in a thread of its own on its first task, builds the client
there (a `RedisTokenStore` and a `RedisBucket` over one Redis client), and
every task hands its partition to that loop and waits for the answer. Many
pool threads (`--pool threads -c N`) then mean N partitions in flight on one
loop, most of them waiting for their mall's bucket.

The other way, `asyncio.run` with a new client for every task
(`WorkerSettings(loop="per-task")`), is kept for comparison and for pools
that cannot share a loop; benchmarks/bench_celery.py measures both.

After a fork (the prefork pool) the parent's loop thread does not exist in
the child: a process only ever uses a loop it started itself (its PID is
checked), and `forget_after_fork` drops the parent's.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from typing import TYPE_CHECKING

import attrs

from cafe24_async.auth.redis_store import RedisTokenStore
from cafe24_async.celery.meter import trace_config
from cafe24_async.celery.partition import Partition
from cafe24_async.celery.result import PartitionResult
from cafe24_async.celery.runner import run_partition
from cafe24_async.celery.settings import WorkerSettings
from cafe24_async.client import Cafe24
from cafe24_async.ratelimit.redis_bucket import RedisBucket, RedisBucketSettings
from cafe24_async.redis_support import connect

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["WorkerLoop", "close_process_loop", "forget_after_fork", "process_loop", "run_in_process"]

log = logging.getLogger("cafe24_async.celery")

#: Seconds `close` waits for the client to close and the loop thread to end.
CLOSE_TIMEOUT = 30.0


@attrs.define
class Resources:
    """A worker's client and what it shares through Redis."""

    api: Cafe24
    redis: Redis
    store: RedisTokenStore
    bucket: RedisBucket

    @classmethod
    async def open(cls, settings: WorkerSettings) -> Resources:
        """Connect to Redis (checked now: a worker without it fails its first task, not a
        page halfway) and build the client."""
        redis = connect(settings.redis_url)
        try:
            store = RedisTokenStore(redis, settings.client_id, prefix=settings.redis_prefix)
            bucket = RedisBucket(redis, RedisBucketSettings(prefix=settings.redis_prefix))
            await store.check()
            await bucket.check()
            api = Cafe24(
                settings.client_id, settings.client_secret, token_store=store, shared_bucket=bucket,
                trace_configs=[trace_config()], **settings.client_kwargs(),
            )
        except BaseException:
            await redis.aclose()
            raise
        return cls(api, redis, store, bucket)

    async def close(self) -> None:
        try:
            await self.api.close()
            await self.bucket.aclose()
        finally:
            await self.redis.aclose()

    async def run(self, settings: WorkerSettings, run: str, partition: Partition) -> PartitionResult:
        return await run_partition(
            self.api, run, partition, settings.export_dir, checkpoint_interval=settings.checkpoint_interval,
            concurrency=settings.concurrency, busy_wait=settings.busy_wait,
        )


class WorkerLoop:
    """The process's event loop, running in a thread of its own, and the client on it."""

    def __init__(self, settings: WorkerSettings) -> None:
        self.settings = settings
        self.pid = os.getpid()
        self.loop = asyncio.new_event_loop()
        #: Partitions handed to this loop so far.
        self.partitions = 0
        self._resources: Resources | None = None
        self._opening: asyncio.Lock | None = None
        self._thread = threading.Thread(target=self._serve, name="cafe24-worker-loop", daemon=True)
        self._thread.start()

    def __repr__(self) -> str:
        state = "running" if self._thread.is_alive() else "stopped"
        return f"<WorkerLoop pid={self.pid} {state} partitions={self.partitions}>"

    def _serve(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_forever()
        finally:
            self.loop.close()

    @property
    def api(self) -> Cafe24 | None:
        """The client, once the first partition has opened it."""
        return self._resources.api if self._resources is not None else None

    def run(self, run: str, partition: Partition) -> PartitionResult:
        """Run `partition` on the loop; blocks the calling (pool) thread until it is done."""
        future = asyncio.run_coroutine_threadsafe(self._partition(run, partition), self.loop)
        return future.result()

    async def _partition(self, run: str, partition: Partition) -> PartitionResult:
        resources = await self._open()
        self.partitions += 1
        return await resources.run(self.settings, run, partition)

    async def _open(self) -> Resources:
        if self._opening is None:
            self._opening = asyncio.Lock()
        async with self._opening:
            if self._resources is None:
                self._resources = await Resources.open(self.settings)
                log.info("process %d: one event loop and one client for its partitions from now on", self.pid)
            return self._resources

    def close(self, timeout: float = CLOSE_TIMEOUT) -> None:
        """Close the client and stop the loop (the worker is shutting down)."""
        if not self._thread.is_alive():
            return
        resources, self._resources = self._resources, None
        try:
            if resources is not None:
                asyncio.run_coroutine_threadsafe(resources.close(), self.loop).result(timeout)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(timeout)


def run_per_task(settings: WorkerSettings, run: str, partition: Partition) -> PartitionResult:
    """Run `partition` with `asyncio.run` and a client of its own (the comparison)."""

    async def once() -> PartitionResult:
        resources = await Resources.open(settings)
        try:
            return await resources.run(settings, run, partition)
        finally:
            await resources.close()

    return asyncio.run(once())


#: The loops this process started (one per settings; a worker has one settings).
_loops: list[WorkerLoop] = []
_guard = threading.Lock()


def process_loop(settings: WorkerSettings) -> WorkerLoop:
    """This process's `WorkerLoop` for `settings`, started on first use."""
    with _guard:
        for loop in _loops:
            if loop.pid == os.getpid() and loop.settings == settings:
                return loop
        loop = WorkerLoop(settings)
        _loops.append(loop)
        return loop


def run_in_process(settings: WorkerSettings, run: str, partition: Partition) -> PartitionResult:
    """Run one partition the way `settings.loop` says: on the process's loop, or on one of its own."""
    if settings.loop == "per-task":
        return run_per_task(settings, run, partition)
    return process_loop(settings).run(run, partition)


def forget_after_fork() -> None:
    """In a forked child: the parent's loop threads are not here, so start afresh."""
    with _guard:
        _loops[:] = [loop for loop in _loops if loop.pid == os.getpid()]


def close_process_loop() -> None:
    """Close this process's loops and clients (the worker is shutting down)."""
    with _guard:
        mine = [loop for loop in _loops if loop.pid == os.getpid()]
        _loops.clear()
    for loop in mine:
        loop.close()
