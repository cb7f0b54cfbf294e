"""Many malls in one process: aggregate throughput and CPU time per request.

One client process serves 1, 10, 100 and 1,000 malls, each with its own token
and its own leaky bucket (40 calls, a fast drain of 500 per second), against
the sandbox in a separate process. 64 workers share the connection pool and
take the malls in turn, calling `mall.admin.products.count()` for a fixed
time. A single mall is held to its bucket's drain; more malls add throughput
until the client's CPU is saturated. CPU time per request must not grow with
the number of malls (no per-mall state that costs O(malls) per request).

Each run uses malls not used before, so no bucket carries over.

    python -m benchmarks.bench_malls [--quick]
"""

from __future__ import annotations

import asyncio
import sys
import time

import attrs

from benchmarks.common import Row, Server, client_for, row, serve
from benchmarks.server import mall_names

DRAIN = 500.0
BUCKET = 40
WORKERS = 64
#: CPU time per request at 1,000 malls may be at most this much above the 10-mall figure:
#: a cost linear in the number of malls would show as a multiple, not a fraction (the
#: fraction is caches: 1,000 malls' state does not stay in them).
FLAT = 1.5


@attrs.frozen
class Result:
    malls: int
    requests: int
    seconds: float
    cpu: float
    server_cpu: float

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    @property
    def cpu_us(self) -> float:
        return self.cpu / self.requests * 1e6


async def one_run(server: Server, malls: tuple[str, ...], seconds: float, cap: int) -> Result:
    api = await client_for(server, malls, leak_rate=DRAIN, bucket_capacity=BUCKET, connections=WORKERS)
    async with api:
        handles = [api.mall(m) for m in malls]
        # Warm: every mall's first call (token loaded, bucket level learnt) before timing.
        await asyncio.gather(*(m.admin.products.count() for m in handles))
        done = 0
        deadline = 0.0

        async def worker(first: int) -> None:
            nonlocal done
            i = first
            while done < cap and time.perf_counter() < deadline:
                await handles[i % len(handles)].admin.products.count()
                done += 1
                i += WORKERS

        cpu = time.process_time()
        server_cpu = server.cpu_seconds()
        started = time.perf_counter()
        deadline = started + seconds
        await asyncio.gather(*(worker(w) for w in range(WORKERS)))
        elapsed = time.perf_counter() - started
        return Result(
            len(malls), done, elapsed, time.process_time() - cpu, server.cpu_seconds() - server_cpu
        )


async def measure(counts: tuple[int, ...], seconds: float, cap: int) -> list[Result]:
    names = mall_names(sum(counts))
    config = {
        "products": 3,
        "variants_per_product": 1,
        "categories": 1,
        "customers": 0,
        "orders": 0,
        "reviews": 0,
        "coupons": 0,
        "brands": 1,
        "suppliers": 1,
        "manufacturers": 1,
        "bucket_capacity": BUCKET,
        "leak_rate": DRAIN,
    }
    results = []
    with serve("sandbox", config=config, malls=len(names)) as server:
        start = 0
        for count in counts:
            results.append(await one_run(server, names[start : start + count], seconds, cap))
            start += count
    return results


def run(quick: bool = False) -> list[Row]:
    counts = (1, 10, 100, 1000) if not quick else (1, 5, 20)
    results = asyncio.run(measure(counts, 0.2 if quick else 4.0, 1_000 if quick else 200_000))
    rows = []
    for r in results:
        rows.append(row(
            f"4. Many malls: {r.malls:,} mall{'s' if r.malls > 1 else ''}",
            f"{r.rps:,.0f} req/s, {r.cpu_us:.0f} µs CPU/req", "-", None,
            f"{r.requests:,} requests in {r.seconds:.1f} s; client CPU {r.cpu / r.seconds:.0%} of a core, "
            f"server {r.server_cpu / r.seconds:.0%}",
            malls=r.malls, rps=r.rps, cpu_us=r.cpu_us,
        ))
    first, most = results[0], results[-1]
    base = results[1] if len(results) > 2 else first
    grows = most.rps > first.rps
    flat = most.cpu_us <= base.cpu_us * FLAT
    rows.append(row(
        "4. Many malls: scaling",
        f"{most.rps / first.rps:.1f}× req/s from 1 to {most.malls:,} malls; CPU/req "
        f"{most.cpu_us / base.cpu_us:.2f}× of {base.malls} malls",
        f"grows until CPU-bound; CPU/req <= {FLAT}×", grows and flat,
        f"one mall is held to its drain ({DRAIN:g}/s + a bucket of {BUCKET}); "
        f"at {most.malls:,} malls the client uses {most.cpu / most.seconds:.0%} of a core",
    ))
    return rows


if __name__ == "__main__":
    for r in run(quick="--quick" in sys.argv):
        print(r["name"], "|", r["figure"], "|", r["target"], r["met"], "|", r["note"])
