"""Exports on Celery workers: malls per hour and CPU per request at 1, 2 and 4 worker processes.

Every part is a process of its own: the sandbox (tests/celery/sandbox_process.py,
with a control port to read its counters), redis-server (broker, result backend,
tokens and buckets) and `celery worker` processes with the threads pool. Each
run exports products and orders (two partitions per mall) from fresh malls with
Cafe24's own bucket: 40 calls, draining 2 per second, at most 10 calls per
second, 20 ms per answer. Each worker has enough threads for every partition to
be in flight at once, so nothing but the malls' buckets should set the pace.

The bound is each mall's drain: R requests cannot go faster than
max((R - 40) / 2, R / 10) seconds, and the run's bound is its slowest mall's.
Figures: malls per hour (malls / wall time), the efficiency (bound / wall
time; 1.0 is the buckets' limit), 429s (the server's count), and the workers'
CPU per request (user + system time of the worker processes over the
requests the server answered). Each process count runs twice: with one event
loop and one client per worker process kept across tasks ("shared"), and
with `asyncio.run` and a new client per task ("per-task").

    python -m benchmarks.bench_celery            # 50 malls, 1/2/4 processes, both loops (about 3 minutes)
    python -m benchmarks.bench_celery --quick    # 6 malls, faster buckets

Needs the celery extra and redis-server (as the tests do).
"""

from __future__ import annotations

import math
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.common import Row, row

#: Cafe24's bucket, answer time and per-second cap (quick runs drain 10 times faster).
CAPACITY, LEAK_RATE, PER_SECOND, LATENCY = 40, 2.0, 10, 0.02


def _sandbox(quick: bool) -> dict[str, Any]:
    return {
        "leak_rate": LEAK_RATE * (10 if quick else 1), "bucket_capacity": CAPACITY, "latency": LATENCY,
        "products": 500, "orders": 100, "variants_per_product": 1, "customers": 5, "reviews": 5,
        "categories": 3, "coupons": 2, "brands": 2,
    }


def bound_seconds(requests: dict[str, int], leak_rate: float) -> float:
    """The least time the slowest mall's bucket allows for its requests."""
    return max(max((n - CAPACITY) / leak_rate, n / PER_SECOND) for n in requests.values())


def run_once(malls: int, processes: int, loop: str, quick: bool) -> dict[str, Any]:
    """One run: `malls` malls on `processes` worker processes; its figures."""
    from cafe24_async.celery import collect, enqueue, plan
    from tests.celery.cluster import cluster
    from tests.celery.workers import wait_ready

    config = _sandbox(quick)
    threads = math.ceil(malls * 2 / processes) + 1  # every partition in flight, and the chord's callback
    with tempfile.TemporaryDirectory(prefix="cafe24-bench-celery-") as tmp, cluster(
        Path(tmp), config, malls, visibility_timeout=3600, max_per_second=PER_SECOND,
    ) as c:
        workers = [c.start_worker(f"w{i}", concurrency=threads, loop=loop) for i in range(processes)]
        wait_ready(c.app, workers)
        parts = plan(sorted(c.sandbox.tokens()), ["products", "orders"], "2024-11-01", "2026-10-31",
                     params={"products": {"limit": 10}, "orders": {"limit": 10}})
        cpu_before = sum(w.cpu_seconds() for w in workers)
        started, sent_at = time.monotonic(), time.time()
        summary = collect(enqueue(c.app, "bench", parts, chord=True), timeout=900)
        wall = time.monotonic() - started
        cpu = sum(w.cpu_seconds() for w in workers) - cpu_before
        stats = c.sandbox.stats()
    requests = {m: int(s["requests"]) for m, s in stats.items()}
    bound = bound_seconds(requests, float(config["leak_rate"]))
    first_start = min(t.started_at or sent_at for t in summary.malls.values())
    last_end = max(t.finished_at or sent_at for t in summary.malls.values())
    total = sum(requests.values())
    return {
        "processes": processes, "loop": loop, "malls": malls, "partitions": len(parts),
        "threads_per_process": threads, "records": summary.records, "failed": len(summary.failures),
        "requests": total, "throttled_429": sum(int(s["throttled"]) for s in stats.values()),
        "refreshes": sum(int(s["refreshes"]) for s in stats.values()),
        "seconds": round(wall, 3), "bound_seconds": round(bound, 3), "efficiency": round(bound / wall, 3),
        "malls_per_hour": round(malls / wall * 3600), "worker_cpu_seconds": round(cpu, 3),
        #: From enqueueing to the first partition's start, and from the last one's end to collect's answer.
        "start_delay": round(first_start - sent_at, 3), "end_delay": round(sent_at + wall - last_end, 3),
        "slowest_mall_seconds": round(max(t.wall_seconds for t in summary.malls.values()), 3),
        "cpu_ms_per_request": round(cpu / total * 1000, 3) if total else 0.0,
    }


def run(quick: bool = False) -> list[Row]:
    malls = 6 if quick else 50
    rows: list[Row] = []
    results: dict[tuple[int, str], dict[str, Any]] = {}
    for processes in (1, 2, 4):
        for loop in ("shared", "per-task"):
            result = run_once(malls, processes, loop, quick)
            results[processes, loop] = result
            print(f"{processes} process(es), {loop:8} loop: {result['malls_per_hour']:,} malls/h, "
                  f"{result['seconds']:.1f}s for a bound of {result['bound_seconds']:.1f}s "
                  f"(efficiency {result['efficiency']:.3f}), {result['throttled_429']} x 429, "
                  f"{result['cpu_ms_per_request']:.2f} ms CPU per request", file=sys.stderr, flush=True)
            shared = loop == "shared"
            met = (result["efficiency"] >= 0.9 and result["throttled_429"] == 0 and not result["failed"]
                   if shared else None)
            rows.append(row(
                f"Celery: {processes} worker process(es), {loop} loop",
                f"{result['malls_per_hour']:,} malls/h; {result['cpu_ms_per_request']:.2f} ms CPU/request",
                ">= 0.9 of the drain bound, 0 × 429" if shared else "-", met,
                f"{malls} malls x 2 resources, {result['requests']:,} requests in {result['seconds']:.1f}s "
                f"for a bound of {result['bound_seconds']:.1f}s (efficiency {result['efficiency']:.3f}); "
                f"{result['throttled_429']} × 429; workers {result['worker_cpu_seconds']:.2f} CPU-s; first "
                f"partition started {result['start_delay']:.2f}s after enqueueing, the slowest mall took "
                f"{result['slowest_mall_seconds']:.1f}s, the answer came {result['end_delay']:.2f}s after "
                "the last partition ended",
                **result,
            ))
    one = results[1, "shared"]
    per_task = results[1, "per-task"]
    in_flight = 1000 / (one["cpu_ms_per_request"] * LEAK_RATE) if one["cpu_ms_per_request"] else 0
    rows.append(row(
        "Celery: malls one worker process keeps draining at 2/s",
        f"{in_flight:,.0f}", "-", None,
        f"1 / (CPU per request x 2 requests/s per mall), shared loop; per-task loop: "
        f"{per_task['cpu_ms_per_request'] / one['cpu_ms_per_request']:.2f}x the CPU per request"
        if one["cpu_ms_per_request"] else "",
    ))
    return rows


if __name__ == "__main__":
    for line in run(quick="--quick" in sys.argv[1:]):
        print(line["name"], "|", line["figure"], "|", line["note"])
