"""Request economy: requests an export makes against the fewest it could make.

The fewest requests that read N records of a list are `ceil(N / limit max)`
pages plus the `count` calls the reading needs (one per list, or one per date
window for a date-ranged list). Target: within 2% of that minimum for

- products (20,000; offset cap 5,000, so keyset segments past it);
- the same products with their variants (`embed=variants` on the list), and,
  for comparison on 2,000 products, the one-call-per-product way (the list,
  then `variants.list` for each product) against embedding;
- a year of orders (20,000; 1,000 a page, 3-month windows, one count each).
  Pages cannot span windows, so the floor under the 3-month rule is
  sum(ceil(n_window / 1,000)) + windows, shown beside the issue's minimum.

The sandbox runs in its own process with a fast drain (nothing here waits for
the bucket; only the request count matters).

    python -m benchmarks.bench_economy [--quick]
"""

from __future__ import annotations

import asyncio
import math
import os
import sys
import tempfile
from datetime import timedelta
from typing import Any

import attrs

from benchmarks.common import Row, client_for, row, serve
from cafe24_async import Cafe24, fan_out
from cafe24_async.export import ExportReport, ExportSpec, run_export
from cafe24_async.sandbox import SandboxConfig

TARGET = 0.02
DRAIN = 2000.0
#: Months per order query (the documented span) and orders per page.
ORDER_SPAN_MONTHS = 3
ORDER_LIMIT = 1000
PRODUCT_LIMIT = 100


@attrs.frozen
class Sizes:
    products: int
    variant_products: int
    orders: int


FULL = Sizes(products=20_000, variant_products=2_000, orders=20_000)
QUICK = Sizes(products=600, variant_products=120, orders=1_500)


async def _export(api: Cafe24, spec: ExportSpec) -> ExportReport:
    with tempfile.TemporaryDirectory(prefix="cafe24-bench-") as tmp:
        return await run_export(api, spec, os.path.join(tmp, "out.jsonl"))


async def one_call_per_product(api: Cafe24, mall_id: str) -> tuple[int, int]:
    """(requests, records) the naive way: every product, then its variants one by one."""
    mall = api.mall(mall_id)
    before = mall.stats.requests
    numbers = [p["product_no"] async for p in mall.admin.products.iterate(fields=["product_no"])]
    variants = 0
    async for outcome in fan_out(mall.admin.products.variants.list, numbers, concurrency=16):
        if outcome.error is not None:
            raise outcome.error
        variants += len(outcome.value or [])
    return mall.stats.requests - before, len(numbers)


def _economy_row(
    name: str, report: ExportReport, counts_needed: int, limit: int, note: str, **extra: object
) -> Row:
    minimum = math.ceil(report.total / limit) + counts_needed
    over = report.requests / minimum - 1 if minimum else 0.0
    detail = (
        f"{report.requests:,} requests ({report.pages:,} pages + {report.counts:,} counts + "
        f"{report.retries} retries) for {report.total:,} records; minimum {minimum:,} "
        f"(ceil(N/{limit}) + {counts_needed} count{'s' if counts_needed != 1 else ''}){note}"
    )
    return row(
        name, f"{report.requests:,} / {minimum:,} (+{over:.1%})", f"<= +{TARGET:.0%}",
        over <= TARGET, detail, requests=report.requests, minimum=minimum, over=over, **extra,
    )


async def products_and_variants(sizes: Sizes) -> list[Row]:
    config = {
        "malls": ["products", "variants"],
        "products": sizes.products,
        "per_mall_products": {"variants": sizes.variant_products},
        "leak_rate": DRAIN,
        "orders": 0,
        "customers": 0,
        "reviews": 0,
        "coupons": 0,
    }
    rows = []
    with serve("sandbox", config=config) as server:
        api = await client_for(server, leak_rate=DRAIN)
        async with api:
            report = await _export(api, ExportSpec("products", ("products",)))
            rows.append(_economy_row(
                "2. Request economy: products", report, 1, PRODUCT_LIMIT,
                "; one extra page when the last page is full (the end is checked, not trusted to the count)",
            ))
            embedded = await _export(api, ExportSpec("products", ("products",), {"embed": ["variants"]}))
            rows.append(_economy_row(
                "2. Request economy: products with variants (embed)", embedded, 1, PRODUCT_LIMIT, "",
            ))
            small = await _export(api, ExportSpec("products", ("variants",), {"embed": ["variants"]}))
            naive, products = await one_call_per_product(api, "variants")
            rows.append(row(
                "2. (comparison) variants, one call per product vs embed",
                f"{naive:,} vs {small.requests:,} ({naive / small.requests:.0f}×)", "-", None,
                f"{products:,} products: the list, a count and {products:,} variants.list calls, "
                f"against {small.requests:,} requests with embed=variants",
                requests=naive, embed_requests=small.requests,
            ))
    return rows


async def orders_of_a_year(sizes: Sizes) -> list[Row]:
    config = {
        "malls": ["orders"],
        "products": 50,
        "orders": sizes.orders,
        "leak_rate": DRAIN,
        "customers": 50,
        "reviews": 0,
        "coupons": 0,
    }
    end = SandboxConfig().dataset_end
    start = (end - timedelta(days=364)).date()
    months = (end.year - start.year) * 12 + end.month - start.month + 1
    windows = math.ceil(months / ORDER_SPAN_MONTHS)
    with serve("sandbox", config=config) as server:
        api = await client_for(server, leak_rate=DRAIN)
        async with api:
            params: dict[str, Any] = {"start_date": start.isoformat(), "end_date": end.date().isoformat()}
            report = await _export(api, ExportSpec("orders", ("orders",), params))
            floor = await window_floor(api, "orders", params)
    return [_economy_row(
        "2. Request economy: a year of orders", report, windows, ORDER_LIMIT,
        f"; {start.isoformat()}..{end.date().isoformat()} in {windows} windows of "
        f"{ORDER_SPAN_MONTHS} months; floor under the 3-month rule (pages cannot span windows): "
        f"{floor:,}",
        floor=floor,
    )]


async def window_floor(api: Cafe24, mall_id: str, params: dict[str, Any]) -> int:
    """sum(ceil(n / limit)) + one count per window, for the windows the export read."""
    from cafe24_async.export import resolve_resource
    from cafe24_async.windows import date_windows

    route = resolve_resource("orders")
    total = 0
    windows = date_windows(api.mall(mall_id), route, (), dict(params), timeout=None)
    async for _window, _params, count in windows:
        total += 1 + math.ceil((count or 0) / ORDER_LIMIT)
    return total


async def measure(sizes: Sizes) -> list[Row]:
    return [*await products_and_variants(sizes), *await orders_of_a_year(sizes)]


def run(quick: bool = False) -> list[Row]:
    return asyncio.run(measure(QUICK if quick else FULL))


if __name__ == "__main__":
    for r in run(quick="--quick" in sys.argv):
        print(r["name"], r["figure"], r["target"], r["met"], r["note"])
