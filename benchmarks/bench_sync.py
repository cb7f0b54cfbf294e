"""Incremental sync: the second run's requests against the fewest that read the changes.

Two jobs, each run twice with `run_sync` and one state file:

- 100,000 products; between the runs 1% of them (1,000) are updated through
  the API. The fewest requests that read 1,000 changed products are
  ceil(1,000 / 100) = 10 pages; target: pages at most 1.1x that, counts shown
  beside them;
- a year of orders (100,000); between the runs 1% of them change status
  through the API (half start shipping, half are delivered). Orders have no
  filter on their last change: they are read by each date a change sets, one
  query per date type, so pages cannot be shared between date types. The floor
  is sum(ceil(n_type / 1,000)) pages over the date types that hold changes (an
  order found by two types counts in both); it is shown beside ceil(N / 1,000).

Wall times of both runs are measured at a fast drain (the sandbox in its own
process); the times at the live drain (a 40-call bucket draining 2 calls a
second) follow from the request counts: max(0, requests - 40) / 2 seconds.

    python -m benchmarks.bench_sync [--quick]
"""

from __future__ import annotations

import asyncio
import math
import os
import sys
import tempfile
import time
from typing import Any

import attrs

from benchmarks.common import Row, client_for, row, serve
from cafe24_async import Cafe24, fan_out
from cafe24_async.sync import SyncReport, SyncSpec, run_sync

TARGET = 1.10
DRAIN = 2000.0
LIVE_BUCKET, LIVE_DRAIN = 40, 2.0
CHANGED = 0.01
PRODUCT_LIMIT, ORDER_LIMIT = 100, 1000


@attrs.frozen
class Sizes:
    products: int
    orders: int


FULL = Sizes(products=100_000, orders=100_000)
QUICK = Sizes(products=3_000, orders=3_000)


def live_seconds(requests: int) -> float:
    """Seconds `requests` take at the live drain, the first bucketful at once."""
    return max(0, requests - LIVE_BUCKET) / LIVE_DRAIN


async def _timed(
    api: Cafe24, spec: SyncSpec, folder: str, name: str, **options: Any
) -> tuple[SyncReport, float]:
    began = time.perf_counter()
    report = await run_sync(api, spec, os.path.join(folder, name), state=os.path.join(folder, "state.json"),
                            **options)
    if report.errors:
        raise RuntimeError(f"the sync failed: {report.errors}")
    return report, time.perf_counter() - began


async def _update(api: Cafe24, calls: list[Any]) -> None:
    async for outcome in fan_out(lambda call: call(), calls, concurrency=32):
        if outcome.error is not None:
            raise outcome.error


def _run_row(name: str, first: tuple[SyncReport, float], second: tuple[SyncReport, float], floor: int,
             naive: int, note: str, **extra: object) -> Row:
    full, full_wall = first
    changes, wall = second
    pages, counts = changes.export.pages, changes.export.counts
    ratio = pages / floor if floor else 0.0
    detail = (
        f"second run: {changes.total:,} records, {changes.export.requests:,} requests ({pages:,} pages + "
        f"{counts:,} counts); minimum {floor:,} pages{note}; ceil(N / limit) = {naive:,}. "
        f"Wall: {wall:.2f} s against {full_wall:.2f} s for the first (full) run of {full.total:,} records "
        f"in {full.export.requests:,} requests; at the live drain "
        f"{live_seconds(changes.export.requests):.1f} s "
        f"against {live_seconds(full.export.requests):.0f} s"
    )
    return row(
        name, f"{pages:,} pages / {floor:,} (x{ratio:.2f}) + {counts:,} counts", f"<= x{TARGET:.2f} + counts",
        ratio <= TARGET, detail, pages=pages, counts=counts, floor=floor, naive_minimum=naive,
        requests=changes.export.requests, full_requests=full.export.requests, wall=wall, full_wall=full_wall,
        live_seconds=live_seconds(changes.export.requests),
        full_live_seconds=live_seconds(full.export.requests),
    )


async def products(sizes: Sizes) -> Row:
    config = {"malls": ["shop"], "products": sizes.products, "orders": 0, "customers": 0, "reviews": 0,
              "coupons": 0, "leak_rate": DRAIN, "variants_per_product": 1}
    changed = max(1, int(sizes.products * CHANGED))
    folder = tempfile.TemporaryDirectory(prefix="cafe24-bench-")
    with serve("sandbox", config=config) as server, folder as tmp:
        api = await client_for(server, leak_rate=DRAIN)
        async with api:
            spec = SyncSpec("products", ("shop",))
            first = await _timed(api, spec, tmp, "day1.jsonl")
            step = sizes.products // changed
            admin = api.mall("shop").admin
            await _update(api, [lambda n=n: admin.products.update(n, request={"price": 1000 + n})
                                for n in range(1, sizes.products + 1, step)][:changed])
            second = await _timed(api, spec, tmp, "day2.jsonl")
    assert second[0].total == changed, (second[0].total, changed)
    floor = math.ceil(changed / PRODUCT_LIMIT)
    return _run_row(f"Sync: second run, {sizes.products:,} products, 1% changed", first, second, floor, floor,
                    f" (ceil({changed:,} / {PRODUCT_LIMIT}))", changed=changed)


async def orders(sizes: Sizes) -> Row:
    config = {"malls": ["shop"], "products": 200, "orders": sizes.orders, "customers": 200, "reviews": 0,
              "coupons": 0, "leak_rate": DRAIN, "items_per_order": [1, 1]}
    changed = max(2, int(sizes.orders * CHANGED))
    folder = tempfile.TemporaryDirectory(prefix="cafe24-bench-")
    with serve("sandbox", config=config) as server, folder as tmp:
        api = await client_for(server, leak_rate=DRAIN)
        async with api:
            spec = SyncSpec("orders", ("shop",))
            first = await _timed(api, spec, tmp, "day1.jsonl", since="2025-10-01")
            admin = api.mall("shop").admin
            year = admin.orders.iterate(start_date="2025-10-01", end_date="2026-10-31", fields=["order_id"])
            ids = [o["order_id"] async for o in year]
            chosen = ids[:: max(1, len(ids) // changed)][:changed]
            half = len(chosen) // 2
            await _update(api, [lambda o=o: admin.orders.shipments.update(o, "S1", status="shipping")
                                for o in chosen[:half]]
                          + [lambda o=o: admin.orders.shipments.update(o, "S1", status="shipped")
                             for o in chosen[half:]])
            second = await _timed(api, spec, tmp, "day2.jsonl")
    assert second[0].total == len(chosen), (second[0].total, len(chosen))
    per_type = (half, len(chosen) - half)  # shipbegin_date, shipend_date
    floor = sum(math.ceil(n / ORDER_LIMIT) for n in per_type if n)
    naive = math.ceil(len(chosen) / ORDER_LIMIT)
    return _run_row(
        f"Sync: second run, a year of orders ({sizes.orders:,}), 1% changing status", first, second, floor,
        naive, f" (one query per date type holding changes: shipping started {per_type[0]:,}, "
               f"delivered {per_type[1]:,}; 7 date types counted)", changed=len(chosen),
    )


async def measure(sizes: Sizes) -> list[Row]:
    return [await products(sizes), await orders(sizes)]


def run(quick: bool = False) -> list[Row]:
    return asyncio.run(measure(QUICK if quick else FULL))


if __name__ == "__main__":
    for r in run(quick="--quick" in sys.argv):
        print(r["name"], "|", r["figure"], "|", r["target"], "|", r["met"])
        print("   ", r["note"])
