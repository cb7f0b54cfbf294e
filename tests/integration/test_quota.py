"""The second limit, the mall-wide usage quotas, against the sandbox over real HTTP.

The sandbox meters calls and processing time per mall (`sandbox.usage`), sends
the four `X-Cafe24-*` headers and blocks a mall at 100%. The quotas here are
small and drain within a second or two, so an export crosses them quickly;
the proof is in the server's counters (429s, blocks, calls made during a
block, arrival times), never in sleeping.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from cafe24_async import Cafe24Error, QuotaWaitError
from cafe24_async.client import Cafe24
from cafe24_async.errors import QuotaHeadroomError, RateLimitError
from cafe24_async.ratelimit.quota import QuotaSettings
from cafe24_async.sandbox import Sandbox
from tests.conftest import ClientFactory, SandboxFactory

#: Little shop data besides the products the export reads.
SMALL: dict[str, Any] = {"customers": 10, "orders": 20, "reviews": 10}
#: An export of 3,000 products in pages of 20 (151 calls, 4 at a time) against a quota of 50 calls
#: per second: sent at the bucket's pace it uses the quota up within a fraction of a second.
EXPORT: dict[str, Any] = {**SMALL, "malls": ("acme",), "products": 3000, "call_quota": 50, "quota_window": 1.0}


async def export(sb: Sandbox, api: Cafe24) -> dict[str, Any]:
    """Read every product; what the server and the client saw."""
    mall = api.mall("acme")
    started = time.monotonic()
    outcome = "finished"
    try:
        products = [p async for p in mall.admin.products.iterate(limit=20, concurrency=4)]
        assert len(products) == 3000
    except Cafe24Error as exc:
        outcome = type(exc).__name__
    server = sb.stats("acme")
    return {
        "outcome": outcome,
        "seconds": round(time.monotonic() - started, 2),
        "requests": server.requests,
        "429s": server.throttled,
        "blocks": server.quota_blocks,
        "calls_during_block": server.calls_during_block,
        "max_call_usage": server.max_call_usage,
        "paused_seconds": round(mall.stats.paused_seconds, 2),
    }


async def test_a_governed_export_slows_down_and_is_never_blocked(
    make_sandbox: SandboxFactory, make_client: ClientFactory
) -> None:
    sb = await make_sandbox(**EXPORT)
    api = await make_client(sb)  # default QuotaSettings: slow above 80%
    figures = await export(sb, api)
    print("\nwith the governor:", figures)
    assert figures["outcome"] == "finished"
    assert figures["429s"] == 0 and figures["blocks"] == 0 and figures["paused_seconds"] == 0
    assert 80 <= figures["max_call_usage"] < 100  # it went past the line and was held there
    mall = api.mall("acme")
    assert mall.stats.call_usage is not None and mall.stats.time_usage is None  # no time quota here


async def test_without_the_governor_the_same_export_is_blocked(
    make_sandbox: SandboxFactory, make_client: ClientFactory
) -> None:
    sb = await make_sandbox(**EXPORT)
    api = await make_client(sb, quota=QuotaSettings(enabled=False))
    figures = await export(sb, api)
    print("\nwithout the governor:", figures)
    assert figures["blocks"] >= 1 and figures["429s"] > 0
    assert figures["calls_during_block"] > 0  # nothing held the other calls back
    assert figures["paused_seconds"] == 0
    assert figures["outcome"] == RateLimitError.__name__  # the block outlasted every retry
    assert api.mall("acme").stats.call_usage is not None  # headers are still read


async def test_pausing_alone_rides_out_the_block(
    make_sandbox: SandboxFactory, make_client: ClientFactory
) -> None:
    """Slowing off (slow_above=100), pausing on: blocked, paused, finished."""
    sb = await make_sandbox(**EXPORT)
    api = await make_client(sb, quota=QuotaSettings(slow_above=100.0))
    figures = await export(sb, api)
    print("\npausing only:", figures)
    assert figures["outcome"] == "finished"
    assert figures["blocks"] >= 1 and figures["paused_seconds"] > 0


async def test_a_block_pauses_every_task_and_api_and_sends_nothing(
    make_sandbox: SandboxFactory, make_client: ClientFactory
) -> None:
    sb = await make_sandbox(**SMALL, malls=("acme",), products=50, call_quota=100, quota_window=2.0)
    api = await make_client(sb)
    mall = api.mall("acme")
    assert await mall.admin.products.count() == 50
    assert mall.quota.call_usage == pytest.approx(1.0, abs=0.2) and mall.quota.call_remain is None
    started = time.monotonic()
    remain = sb.exhaust_quota("acme")  # another app used the quota up: the client does not know
    assert remain == pytest.approx(1.0, abs=0.01)
    first = asyncio.create_task(mall.admin.products.count())
    while not mall.quota.blocked():  # the first answer (429 + Remain) sets the pause
        await asyncio.sleep(0.005)
    assert mall.quota.call_remain == pytest.approx(remain, abs=0.05)
    others = [mall.admin.products.get(1 + i % 50) for i in range(12)]
    others += [mall.front.products.list(limit=5) for _ in range(4)]
    others += [mall.analytics.visitors.view.list(start_date="2026-03-01", end_date="2026-03-02")
               for _ in range(4)]
    results = await asyncio.gather(first, *others)
    assert len(results) == 21 and results[0] == 50

    server = sb.stats("acme")
    assert server.quota_blocks == 1 and server.quota_refused == 1
    assert server.calls_during_block == 0
    requests = [r for r in sb.requests if r.at >= started]
    notice = requests[0]
    assert notice.status == 429 and all(r.status == 200 for r in requests[1:])
    assert len(requests) == 22  # the notice, its retry, and the 20 other calls: no probe
    assert min(r.at for r in requests[1:]) >= started + remain - 0.001
    assert {r.api for r in requests} == {"admin", "front", "analytics"}
    assert mall.stats.paused_seconds == pytest.approx(remain, abs=0.1)
    assert mall.quota.pauses == 1 and mall.stats.throttled == 1


async def test_a_write_unit_needs_headroom(make_sandbox: SandboxFactory, make_client: ClientFactory) -> None:
    """Writes cost 60 times a read here: two of them leave no room for a third unit."""
    sb = await make_sandbox(**SMALL, malls=("acme",), products=10, time_quota=1000.0, quota_window=60.0,
                            read_cost_ms=5.0, write_cost_ms=300.0)
    api = await make_client(sb)
    mall = api.mall("acme")
    await mall.admin.products.count()
    assert mall.quota.time_usage == pytest.approx(0.5, abs=0.1) and mall.quota.call_usage is None
    for _ in range(2):
        assert mall.has_headroom(50)
        async with mall.write_unit(ceiling=50):
            await mall.admin.products.create(product_name="묶음 상품", supply_price=1000)
    assert mall.quota.time_usage == pytest.approx(60.5, abs=0.5)
    assert mall.stats.time_usage == mall.quota.time_usage
    assert not mall.has_headroom(50) and mall.has_headroom(70)
    sent = len(sb.requests)
    with pytest.raises(QuotaHeadroomError) as info:
        async with mall.write_unit(ceiling=50):
            await mall.admin.products.create(product_name="never sent", supply_price=1000)
    assert len(sb.requests) == sent
    assert info.value.ceiling == 50 and info.value.usage == mall.quota.time_usage
    assert "headroom" in str(info.value)


async def test_a_caller_with_a_deadline_gets_quota_wait_error_at_once(
    make_sandbox: SandboxFactory, make_client: ClientFactory
) -> None:
    sb = await make_sandbox(**SMALL, malls=("acme", "beta"), products=10, call_quota=100, quota_window=20.0)
    api = await make_client(sb)
    mall = api.mall("acme")
    remain = sb.exhaust_quota("acme")  # a 10 s block
    started = time.monotonic()
    with pytest.raises(QuotaWaitError) as info:
        await mall.admin.products.count(timeout=0.5)
    assert time.monotonic() - started < 0.5
    assert info.value.wait == pytest.approx(remain, abs=0.1) and info.value.max_wait == 0.5
    sent = len(sb.requests)
    with pytest.raises(QuotaWaitError):
        await mall.analytics.visitors.view.list(start_date="2026-03-01", end_date="2026-03-02", timeout=3)
    assert len(sb.requests) == sent  # known block: nothing sent
    assert sb.stats("acme").calls_during_block == 0

    patient = await make_client(sb, quota=QuotaSettings(max_wait=2.0))
    sb.exhaust_quota("beta")
    with pytest.raises(QuotaWaitError, match="beta"):
        await patient.mall("beta").admin.products.count()
