"""Everything a Celery run needs, each part a process of its own: the sandbox, a
redis-server (broker, result backend, tokens and buckets), workers.

`cluster(...)` starts the sandbox and Redis, puts each mall's token in the
Redis token store (the workers' only source of tokens), and gives a producer
app configured as the workers are; `Cluster.start_worker` adds workers with
their settings in their environment (credentials included: never in a task
message). Everything is stopped when the block ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs

from benchmarks.bench_redis import redis_server
from cafe24_async import Token
from cafe24_async.auth.redis_store import RedisTokenStore
from cafe24_async.celery import make_app
from cafe24_async.redis_support import connect
from tests.celery.sandbox_process import SandboxProcess, sandbox_process
from tests.celery.workers import Worker, start_worker, stop_all

CLIENT_ID = "sandbox-client"
CLIENT_SECRET = "sandbox-secret"


@attrs.define
class Cluster:
    sandbox: SandboxProcess
    redis_url: str
    export_dir: Path
    log_dir: Path
    prefix: str
    visibility_timeout: float
    worker_env: dict[str, str]
    app: Any
    workers: list[Worker] = attrs.field(factory=list)

    def start_worker(self, name: str, *, concurrency: int, loop: str = "shared") -> Worker:
        env = {**self.worker_env, "CAFE24_WORKER_LOOP": loop}
        worker = start_worker(name, env, self.log_dir, concurrency=concurrency)
        self.workers.append(worker)
        return worker

    def redis_values(self) -> dict[str, bytes]:
        """Every string, list, hash and set value in Redis by key (for looking for secrets)."""

        async def read() -> dict[str, bytes]:
            redis = connect(self.redis_url)
            values: dict[str, bytes] = {}
            try:
                for db in (0, 1):
                    await redis.execute_command("SELECT", db)
                    async for key in redis.scan_iter(count=1000):
                        kind = (await redis.type(key)).decode()
                        if kind == "string":
                            raw = await redis.get(key) or b""
                        elif kind == "list":
                            raw = b"\n".join(await redis.lrange(key, 0, -1))
                        elif kind == "hash":
                            raw = b"\n".join(k + b"=" + v for k, v in (await redis.hgetall(key)).items())
                        elif kind in ("set", "zset"):
                            members = await (redis.smembers(key) if kind == "set" else redis.zrange(key, 0, -1))
                            raw = b"\n".join(members)
                        else:
                            raw = b""
                        values[f"{db}:{key.decode()}"] = raw
            finally:
                await redis.aclose()
            return values

        return asyncio.run(read())


@contextlib.contextmanager
def cluster(
    tmp: Path, sandbox_config: dict[str, Any], malls: int, *, visibility_timeout: float,
    checkpoint_interval: float = 1.0, max_per_second: int = 0,
) -> Iterator[Cluster]:
    """The sandbox (`sandbox_config`, `malls` malls), Redis and a producer app, for the block."""
    export_dir, log_dir = tmp / "shared", tmp / "logs"
    export_dir.mkdir()
    log_dir.mkdir()
    prefix = f"test-{uuid.uuid4().hex[:8]}"
    with sandbox_process(sandbox_config, malls) as sandbox, redis_server() as redis_url:
        broker = redis_url.rsplit("/", 1)[0] + "/1"  # broker and results apart from tokens and buckets
        seed_tokens(redis_url, prefix, sandbox.tokens())
        env = {
            "CAFE24_CLIENT_ID": CLIENT_ID, "CAFE24_CLIENT_SECRET": CLIENT_SECRET,
            "CAFE24_REDIS_URL": redis_url, "CAFE24_REDIS_PREFIX": prefix,
            "CAFE24_EXPORT_DIR": str(export_dir), "CAFE24_BASE_URL": sandbox.base_url,
            "CAFE24_ANALYTICS_BASE_URL": sandbox.root_url, "CAFE24_DCOLLECTION_BASE_URL": sandbox.root_url,
            "CAFE24_LEAK_RATE": str(sandbox_config.get("leak_rate", 2.0)),
            "CAFE24_BUCKET_CAPACITY": str(sandbox_config.get("bucket_capacity", 40)),
            "CAFE24_MAX_PER_SECOND": str(max_per_second),
            "CAFE24_CHECKPOINT_INTERVAL": str(checkpoint_interval),
            "CELERY_BROKER_URL": broker, "CELERY_RESULT_BACKEND": broker,
            "CAFE24_CELERY_VISIBILITY_TIMEOUT": str(visibility_timeout),
        }
        app = make_app(broker, broker, visibility_timeout=visibility_timeout)
        state = Cluster(sandbox, redis_url, export_dir, log_dir, prefix, visibility_timeout, env, app)
        try:
            yield state
        finally:
            stop_all(state.workers)
            gc.collect()  # results still held unsubscribe now, while Redis is there to answer
            app.close()
            shutil.rmtree(export_dir, ignore_errors=True)


def seed_tokens(redis_url: str, prefix: str, tokens: dict[str, dict[str, Any]]) -> None:
    """Each mall's token into the Redis token store, where every worker reads it."""

    async def seed() -> None:
        store = RedisTokenStore(redis_url, CLIENT_ID, prefix=prefix)
        try:
            for mall_id, raw in tokens.items():
                await store.save(mall_id, Token.from_response(raw))
        finally:
            await store.aclose()

    asyncio.run(seed())
