"""The `total` time limit of each request, kept by one timer for every request in flight.

Over real HTTP to the sandbox, with answers held back by its `slow` fault: a
request that outlives its total ends with `Cafe24TimeoutError` (and is retried
like any timeout), a caller's own cancellation stays a cancellation, and no
request leaves anything behind. The unit tests drive `Deadlines` with tasks of
their own, on the event loop's clock.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from cafe24_async import Cafe24TimeoutError, RetrySettings, TimeoutSettings
from cafe24_async.deadlines import Deadlines
from cafe24_async.sandbox import FaultConfig
from tests.conftest import ClientFactory, SandboxFactory

FAST = {"base_delay": 0.001, "max_delay": 0.01}


async def test_a_request_past_its_total_times_out_and_is_retried(
    make_sandbox: SandboxFactory, make_client: ClientFactory
) -> None:
    sb = await make_sandbox(malls=("acme",), products=5)
    api = await make_client(sb, retry=RetrySettings(max_attempts=2, **FAST),
                            timeout=TimeoutSettings(read=None, total=0.3))
    mall = api.mall("acme")
    assert await mall.admin.products.count() == 5
    sb.set_faults(FaultConfig(slow_rate=1.0, slow_seconds=2.0))
    started = time.monotonic()
    with pytest.raises(Cafe24TimeoutError, match="timed out"):
        await mall.admin.products.count()
    assert time.monotonic() - started < 1.5  # two attempts of 0.3 s, each cut short of its 2 s answer
    assert sb.stats("acme").slowed == 2 and mall.stats.retries == 1
    assert len(api.deadlines) == 0
    sb.set_faults(FaultConfig())
    assert await mall.admin.products.count() == 5  # the next call is not cancelled by a stale timer


async def test_a_calls_own_total_is_kept_beside_the_clients(
    make_sandbox: SandboxFactory, make_client: ClientFactory
) -> None:
    """A shorter per-call total than the client's wakes the one timer sooner."""
    sb = await make_sandbox(malls=("acme",), products=5)
    api = await make_client(sb, retry=RetrySettings(max_attempts=1, **FAST))  # total 120 s
    mall = api.mall("acme")
    assert await mall.admin.products.count() == 5  # the bucket's level is known: calls go at once
    sb.set_faults(FaultConfig(slow_rate=1.0, slow_seconds=2.0))
    slow = asyncio.ensure_future(mall.admin.products.get(1))  # holds the timer at 120 s
    await asyncio.sleep(0.05)
    started = time.monotonic()
    with pytest.raises(Cafe24TimeoutError):
        await mall.admin.products.count(timeout=TimeoutSettings(read=None, total=0.2))
    assert time.monotonic() - started < 1.5  # not the 2 s the answer takes
    assert not slow.done()
    slow.cancel()
    with pytest.raises(asyncio.CancelledError):
        await slow
    assert len(api.deadlines) == 0


async def test_a_callers_cancellation_stays_a_cancellation(
    make_sandbox: SandboxFactory, make_client: ClientFactory
) -> None:
    sb = await make_sandbox(malls=("acme",), products=5)
    api = await make_client(sb, timeout=TimeoutSettings(read=None, total=0.3))
    sb.set_faults(FaultConfig(slow_rate=1.0, slow_seconds=2.0))
    call = asyncio.ensure_future(api.mall("acme").admin.products.count())
    await asyncio.sleep(0.1)
    call.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call
    assert len(api.deadlines) == 0


async def test_a_cancellation_from_elsewhere_wins_over_an_expiry() -> None:
    """Both arrive before the request runs again: it ends cancelled, not timed out."""
    deadlines = Deadlines()
    outcomes: list[bool] = []

    async def request() -> None:
        task = deadlines.enter(0.0)
        assert task is not None
        try:
            await asyncio.sleep(1.0)
        finally:
            outcomes.append(deadlines.leave(task))

    call = asyncio.ensure_future(request())
    await asyncio.sleep(0)  # the request is in flight, already past its deadline
    deadlines._wake(asyncio.get_running_loop())  # the timer fires...
    call.cancel()  # ...and the caller cancels, before the request runs again
    with pytest.raises(asyncio.CancelledError):
        await call
    assert outcomes == [False] and call.cancelled()
    assert len(deadlines) == 0


async def test_every_request_shares_one_timer() -> None:
    deadlines = Deadlines()
    gate = asyncio.Event()
    timers: set[int] = set()

    async def request(seconds: float) -> bool:
        task = deadlines.enter(seconds)
        assert task is not None
        timers.add(id(deadlines._handle))
        try:
            await gate.wait()
        except asyncio.CancelledError:
            if deadlines.leave(task):
                return False  # timed out
            raise
        return not deadlines.leave(task)

    long = [asyncio.ensure_future(request(60.0)) for _ in range(100)]
    await asyncio.sleep(0)
    assert len(deadlines) == 100 and len(timers) == 1  # later deadlines never re-arm it
    short = asyncio.ensure_future(request(0.05))
    assert await short is False  # the earlier deadline re-armed the timer, and it fired
    assert len(deadlines) == 100
    gate.set()
    assert all(await asyncio.gather(*long))
    assert len(deadlines) == 0


async def test_a_second_request_in_one_task_is_declined() -> None:
    deadlines = Deadlines()
    task = deadlines.enter(1.0)
    assert task is not None and task is asyncio.current_task()
    assert deadlines.enter(1.0) is None  # the caller keeps a timer of its own instead
    assert deadlines.leave(task) is False
    assert len(deadlines) == 0
