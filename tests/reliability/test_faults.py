"""Exports under injected faults: every record exactly once, and no hang.

The sandbox injects a seeded mix of 5xx answers, dropped connections and
truncated JSON bodies. A products export (past the offset cap, so the keyset
continuation is exercised too) and a year of orders (split into date windows)
must come back whole: nothing lost, nothing twice. A body that cannot be read
is a clear error or a retry, never a silent partial page.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterable
from typing import Any

import pytest

from cafe24_async import Cafe24ConnectionError, DecodeError, RetrySettings, ServerError
from cafe24_async.sandbox import FaultConfig, Sandbox
from tests.conftest import ClientFactory, SandboxFactory

FAST_RETRY = RetrySettings(base_delay=0.001, max_delay=0.01)
#: The issue's mix: 5% 5xx, 2% dropped connections, 1% truncated bodies.
MIX = {"error_rate": 0.05, "drop_rate": 0.02, "truncate_rate": 0.01}


def figures(expected: Iterable[Any], seen: list[Any]) -> dict[str, int]:
    """Records expected, seen, seen more than once, and never seen."""
    wanted = set(expected)
    counts = Counter(seen)
    return {
        "expected": len(wanted),
        "seen": len(seen),
        "duplicated": sum(n - 1 for n in counts.values() if n > 1),
        "lost": len(wanted - set(counts)),
        "unexpected": len(set(counts) - wanted),
    }


def faults_met(sb: Sandbox, mall_id: str) -> tuple[int, int, int]:
    stats = sb.stats(mall_id)
    return stats.errors_injected, stats.dropped, stats.truncated


@pytest.mark.parametrize("seed", [11, 12])
async def test_products_export_under_faults_is_exact(
    make_sandbox: SandboxFactory, make_client: ClientFactory, seed: int
) -> None:
    sb = await make_sandbox(malls=("acme",), per_mall_products={"acme": 6_000})
    api = await make_client(sb, retry=FAST_RETRY)
    mall = api.mall("acme")
    sb.set_faults(FaultConfig(seed=seed, **MIX))
    seen = [p["product_no"] async for p in mall.admin.products.iterate(limit=25, fields=["product_no"])]
    result = figures((p["product_no"] for p in sb.dataset("acme").products.records), seen)
    assert result == {"expected": 6_000, "seen": 6_000, "duplicated": 0, "lost": 0, "unexpected": 0}
    errors, dropped, truncated = faults_met(sb, "acme")
    assert errors > 0 and dropped > 0 and truncated > 0  # the mix was really met
    assert mall.stats.retries == errors + truncated + mall.stats.connection_errors
    assert mall.stats.connection_errors == dropped  # every drop seen, none retried behind our back
    pages = [r for r in sb.requests if r.path == "/api/v2/admin/products"]
    assert any("since_product_no" in r.query for r in pages)  # past the offset cap


@pytest.mark.parametrize("seed", [111, 112])
async def test_a_year_of_orders_under_faults_is_exact(
    make_sandbox: SandboxFactory, make_client: ClientFactory, seed: int
) -> None:
    sb = await make_sandbox(malls=("acme",), orders=4_000, customers=200)
    api = await make_client(sb, retry=FAST_RETRY)
    mall = api.mall("acme")
    sb.set_faults(FaultConfig(seed=seed, **MIX))
    seen = [
        o["order_id"]
        async for o in mall.admin.orders.iterate(start_date="2025-11-01", end_date="2026-10-31", limit=25)
    ]
    result = figures((o["order_id"] for o in sb.dataset("acme").orders.records), seen)
    assert result == {"expected": 4_000, "seen": 4_000, "duplicated": 0, "lost": 0, "unexpected": 0}
    errors, dropped, truncated = faults_met(sb, "acme")
    assert errors > 0 and dropped > 0 and truncated > 0
    assert mall.stats.retries == errors + truncated + mall.stats.connection_errors
    assert mall.stats.connection_errors == dropped
    windows = {(r.query["start_date"], r.query["end_date"]) for r in sb.requests if r.path == "/api/v2/admin/orders"}
    assert len(windows) >= 4  # a year is read in windows of at most three months


async def test_a_truncated_body_is_retried_then_a_clear_error(
    make_sandbox: SandboxFactory, make_client: ClientFactory
) -> None:
    sb = await make_sandbox(malls=("acme",), products=30)
    api = await make_client(sb, retry=RetrySettings(max_attempts=3, base_delay=0.001))
    mall = api.mall("acme")
    sb.set_faults(FaultConfig(truncate_rate=1.0))
    with pytest.raises(DecodeError) as info:
        await asyncio.wait_for(mall.admin.products.list(limit=30), 5.0)
    assert info.value.status == 200
    assert "not valid JSON" in str(info.value) and "cut short" in str(info.value)
    assert info.value.path == "/api/v2/admin/products"
    assert sb.stats("acme").truncated == 3  # every attempt read the whole (short) body, then gave up


async def test_a_truncated_page_is_never_yielded_in_part(
    make_sandbox: SandboxFactory, make_client: ClientFactory
) -> None:
    """Half the answers cut short: the pages that come out are whole pages."""
    sb = await make_sandbox(malls=("acme",), products=400)
    api = await make_client(sb, retry=RetrySettings(max_attempts=20, base_delay=0.001, max_delay=0.005))
    mall = api.mall("acme")
    sb.set_faults(FaultConfig(seed=3, truncate_rate=0.5))
    pages = [await mall.admin.products.list(limit=50, offset=offset) for offset in range(0, 400, 50)]
    assert [len(page) for page in pages] == [50] * 8
    assert [p["product_no"] for page in pages for p in page] == list(range(1, 401))
    assert sb.stats("acme").truncated > 0


async def test_dropped_connections_and_5xx_end_in_errors_not_hangs(
    make_sandbox: SandboxFactory, make_client: ClientFactory
) -> None:
    sb = await make_sandbox(malls=("acme",), products=10)
    api = await make_client(sb, retry=RetrySettings(max_attempts=3, base_delay=0.001))
    mall = api.mall("acme")
    sb.set_faults(FaultConfig(drop_rate=1.0))
    with pytest.raises(Cafe24ConnectionError):
        await asyncio.wait_for(mall.admin.products.count(), 5.0)
    assert mall.stats.connection_errors == 3
    assert sb.stats("acme").dropped == 3  # no hidden extra attempt below the retry loop
    sb.set_faults(FaultConfig(error_rate=1.0))
    with pytest.raises(ServerError) as info:
        await asyncio.wait_for(mall.admin.products.count(), 5.0)
    assert info.value.status in (500, 503, 504)
    assert sb.stats("acme").errors_injected == 3
