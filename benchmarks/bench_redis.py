"""Several worker processes exporting one mall, paced by the bucket they share in Redis.

Each worker is its own Python process running its own `Cafe24` client, with the
mall's token in a `RedisTokenStore` and its leaky bucket in a `RedisBucket`;
each fetches a disjoint share of the mall's products, one GET per product. The
sandbox runs in this process. A run reports the 429s the sandbox answered and
the efficiency: the least time the bucket allows, max(0, requests - capacity) /
leak_rate, over the time the processes took together (1.0 is the bucket's
bound; the target is >= 0.9 with zero 429s). A row with the in-process bucket
(`mode="local"`) shows what the shared bucket prevents.

    python -m benchmarks.bench_redis            # 1, 2 and 4 processes, 3 runs of ~8 s of drain each
    python -m benchmarks.bench_redis --quick    # one run of ~2 s of drain each

Each shared-bucket setting runs `RUNS` times on fresh malls; the worst
efficiency is the figure, with the median and the number of runs beside it.

It needs `redis-server` on the PATH (Debian: apt-get install redis-server); one
is started on a free loopback port and stopped afterwards. The functions here
are also what the multi-process tests in tests/redis/ run.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from cafe24_async import Cafe24, Token
from cafe24_async.auth.redis_store import RedisTokenStore
from cafe24_async.ratelimit.redis_bucket import RedisBucket, RedisBucketSettings
from cafe24_async.redis_support import connect

if TYPE_CHECKING:
    from cafe24_async.sandbox import Sandbox

ROOT = Path(__file__).resolve().parent.parent

#: Seconds a worker or the coordinator waits for the others before giving up.
BARRIER_TIMEOUT = 60


# -- a throwaway redis-server -----------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.contextmanager
def redis_server(port: int | None = None, startup_timeout: float = 10.0) -> Iterator[str]:
    """Start `redis-server` on loopback (a free port unless given), without persistence;
    yield its URL. Raises `FileNotFoundError` when redis-server is not installed.
    """
    exe = shutil.which("redis-server")
    if exe is None:
        raise FileNotFoundError("redis-server is not installed (Debian: apt-get install redis-server)")
    port = port or free_port()
    command = [exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + startup_timeout
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not start on port {port}")
            time.sleep(0.02)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# -- one worker process ---------------------------------------------------------------------


@attrs.define(kw_only=True)
class WorkerSpec:
    """What one worker process does; sent to it as JSON on stdin."""

    index: int
    redis_url: str
    prefix: str
    base_url: str
    mall_id: str
    client_id: str
    client_secret: str
    leak_rate: float
    bucket_capacity: int
    product_nos: list[int]
    concurrency: int = 8
    #: "redis": shared bucket; "local": each process its own in-process bucket.
    mode: str = "redis"


async def pop(redis: Any, key: str, timeout: float) -> bool:
    """BLPOP `key` for up to `timeout` seconds, in waits of one second: the client's
    socket timeout (2 s, `redis_support.connect`) must not end a longer wait."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await redis.blpop([key], timeout=1) is not None:
            return True
    return False


async def worker(spec: WorkerSpec) -> dict[str, Any]:
    """Fetch `spec.product_nos` once each, after every worker is ready; report what happened."""
    redis = connect(spec.redis_url)
    store = RedisTokenStore(redis, spec.client_id, prefix=spec.prefix)
    bucket = RedisBucket(redis, RedisBucketSettings(prefix=spec.prefix))
    await store.check()
    api = Cafe24(
        spec.client_id,
        spec.client_secret,
        token_store=store,
        base_url=spec.base_url,
        leak_rate=spec.leak_rate,
        bucket_capacity=spec.bucket_capacity,
        max_per_second=None,
        shared_bucket=bucket if spec.mode == "redis" else None,
    )
    records: list[int] = []
    errors: list[str] = []
    async with api:
        mall = api.mall(spec.mall_id)
        _ = api.session
        await redis.rpush(f"{spec.prefix}:ready", spec.index)
        if not await pop(redis, f"{spec.prefix}:go", BARRIER_TIMEOUT):
            raise TimeoutError("no start signal")
        gate = asyncio.Semaphore(spec.concurrency)

        async def fetch(product_no: int) -> None:
            async with gate:
                try:
                    product = await mall.admin.products.get(product_no)
                except Exception as exc:
                    errors.append(f"{product_no}: {type(exc).__name__}: {exc}")
                else:
                    records.append(int(product["product_no"]))

        started = time.time()
        await asyncio.gather(*(fetch(no) for no in spec.product_nos))
        ended = time.time()
        stats = mall.stats
    await bucket.aclose()
    await redis.aclose()
    return {
        "index": spec.index,
        "records": records,
        "errors": errors,
        "started": started,
        "ended": ended,
        "requests": stats.requests,
        "throttled": stats.throttled,
        "refreshes": stats.refreshes,
    }


def worker_main() -> None:
    spec = WorkerSpec(**json.loads(sys.stdin.read()))
    result = asyncio.run(worker(spec))
    sys.stdout.write(json.dumps(result))


# -- coordinating the workers ----------------------------------------------------------------


@attrs.define(kw_only=True)
class ExportResult:
    processes: int
    mode: str
    #: API requests the sandbox received for the mall (401s and 429s included).
    requests: int
    #: Product numbers fetched, over all workers, in no order.
    records: list[int]
    errors: list[str]
    #: 429 answers the sandbox gave.
    throttled: int
    #: Successful refresh_token grants the sandbox gave.
    refreshes: int
    #: From the first worker's start to the last worker's end.
    seconds: float
    #: The least time the bucket allows for `requests`.
    bound_seconds: float
    per_worker: list[dict[str, Any]]

    @property
    def efficiency(self) -> float:
        return self.bound_seconds / self.seconds if self.seconds > 0 else 0.0

    def row(self) -> dict[str, object]:
        return {
            "processes": self.processes,
            "mode": self.mode,
            "requests": self.requests,
            "records": len(self.records),
            "distinct_records": len(set(self.records)),
            "throttled_429": self.throttled,
            "refreshes": self.refreshes,
            "seconds": round(self.seconds, 3),
            "bound_seconds": round(self.bound_seconds, 3),
            "efficiency": round(self.efficiency, 3),
        }


def shares(items: Sequence[int], parts: int) -> list[list[int]]:
    """`items` dealt round-robin into `parts` disjoint lists."""
    return [list(items[i::parts]) for i in range(parts)]


async def shared_export(
    sandbox: Sandbox,
    redis_url: str,
    mall_id: str,
    product_nos: Sequence[int],
    processes: int,
    *,
    mode: str = "redis",
    concurrency: int = 8,
    expire_token_after: int | None = None,
    timeout: float = 120.0,
) -> ExportResult:
    """Run `processes` workers fetching `product_nos` of `mall_id` between them.

    With `expire_token_after`, the mall's access tokens are expired on the
    server once it has received that many requests, mid-export. Workers still
    running after `timeout` seconds are killed and the run fails.
    """
    prefix = f"bench-{uuid.uuid4().hex[:12]}"
    config = sandbox.config
    redis = connect(redis_url)
    try:
        store = RedisTokenStore(redis, config.client_id, prefix=prefix)
        await store.save(mall_id, Token.from_response(sandbox.issue_token(mall_id)))
        before = sandbox.stats(mall_id)
        specs = [
            WorkerSpec(
                index=i, redis_url=redis_url, prefix=prefix, base_url=sandbox.base_url, mall_id=mall_id,
                client_id=config.client_id, client_secret=config.client_secret,
                leak_rate=config.leak_rate, bucket_capacity=config.bucket_capacity,
                product_nos=share, concurrency=concurrency, mode=mode,
            )
            for i, share in enumerate(shares(product_nos, processes))
        ]
        children = [await _spawn(spec) for spec in specs]
        expiring: asyncio.Task[None] | None = None
        try:
            for _ in specs:
                if not await pop(redis, f"{prefix}:ready", BARRIER_TIMEOUT):
                    raise RuntimeError("the workers did not get ready: " + await _stderr(children))
            await redis.rpush(f"{prefix}:go", *range(len(specs)))
            if expire_token_after is not None:
                threshold = before.requests + expire_token_after
                expiring = asyncio.create_task(_expire_after(sandbox, mall_id, threshold))
            outputs = await asyncio.wait_for(
                asyncio.gather(*(child.communicate() for child, _ in children)), timeout
            )
        finally:
            if expiring is not None:
                expiring.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await expiring
            for child, _ in children:
                if child.returncode is None:
                    child.kill()
                    await child.wait()
        results: list[dict[str, Any]] = []
        for (child, _), (out, err) in zip(children, outputs, strict=True):
            if child.returncode != 0:
                raise RuntimeError(f"a worker failed ({child.returncode}): {err.decode()[-2000:]}")
            results.append(json.loads(out))
        after = sandbox.stats(mall_id)
        await redis.delete(*(await redis.keys(f"{prefix}:*")) or [f"{prefix}:none"])
    finally:
        await redis.aclose()
    requests = after.requests - before.requests
    seconds = max(r["ended"] for r in results) - min(r["started"] for r in results)
    return ExportResult(
        processes=processes,
        mode=mode,
        requests=requests,
        records=[no for r in results for no in r["records"]],
        errors=[e for r in results for e in r["errors"]],
        throttled=after.throttled - before.throttled,
        refreshes=after.refreshes - before.refreshes,
        seconds=seconds,
        bound_seconds=max(0, requests - config.bucket_capacity) / config.leak_rate,
        per_worker=results,
    )


async def _spawn(spec: WorkerSpec) -> tuple[asyncio.subprocess.Process, WorkerSpec]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "benchmarks.bench_redis", "--worker",
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT, env=env,
    )
    assert child.stdin is not None
    child.stdin.write(json.dumps(attrs.asdict(spec)).encode())
    await child.stdin.drain()
    child.stdin.close()
    return child, spec


async def _stderr(children: list[tuple[asyncio.subprocess.Process, WorkerSpec]]) -> str:
    texts = []
    for child, _ in children:
        if child.returncode is not None and child.stderr is not None:
            texts.append((await child.stderr.read()).decode()[-1000:])
    return "\n".join(texts) or "(no worker exited)"


async def _expire_after(sandbox: Sandbox, mall_id: str, requests: int) -> None:
    """Expire the mall's access tokens once the server has seen `requests` requests
    (the sandbox has no event to wait on, so its counter is looked at every 5 ms)."""
    while sandbox.stats(mall_id).requests < requests:  # noqa: ASYNC110
        await asyncio.sleep(0.005)
    sandbox.expire_access_token(mall_id)


# -- the benchmark ------------------------------------------------------------------------------


#: Fresh runs of each shared-bucket setting (the in-process comparison runs once).
RUNS = 3


async def _run(redis_url: str, quick: bool) -> list[dict[str, object]]:
    from cafe24_async.sandbox import Sandbox, SandboxConfig

    leak_rate, capacity = 50.0, 40
    drain_seconds = 2.0 if quick else 8.0
    products = capacity + int(leak_rate * drain_seconds)
    repeats = 1 if quick else RUNS
    runs = [(n, "redis") for _ in range(repeats) for n in (1, 2, 4)] + [(4, "local")]
    malls = tuple(f"shared{n}-{mode}-{i}" for i, (n, mode) in enumerate(runs))
    config = SandboxConfig(
        malls=malls, leak_rate=leak_rate, bucket_capacity=capacity, products=products,
        variants_per_product=1, orders=10, customers=10, reviews=10,
    )
    results: dict[tuple[int, str], list[dict[str, object]]] = {}
    async with Sandbox(config) as sandbox:
        for (processes, mode), mall_id in zip(runs, malls, strict=True):
            numbers = range(1, products + 1)
            result = await shared_export(sandbox, redis_url, mall_id, numbers, processes, mode=mode)
            row = result.row()
            results.setdefault((processes, mode), []).append(row)
            print(
                f"{processes} process(es), {mode:5} bucket: {row['requests']} requests, "
                f"{row['distinct_records']}/{products} records, {row['throttled_429']} x 429, "
                f"{row['seconds']:.2f}s for a bound of {row['bound_seconds']:.2f}s: "
                f"efficiency {row['efficiency']:.3f}",
                flush=True,
            )
    return [_worst(rows) for rows in results.values()]


def _worst(rows: list[dict[str, object]]) -> dict[str, object]:
    """The worst run of one setting, with the spread over its runs."""
    efficiencies = [float(str(r["efficiency"])) for r in rows]
    worst = dict(rows[efficiencies.index(min(efficiencies))])
    worst["runs"] = len(rows)
    worst["median_efficiency"] = round(statistics.median(efficiencies), 3)
    worst["throttled_429"] = sum(int(str(r["throttled_429"])) for r in rows)
    return worst


def run(quick: bool = False) -> list[dict[str, object]]:
    """Efficiency and 429s of 1, 2 and 4 processes sharing one mall's bucket in Redis
    (and of 4 processes each with an in-process bucket, for comparison)."""
    with redis_server() as url:
        return asyncio.run(_run(url, quick))


if __name__ == "__main__":
    if "--worker" in sys.argv[1:]:
        worker_main()
    else:
        run(quick="--quick" in sys.argv[1:])
