"""The leaky bucket's server sync, the foreign-use estimate and the per-second window,
with time under control (an injected clock, or explicit times)."""

from __future__ import annotations

import asyncio
import itertools
import random

import aiolimiter
import pytest

from cafe24_async.clock import ManualClock
from cafe24_async.ratelimit.foreign import ForeignUse, Ticket
from cafe24_async.ratelimit.headers import parse_call_limit
from cafe24_async.ratelimit.leaky_bucket import ServerSyncedBucket
from cafe24_async.ratelimit.window import SlidingWindow
from cafe24_async.sandbox.bucket import LeakyBucket


def test_aiolimiter_internals_still_there() -> None:
    """ServerSyncedBucket relies on these private names; fail loudly if a release renames them."""
    limiter = aiolimiter.AsyncLimiter(10, 1)
    for name in ("_level", "_last_check", "_rate_per_sec", "_waiters", "_waker_handle"):
        assert hasattr(limiter, name) or name in aiolimiter.AsyncLimiter.__slots__, name
    assert callable(aiolimiter.AsyncLimiter._leak)
    assert callable(aiolimiter.AsyncLimiter._wake_next)


async def test_the_bucket_drains_as_aiolimiter_does_never_below_calls_in_flight() -> None:
    """ServerSyncedBucket replaces aiolimiter's `_leak` (one call less per answer): same drain."""
    from cafe24_async.ratelimit.leaky_bucket import ServerSyncedBucket

    ours, theirs = ServerSyncedBucket(40, 2.0), aiolimiter.AsyncLimiter(40, 20.0)
    for level, elapsed in ((10.0, 1.0), (3.0, 5.0), (0.0, 2.0), (39.5, 0.25)):
        ours._leak(), theirs._leak()
        for bucket in (ours, theirs):
            bucket._level, bucket._last_check = level, bucket._last_check - elapsed
        ours._leak(), theirs._leak()
        assert ours._level == pytest.approx(theirs._level, abs=1e-3)
    ours._level, ours.in_flight = 2.0, 7
    assert ours.level == 7.0  # calls in flight are not drained before the server has them


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


async def test_sliding_window_holds_a_place_until_the_answer() -> None:
    clock = ManualClock()
    window = SlidingWindow(10, 1.0, clock)
    for _ in range(10):
        await window.acquire()
    assert window.seconds_until_free() is None  # ten in flight: only an answer can free a place
    clock.advance(0.3)  # the answers come back 0.3 s after the calls went
    for _ in range(10):
        window.release()
    assert window.seconds_until_free() == pytest.approx(1.0)  # a second after the answers, not the sends
    start = clock.monotonic()
    await window.acquire()  # the manual clock advances instead of sleeping
    assert clock.monotonic() - start == pytest.approx(1.0)


async def test_sliding_window_waits_for_an_answer_then_a_second() -> None:
    clock = ManualClock()
    window = SlidingWindow(2, 1.0, clock)
    await window.acquire()
    await window.acquire()
    waiter = asyncio.ensure_future(window.acquire())
    await asyncio.sleep(0)
    assert not waiter.done() and clock.monotonic() == 1000.0  # waits on the answer, not a timer
    clock.advance(0.25)
    window.release()
    answered = clock.monotonic()
    await waiter
    assert clock.monotonic() == pytest.approx(answered + 1.0)
    assert window.in_flight == 2
    with pytest.raises(RuntimeError):
        SlidingWindow(1, 1.0, clock).release()


class BucketServer:
    """The sandbox's leaky bucket on a hand-moved clock, and one client's estimate of
    other apps' use, fed with the reports in the order the answers come back."""

    def __init__(self, capacity: int, drain: float, foreign: float = 0.0) -> None:
        self.capacity, self.drain = capacity, drain
        self.now = 0.0
        self.bucket = LeakyBucket(capacity, drain, lambda: self.now, foreign)
        self.estimate = ForeignUse()

    def rate(self, at: float) -> float:
        return self.estimate.rate(at, self.capacity, self.drain)

    def take(self, at: float) -> tuple[bool, int]:
        """One of our calls reaches the server at `at` (never earlier than the last)."""
        self.now = at
        return self.bucket.acquire()

    def answer(self, ticket: Ticket, at: float, admitted: bool, used: int) -> float:
        self.estimate.report(ticket, at, used, self.capacity, self.drain, counted=admitted)
        return self.rate(at)

    def burst(self, at: float, calls: int, rng: random.Random) -> list[float]:
        """`calls` calls sent together; the server takes them in over a few ms, and the
        answers come back shuffled. The estimate after each answer."""
        tickets = [self.estimate.sent(at) for _ in range(calls)]
        taken = [(ticket, *self.take(at + 0.001 * (i + rng.random()))) for i, ticket in enumerate(tickets)]
        rng.shuffle(taken)
        back = self.now + 0.002
        return [self.answer(t, back + 0.0005 * j, ok, used) for j, (t, ok, used) in enumerate(taken)]

    def steady(self, start: float, seconds: float, rate: float) -> list[tuple[float, float]]:
        """One call at a time at `rate` per second, 10 ms to the server and 10 ms back:
        (answer time, estimate) for each."""
        out = []
        for k in range(int(seconds * rate)):
            sent = start + k / rate
            ticket = self.estimate.sent(sent)
            admitted, used = self.take(sent + 0.01)
            out.append((sent + 0.02, self.answer(ticket, sent + 0.02, admitted, used)))
        return out


@pytest.mark.parametrize("seed", range(20))
def test_answers_out_of_order_invent_no_other_app(seed: int) -> None:
    """Bursts of our own calls, answered in any order, with a level the server rounds
    up: nothing is left over for another app (the old estimate saw ~20 calls/s here)."""
    rng = random.Random(seed)
    slow = BucketServer(capacity=40, drain=20.0)  # 10 calls a second: the burst drains in between
    for second in range(20):
        assert max(slow.burst(float(second), 10, rng)) == 0.0
    fast = BucketServer(capacity=40, drain=200.0)  # 40 at once into a fast bucket, many in flight
    for step in range(20):
        assert max(fast.burst(step * 0.3, 40, rng)) == 0.0


@pytest.mark.parametrize("share", [0.25, 0.75])
def test_a_steady_other_app_is_seen_within_two_bucket_times(share: float) -> None:
    drain, capacity = 20.0, 40  # a bucket-time is 2 s
    foreign = share * drain
    server = BucketServer(capacity, drain, foreign)
    server.bucket.add_foreign(capacity - 5)  # busy from the start, as when the other app was first
    seen = server.steady(0.0, 6.0, drain - foreign)  # our fair share: the level stays put
    late = [rate for at, rate in seen if at > 4.0]
    assert min(late) >= 0.8 * foreign
    assert max(rate for _, rate in seen) <= foreign * 1.01  # a lower bound: never above the truth


def test_the_estimate_follows_an_app_that_stops_smoothly() -> None:
    drain, capacity, foreign = 20.0, 40, 10.0
    server = BucketServer(capacity, drain, foreign)
    server.bucket.add_foreign(capacity - 5)
    before = server.steady(0.0, 6.0, drain - foreign)
    server.take(6.0)  # (one more of ours, so the change applies from now on)
    server.bucket.foreign_rate = 0.0
    after = server.steady(6.0, 6.0, drain - foreign)  # the level now sinks: still busy for a while
    rates = [rate for _, rate in before[-1:] + after]
    assert rates[0] >= 0.8 * foreign
    steps = [a - b for a, b in itertools.pairwise(rates)]
    assert max(steps) < 0.1 * foreign  # no jump: it slides down with the window
    assert server.rate(12.0) < 0.2 * foreign
    assert server.rate(30.0) < 0.01 * foreign  # and decays once nothing more is learnt


async def test_a_call_waiting_for_its_second_holds_no_room_in_the_bucket() -> None:
    """The window comes first: a call the per-second rule holds back is not yet in the
    bucket, so the bucket's room is taken right before the send, not seconds earlier."""
    from cafe24_async.ratelimit.limiter import LeakyBucketLimiter, RateLimitSettings
    from cafe24_async.routes import find_route
    from cafe24_async.stats import MallStats

    clock = ManualClock()
    settings = RateLimitSettings(bucket_capacity=10, leak_rate=0.001, max_per_second=2)
    limiter = LeakyBucketLimiter(settings, clock, MallStats("acme"))
    limiter.bucket.sync(0, 10)  # the level is known: no probe
    route = find_route("GET", "/api/v2/admin/products/{product_no}")
    await limiter.acquire(route)
    await limiter.acquire(route)
    third = asyncio.ensure_future(limiter.acquire(route))
    await asyncio.sleep(0)
    assert not third.done() and limiter.window is not None and limiter.window.in_flight == 2
    assert limiter.bucket.in_flight == 2 and limiter.level == pytest.approx(2, abs=0.01)
    third.cancel()
    with pytest.raises(asyncio.CancelledError):
        await third
    assert limiter.window.in_flight == 2 and limiter.bucket.in_flight == 2
