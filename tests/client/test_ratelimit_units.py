"""The leaky bucket's server sync and the per-second window, with time under control."""

from __future__ import annotations

import asyncio

import aiolimiter

from cafe24_async.clock import ManualClock
from cafe24_async.ratelimit.headers import parse_call_limit
from cafe24_async.ratelimit.leaky_bucket import ServerSyncedBucket
from cafe24_async.ratelimit.window import SlidingWindow


def test_aiolimiter_internals_still_there() -> None:
    """ServerSyncedBucket relies on these private names; fail loudly if a release renames them."""
    limiter = aiolimiter.AsyncLimiter(10, 1)
    for name in ("_level", "_last_check", "_rate_per_sec", "_waiters", "_waker_handle"):
        assert hasattr(limiter, name) or name in aiolimiter.AsyncLimiter.__slots__, name
    assert callable(aiolimiter.AsyncLimiter._leak)
    assert callable(aiolimiter.AsyncLimiter._wake_next)


def test_parse_call_limit() -> None:
    assert parse_call_limit("3/40") == (3, 40)
    assert parse_call_limit(" 12 / 80 ") == (12, 80)
    for bad in (None, "", "40", "a/b", "3/0", "-1/40"):
        assert parse_call_limit(bad) is None


async def test_sync_takes_the_larger_level() -> None:
    bucket = ServerSyncedBucket(40, 2.0)
    for _ in range(5):
        await bucket.acquire()
    bucket.sync(30, 40)  # another app used the bucket: the server knows more
    assert 29.9 < bucket.level <= 30
    bucket.sync(3, 40)  # a stale snapshot never lowers what we know
    assert bucket.level > 29.9


async def test_sync_adopts_server_capacity_and_keeps_drain_rate() -> None:
    bucket = ServerSyncedBucket(40, 2.0)
    bucket.sync(10, 80)
    assert bucket.capacity == 80 and bucket.leak_rate == 2.0
    assert abs(bucket.time_period - 40.0) < 1e-9
    assert bucket.seconds_until_room() == 0


async def test_full_bucket_makes_callers_wait() -> None:
    bucket = ServerSyncedBucket(4, 1000.0)
    bucket.sync(4, 4)
    assert bucket.seconds_until_room() > 0
    await asyncio.wait_for(bucket.acquire(), 1.0)  # drains at 1000/s: room within ~1 ms


async def test_ceiling_holds_a_route_below_its_request_limit() -> None:
    bucket = ServerSyncedBucket(40, 0.001)  # practically no drain
    for _ in range(10):
        await bucket.acquire()
    assert bucket.seconds_until_room(ceiling=10) > 0
    waiter = asyncio.ensure_future(bucket.acquire(ceiling=10))
    await asyncio.sleep(0.01)
    assert not waiter.done()  # 10 used: a route limited to 10 must wait
    await asyncio.wait_for(bucket.acquire(), 0.5)  # an unlimited route still fits
    waiter.cancel()
    level = bucket.level
    assert 10.9 < level < 11.1  # the extra room asked for is handed back, nothing leaked twice


async def test_sliding_window_allows_n_per_period() -> None:
    clock = ManualClock()
    window = SlidingWindow(10, 1.0, clock)
    for _ in range(10):
        await window.acquire()
    assert window.seconds_until_free() == 1.0
    start = clock.monotonic()
    await window.acquire()  # the manual clock advances instead of sleeping
    assert clock.monotonic() - start == 1.0
