"""Retries: which failures are tried again, how often, how long, and at what cost.

All against the sandbox over real HTTP. Retry-After is checked on a
`ManualClock` shared by the client and the sandbox, so a 7-second wait costs no
real time and is measured exactly.
"""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from cafe24_async import (
    Cafe24ConnectionError,
    Cafe24TimeoutError,
    ManualClock,
    RateLimitError,
    RetrySettings,
    ServerError,
    TimeoutSettings,
)
from cafe24_async.sandbox import FaultConfig
from tests.conftest import ClientFactory, SandboxFactory

FAST = {"base_delay": 0.001, "max_delay": 0.01}


async def test_idempotent_methods_are_retried_through_5xx_and_resets(
    make_sandbox: SandboxFactory, make_client: ClientFactory
) -> None:
    sb = await make_sandbox(malls=("acme",), products=20)
    api = await make_client(sb, retry=RetrySettings(max_attempts=30, **FAST))
    mall = api.mall("acme")
    sb.set_faults(FaultConfig(seed=5, error_rate=0.3, drop_rate=0.2, error_statuses=(500, 502, 503, 504)))
    for i in range(1, 11):
        assert (await mall.admin.products.get(i))["product_no"] == i
        await mall.admin.products.update(i, product_name=f"renamed {i}")
    for i in range(11, 16):
        await mall.admin.products.delete(i)
    assert await mall.admin.products.count() == 15
    stats = sb.stats("acme")
    assert stats.errors_injected > 0 and stats.dropped > 0
    assert {s for s in stats.statuses if s >= 500} <= {500, 502, 503, 504}
    assert mall.stats.retries == stats.errors_injected + stats.dropped
    methods = Counter(r.method for r in sb.requests if r.status is None or r.status >= 500)
    assert methods["GET"] > 0 and methods["PUT"] > 0 and methods["DELETE"] > 0


async def test_a_post_that_may_have_run_is_not_retried(
    make_sandbox: SandboxFactory, make_client: ClientFactory
) -> None:
    sb = await make_sandbox(malls=("acme",), products=5)
    api = await make_client(sb, retry=RetrySettings(max_attempts=4, **FAST))
    mall = api.mall("acme")
    for faults, error in ((FaultConfig(error_rate=1.0), ServerError),
                          (FaultConfig(drop_rate=1.0), Cafe24ConnectionError)):
        sb.set_faults(faults)
        sb.clear_requests()
        with pytest.raises(error):
            await mall.admin.products.create(product_name="once", supply_price=1)
        assert [r.method for r in sb.requests] == ["POST"]  # sent once, never again
    assert mall.stats.retries == 0


async def test_a_post_is_retried_when_the_caller_opts_in(
    make_sandbox: SandboxFactory, make_client: ClientFactory
) -> None:
    sb = await make_sandbox(malls=("acme",), products=5)
    api = await make_client(sb, retry=RetrySettings(max_attempts=4, **FAST))
    mall = api.mall("acme")
    sb.set_faults(FaultConfig(error_rate=1.0))
    with pytest.raises(ServerError):
        await mall.admin.products.create(product_name="again", supply_price=1, retry_writes=True)
    assert [r.method for r in sb.requests] == ["POST"] * 4
    sb.set_faults(FaultConfig(seed=2, error_rate=0.5))
    sb.clear_requests()
    for i in range(5):
        created = await mall.admin.products.create(product_name=f"again {i}", supply_price=1, retry_writes=True)
        assert created["product_name"] == f"again {i}"
    assert Counter(r.status for r in sb.requests)[201] == 5
    assert len(sb.requests) == 5 + mall.stats.retries - 3 and mall.stats.retries > 3


async def test_attempts_are_bounded(make_sandbox: SandboxFactory, make_client: ClientFactory) -> None:
    sb = await make_sandbox(malls=("acme",), products=5)
    api = await make_client(sb, retry=RetrySettings(max_attempts=3, **FAST))
    mall = api.mall("acme")
    sb.set_faults(FaultConfig(error_rate=1.0, error_statuses=(502,)))
    with pytest.raises(ServerError) as info:
        await mall.admin.products.count()
    assert info.value.status == 502
    assert sb.stats("acme").requests == 3 and mall.stats.retries == 2
    sb.set_faults(FaultConfig(throttle_rate=1.0))
    api2 = await make_client(sb, retry=RetrySettings(max_throttled=5, **FAST))
    with pytest.raises(RateLimitError):
        await api2.mall("acme").admin.products.count()
    assert sb.stats("acme").requests == 3 + 6  # the first try and five retries on 429


async def test_total_time_is_bounded(make_sandbox: SandboxFactory, make_client: ClientFactory) -> None:
    """No retry starts when its wait would end after `max_elapsed`."""
    clock = ManualClock()
    sb = await make_sandbox(malls=("acme",), products=5, now=clock.now)
    api = await make_client(sb, clock=clock, retry=RetrySettings(max_attempts=50, max_elapsed=25.0, **FAST))
    mall = api.mall("acme")
    sb.set_faults(FaultConfig(error_rate=1.0, error_statuses=(503,), retry_after=10.0))
    start = clock.monotonic()
    with pytest.raises(ServerError):
        await mall.admin.products.count()
    assert clock.monotonic() - start == 20.0  # two waits of 10 s; a third would end at 30 s
    assert sb.stats("acme").requests == 3


async def test_the_retry_budget_stops_a_storm(make_sandbox: SandboxFactory, make_client: ClientFactory) -> None:
    """A server failing every call gets a trickle of retries, not max_attempts per call."""
    sb = await make_sandbox(malls=("acme",), products=5)
    settings = RetrySettings(max_attempts=10, budget=20.0, retry_cost=5.0, success_refund=5.0, **FAST)
    api = await make_client(sb, retry=settings)
    mall = api.mall("acme")
    sb.set_faults(FaultConfig(error_rate=1.0))
    results = await asyncio.gather(*(mall.admin.products.count() for _ in range(10)), return_exceptions=True)
    assert all(isinstance(r, ServerError) for r in results)
    assert mall.stats.retries == 4  # 20 / 5, shared by all ten calls
    assert sb.stats("acme").requests == 10 + 4
    sb.set_faults(FaultConfig())
    await mall.admin.products.count()  # a success refunds one retry
    sb.set_faults(FaultConfig(error_rate=1.0))
    with pytest.raises(ServerError):
        await mall.admin.products.count()
    assert mall.stats.retries == 5


@pytest.mark.parametrize("http_date", [False, True])
async def test_retry_after_is_honoured(
    make_sandbox: SandboxFactory, make_client: ClientFactory, http_date: bool
) -> None:
    """Every 503 and 429 says how long to wait; the client waits exactly that."""
    wait = 7.0 if http_date else 0.75  # HTTP dates have whole seconds; the seconds form keeps fractions
    clock = ManualClock()
    sb = await make_sandbox(malls=("acme",), products=30, now=clock.now)
    api = await make_client(sb, clock=clock, retry=RetrySettings(max_attempts=50, max_elapsed=10_000, **FAST))
    mall = api.mall("acme")
    sb.set_faults(FaultConfig(seed=9, error_rate=0.3, throttle_rate=0.2, error_statuses=(503,),
                              retry_after=wait, retry_after_http_date=http_date))
    start = clock.monotonic()
    for i in range(1, 31):
        assert (await mall.admin.products.get(i))["product_no"] == i
    told = [r for r in sb.requests if r.status in (429, 503)]
    assert {r.status for r in told} == {429, 503}
    assert clock.monotonic() - start == pytest.approx(len(told) * wait)
    assert mall.stats.retries == len(told)


async def test_the_clients_timeouts_apply_and_are_retried(
    make_sandbox: SandboxFactory, make_client: ClientFactory
) -> None:
    sb = await make_sandbox(malls=("acme",), products=5)
    api = await make_client(sb, retry=RetrySettings(max_attempts=3, **FAST),
                            timeout=TimeoutSettings(connect=1.0, read=0.05, total=2.0))
    mall = api.mall("acme")
    await mall.admin.products.count()
    sb.set_faults(FaultConfig(slow_rate=1.0, slow_seconds=0.5))
    with pytest.raises(Cafe24TimeoutError):
        await mall.admin.products.count()
    assert sb.stats("acme").slowed == 3 and mall.stats.retries == 2
    sb.set_faults(FaultConfig(seed=4, slow_rate=0.5, slow_seconds=0.5))
    api2 = await make_client(sb, retry=RetrySettings(max_attempts=20, **FAST),
                             timeout=TimeoutSettings(read=0.05))
    assert await api2.mall("acme").admin.products.count() == 5
    assert api2.mall("acme").stats.retries > 0


async def test_per_call_timeouts(make_sandbox: SandboxFactory, make_client: ClientFactory) -> None:
    sb = await make_sandbox(malls=("acme",), products=5)
    api = await make_client(sb, retry=RetrySettings(max_attempts=3, **FAST))  # the lenient defaults
    mall = api.mall("acme")
    sb.set_faults(FaultConfig(slow_rate=1.0, slow_seconds=0.5))
    # Per-request limits for one call: each attempt times out on the read.
    with pytest.raises(Cafe24TimeoutError):
        await mall.admin.products.count(timeout=TimeoutSettings(connect=1.0, read=0.05, total=1.0))
    assert sb.stats("acme").slowed == 3
    # Seconds for the whole call: one slow attempt uses it all, no retry starts after it.
    with pytest.raises(Cafe24TimeoutError) as info:
        await mall.admin.products.count(timeout=0.2)
    assert "0.2s" in str(info.value) and info.value.path == "/api/v2/admin/products/count"
    assert sb.stats("acme").slowed == 4
    # A call within its limits is unaffected, and the next call has the client's defaults again.
    sb.set_faults(FaultConfig())
    assert await mall.admin.products.count(timeout=5) == 5
    assert mall.limiter("leaky_bucket").bucket.in_flight == 0
