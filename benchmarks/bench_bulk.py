"""Bulk writes: rows per second against what the bucket and the usage quota allow, and the
quota headroom left to other apps meanwhile.

The sandbox runs in its own process (20 ms added to every answer), with a bucket
of 40 that drains `drain` calls per second, and a processing-time quota of
`quota_ms` per `window` seconds that a write costs `write_ms` of (20 times a
read, as the sandbox meters it). A job of N calls can go no faster than

    bucket bound = max(0, N - bucket) / drain
    quota bound  = max(0, N * write_ms - ceiling * quota_ms) / (quota_ms / window)

the quota bound counting only the share of the quota the job may use (its
ceiling, 100 - keep_headroom percent: the rest is left to the mall's other
apps), since the quota drains at quota_ms / window per second and starts
empty. Efficiency = max(both bounds) / wall time; the headroom kept is 100
minus the highest usage the sandbox reported during the run. Two jobs:

- stock in the bulk form: a product's variants per call (100 per call), where
  the quota binds;
- stock one row per call (the inventories route), where the bucket binds.

    python -m benchmarks.bench_bulk [--quick]
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path
from typing import Any

import attrs

from benchmarks.common import Row, client_for, row, serve
from cafe24_async.bulk import BulkSettings, bulk_apply
from cafe24_async.sandbox import codes

TARGET = 0.85
KEEP = 30.0


@attrs.frozen
class Job:
    name: str
    route: str
    products: int
    variants: int
    drain: float
    bucket: int = 40
    #: Processing-time quota (ms per window; None: off) and the cost of one write.
    quota_ms: float | None = None
    window: float = 10.0
    write_ms: float = 400.0
    latency: float = 0.02

    @property
    def rows(self) -> int:
        return self.products * self.variants

    @property
    def calls(self) -> int:
        return self.products if self.route.endswith("update_many") else self.rows

    def bound(self) -> tuple[float, float]:
        """(bucket bound, quota bound) in seconds."""
        bucket = max(0, self.calls - self.bucket) / self.drain
        if self.quota_ms is None:
            return bucket, 0.0
        free = (100.0 - KEEP) / 100.0 * self.quota_ms
        quota = max(0.0, self.calls * self.write_ms - free) / (self.quota_ms / self.window)
        return bucket, quota

    def config(self) -> dict[str, Any]:
        config: dict[str, Any] = {
            "malls": ["acme"], "products": self.products, "variants_per_product": self.variants,
            "leak_rate": self.drain, "bucket_capacity": self.bucket, "latency": self.latency,
            "write_cost_ms": self.write_ms, "read_cost_ms": self.write_ms / 20, "orders": 10, "customers": 10,
            "reviews": 10,
        }
        if self.quota_ms is not None:
            config.update(time_quota=self.quota_ms, quota_window=self.window)
        return config


FULL = (
    Job("stock, 100 variants per call", "products.variants.update_many", 200, 100, drain=20.0,
        quota_ms=40_000.0),
    Job("stock, one row per call", "products.variants.inventories.update", 100, 3, drain=20.0),
)
QUICK = (
    Job("stock, 10 variants per call", "products.variants.update_many", 150, 10, drain=200.0,
        quota_ms=4_000.0, window=1.0, write_ms=40.0),
    Job("stock, one row per call", "products.variants.inventories.update", 20, 3, drain=40.0),
)


async def measure(job: Job) -> dict[str, Any]:
    rows = [
        {"product_no": p, "variant_code": codes.variant_code(p, i), "quantity": 1000 + i}
        for p in range(1, job.products + 1) for i in range(job.variants)
    ]
    with serve("sandbox", config=job.config()) as server, tempfile.TemporaryDirectory() as tmp:
        api = await client_for(server, ("acme",), leak_rate=job.drain, bucket_capacity=job.bucket)
        async with api:
            settings = BulkSettings(keep_headroom=KEEP, stale_seconds=0.5)
            report = await bulk_apply(api.mall("acme"), job.route, rows, journal=Path(tmp) / "journal",
                                      settings=settings)
    bucket, quota = job.bound()
    bound = max(bucket, quota)
    return {
        "rows": job.rows, "calls": report.calls, "seconds": round(report.seconds, 2),
        "ok": report.counts["ok"],
        "rows_per_second": round(job.rows / report.seconds, 1), "bound_rows_per_second":
        round(job.rows / bound, 1) if bound else None, "bucket_bound": round(bucket, 2),
        "quota_bound": round(quota, 2), "efficiency": round(bound / report.seconds, 3) if bound else None,
        "highest_usage": report.highest_usage, "spaced_seconds": round(report.spaced_seconds, 2),
        "requests": report.requests,
    }


def _row(job: Job, result: dict[str, Any]) -> Row:
    efficiency = result["efficiency"]
    usage = result["highest_usage"]
    kept = None if usage is None else 100.0 - usage
    binds = "quota" if result["quota_bound"] > result["bucket_bound"] else "bucket"
    met = efficiency is not None and efficiency >= TARGET and result["ok"] == result["rows"] and (
        kept is None or kept >= KEEP - 2.0)
    headroom = "no quota reported" if kept is None else f"{kept:.0f}% of the quota left to others"
    return row(
        f"Bulk writes: {job.name}", f"{efficiency:.3f}" if efficiency is not None else "-",
        f">= {TARGET} and >= {KEEP - 2:.0f}% headroom", met,
        f"{result['rows']:,} rows in {result['calls']:,} calls, {result['seconds']} s: "
        f"{result['rows_per_second']:,} rows/s against a {binds} bound of "
        f"{result['bound_rows_per_second']:,} rows/s "
        f"(bucket {result['bucket_bound']} s, quota {result['quota_bound']} s); {headroom}; "
        f"{result['spaced_seconds']} s spent spacing calls",
        limit="the job slows from 5 points below its ceiling, so it settles near 66% usage rather than "
        "at 70%; its first calls learn the bucket's level",
        **result,
    )


async def _all(jobs: tuple[Job, ...]) -> list[Row]:
    return [_row(job, await measure(job)) for job in jobs]


def run(quick: bool = False) -> list[Row]:
    return asyncio.run(_all(QUICK if quick else FULL))


if __name__ == "__main__":
    for r in run(quick="--quick" in sys.argv):
        print(r["name"], r["figure"], r["target"], r["met"], r["note"])
