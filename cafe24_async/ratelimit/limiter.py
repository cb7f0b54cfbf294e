"""Pacing objects: what a request waits on before it is sent.

`Limiter` is the interface the request path uses; which class stands behind it
is decided by the API definition (`leaky_bucket`, `token_bucket`,
`fixed_window`) and the client settings (in-process or shared), never by the
request path itself.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Protocol

import attrs

from cafe24_async.clock import Clock
from cafe24_async.ratelimit.headers import CALL_LIMIT, header_float, header_floats, parse_call_limit
from cafe24_async.ratelimit.leaky_bucket import ServerSyncedBucket
from cafe24_async.ratelimit.permit import Permit
from cafe24_async.ratelimit.window import SlidingWindow
from cafe24_async.routes.route import Route
from cafe24_async.stats import MallStats
from cafe24_async.transport import header_name

#: The Analytics API's token bucket report, in the order its limiter reads it.
TOKEN_BUCKET_HEADERS = tuple(map(header_name, (
    "X-RateLimit-Remaining", "X-RateLimit-Burst-Capacity", "X-RateLimit-Requested-Tokens",
    "X-RateLimit-Replenish-Rate",
)))
#: The D.Collection API's fixed window report: its size and what is left of it.
WINDOW_HEADERS = (header_name("X-RateLimit-Limit"), header_name("X-RateLimit-Remaining"))


@attrs.frozen(slots=True)
class RateLimitSettings:
    """How each mall's calls are paced.

    Defaults follow the newer overview: a bucket of 40 draining 2 calls per
    second (the older reference says 1 per second: set `leak_rate=1.0`), and at
    most 10 calls in any one second. The bucket size is replaced by the server's
    figure from the first `X-Api-Call-Limit` header on.
    """

    bucket_capacity: int = 40
    leak_rate: float = 2.0
    #: Calls in any one second per mall; None turns the cap off.
    max_per_second: int | None = 10
    #: Honour the per-route "Request Limit" of the older reference as a ceiling.
    route_limits: bool = True
    #: Route limits at or above this size are the older reference's whole-bucket
    #: size (30 then, 40 now), so they follow the live bucket instead.
    legacy_bucket_size: int = 30
    #: Analytics API token bucket: burst, and tokens added per second
    #: (the overview: "one token will be added to the bucket every two seconds").
    analytics_burst: int = 10
    analytics_refill_per_second: float = 0.5
    #: D.Collection API: calls per fixed window, per IP (overview: 40 per minute).
    dcollection_limit: int = 40
    dcollection_window: float = 60.0

    def route_ceiling(self, route: Route) -> int | None:
        """The bucket level below which `route` may start, when its Request Limit sets one."""
        limit = route.request_limit
        if not self.route_limits or limit is None:
            return None
        return limit if limit < self.legacy_bucket_size else None


class Limiter(Protocol):
    async def acquire(self, route: Route) -> Permit:
        """Wait until a call of `route` may be sent, count it, and hand it its permit."""

    def try_acquire(self, route: Route) -> Permit | None:
        """`acquire` when it would not wait: the permit, or None with nothing changed
        (the caller then awaits `acquire`)."""

    def observe(self, permit: Permit, status: int, headers: Mapping[str, str]) -> None:
        """Take in the rate-limit headers of the answer to the call holding `permit`
        (errors included)."""

    def release(self, permit: Permit) -> None:
        """The call holding `permit` is over (answered, failed or cancelled).
        Called exactly once per permit."""

    @property
    def level(self) -> float:
        """How full the pacing object is now, in calls."""


class FirstReportGate:
    """Until the server has reported the bucket's level, let one call through at a time.

    A new client knows nothing of what other apps have put in the bucket; a
    blind burst of 40 into a bucket already holding 35 gets 35 refusals. One
    probing call costs one round trip and tells the level.
    """

    def __init__(self, bucket: ServerSyncedBucket) -> None:
        self._bucket = bucket
        self._lock = asyncio.Lock()
        self._probing = False

    async def enter(self) -> None:
        if self._bucket.reported:
            return
        await self._lock.acquire()
        if self._bucket.reported:
            self._lock.release()
        else:
            self._probing = True  # held until this call's answer is in

    def leave(self) -> None:
        if self._probing:
            self._probing = False
            self._lock.release()


class _BucketLimiter:
    """What the two bucket limiters share: the server-synced bucket behind the
    first-report gate, the ticket each permit carries (see `ratelimit.permit`),
    and the release that ends a call's stay in flight."""

    def __init__(self, bucket: ServerSyncedBucket, clock: Clock, stats: MallStats) -> None:
        self.bucket = bucket
        self._gate = FirstReportGate(bucket)
        self._clock = clock
        self._stats = stats

    @property
    def level(self) -> float:
        return self.bucket.level

    async def _enter(self, ceiling: float | None = None) -> None:
        """Pass the gate and take room in the bucket (the gate is left again on cancel)."""
        await self._gate.enter()
        try:
            await self.bucket.acquire(ceiling=ceiling)
        except BaseException:
            self._gate.leave()
            raise

    def _leave(self) -> None:
        """Give back what `_enter` took."""
        self.bucket.release()
        self._gate.leave()

    def _send(self, permit: Permit) -> Permit:
        """The call goes out now: its ticket is what its report will be read with."""
        permit.ticket = self.bucket.sent()
        return permit

    def _sync(self, permit: Permit, status: int, used: float, capacity: float) -> None:
        """Take in a report of the bucket's level, for the call holding `permit`."""
        self.bucket.sync(used, capacity, counted=status != 429, ticket=permit.ticket)

    def release(self, permit: Permit) -> None:
        self._leave()


class LeakyBucketLimiter(_BucketLimiter):
    """The mall's Admin and Front calls: leaky bucket plus the per-second cap."""

    def __init__(self, settings: RateLimitSettings, clock: Clock, stats: MallStats) -> None:
        super().__init__(ServerSyncedBucket(settings.bucket_capacity, settings.leak_rate), clock, stats)
        self.settings = settings
        self.window = (
            SlidingWindow(settings.max_per_second, 1.0, clock) if settings.max_per_second else None
        )

    def __repr__(self) -> str:
        return f"LeakyBucketLimiter({self.bucket!r}, {self.window!r})"

    def ceiling(self, route: Route) -> int | None:
        return self.settings.route_ceiling(route)

    def try_acquire(self, route: Route) -> Permit | None:
        """Room in the window and the bucket now, and nobody queued for either."""
        window = self.window
        if window is not None and not window.try_acquire():
            return None
        # Most routes print no Request Limit: no ceiling to work out for them.
        ceiling = None if route.request_limit is None else self.settings.route_ceiling(route)
        ticket = self.bucket.try_take(ceiling)
        if ticket is None:
            if window is not None:
                window.cancel()
            return None
        return Permit(ticket, window is not None)

    async def acquire(self, route: Route) -> Permit:
        permit = Permit()
        started = self._stats.wait_began(self._clock.monotonic())
        try:
            await self._take(permit, self.ceiling(route))
        finally:
            self._stats.wait_ended(started, self._clock.monotonic())
        return permit

    async def _take(self, permit: Permit, ceiling: int | None) -> None:
        """The window first, then the bucket: the bucket's room is taken right before
        the send, never by a call that still has to wait for its second."""
        window = self.window
        if window is not None:
            await window.acquire()
            permit.windowed = True
        try:
            await self._enter(ceiling)
        except BaseException:
            if window is not None:
                window.cancel()  # never sent: its place is free at once
            raise
        self._send(permit)

    def observe(self, permit: Permit, status: int, headers: Mapping[str, str]) -> None:
        reported = parse_call_limit(headers.get(CALL_LIMIT))
        if reported is not None:
            used, capacity = reported
            self._sync(permit, status, used, capacity)
            stats = self._stats
            stats.server_level, stats.server_capacity = used, capacity
        elif status == 429:
            self.bucket.fill(permit.ticket)  # a refusal without a report: the bucket is full

    def release(self, permit: Permit) -> None:
        if permit.windowed and self.window is not None:
            self.window.release()
        self._leave()


class TokenBucketLimiter(_BucketLimiter):
    """The Analytics API's token bucket, as a leaky bucket of spent tokens.

    A token bucket holding `remaining` of `burst` tokens is a leaky bucket whose
    level is `burst - remaining`, draining at the refill rate; so the same
    server-synced bucket serves, counted in calls: each call spends
    `X-RateLimit-Requested-Tokens` tokens (1 unless told), so the bucket holds
    `burst / requested` calls and drains `refill / requested` calls per second.

    Every answer resyncs it: `X-RateLimit-Remaining` sets the level,
    `X-RateLimit-Burst-Capacity` the size, and `X-RateLimit-Replenish-Rate` (read
    as tokens per second, the meaning these gateway headers have) may lower the
    drain below the configured rate but never raise it. The docs' example shows
    "Replenish-Rate: 2" next to the text "one token every two seconds", so the
    header's unit is uncertain and the documented rate stays the ceiling. A 429
    fills the local bucket, so the next call waits for one refill.
    """

    def __init__(self, settings: RateLimitSettings, clock: Clock, stats: MallStats) -> None:
        self.refill = settings.analytics_refill_per_second
        super().__init__(ServerSyncedBucket(settings.analytics_burst, self.refill), clock, stats)

    def __repr__(self) -> str:
        return f"TokenBucketLimiter({self.bucket!r})"

    def try_acquire(self, route: Route) -> Permit | None:
        ticket = self.bucket.try_take()
        return None if ticket is None else Permit(ticket)

    async def acquire(self, route: Route) -> Permit:
        started = self._stats.wait_began(self._clock.monotonic())
        try:
            await self._enter()
            return self._send(Permit())
        finally:
            self._stats.wait_ended(started, self._clock.monotonic())

    def observe(self, permit: Permit, status: int, headers: Mapping[str, str]) -> None:
        remaining, burst, requested, replenish = header_floats(headers, TOKEN_BUCKET_HEADERS)
        cost = requested if requested is not None and requested > 0 else 1.0
        tokens = burst if burst is not None and burst >= 1 else self.bucket.capacity * cost
        capacity = max(1.0, tokens / cost)
        rate = self.refill
        if replenish is not None and replenish > 0:
            rate = min(rate, replenish)
        self.bucket.leak_rate = rate / cost
        if remaining is not None:
            spent = min(tokens, max(0.0, tokens - remaining)) / cost
            self._sync(permit, status, spent, capacity)
        elif status == 429:
            self.bucket.fill(permit.ticket)


class FixedWindowLimiter:
    """The D.Collection API's throttle: `limit` calls per fixed window of `window` seconds.

    The server (Laravel's throttle middleware, per IP) opens a window with the
    first call that reaches it and refuses calls past the limit until the
    window ends. Here a window opens with the first call sent, and its start
    then moves to the first answer received in it: the server's window opened
    somewhere in between, so counting from the answer never ends the local
    window before the server's. `X-RateLimit-Limit` / `X-RateLimit-Remaining`
    correct the count, and a 429 closes the current window (for `Retry-After`
    seconds when given).
    """

    def __init__(self, settings: RateLimitSettings, clock: Clock, stats: MallStats) -> None:
        self.limit = settings.dcollection_limit
        self.window = settings.dcollection_window
        self._clock = clock
        self._stats = stats
        self._window_start = -float("inf")
        self._used = 0
        self._anchor = False
        self._lock = asyncio.Lock()

    def __repr__(self) -> str:
        return f"FixedWindowLimiter(used={self._used}/{self.limit}, window={self.window:g}s)"

    @property
    def level(self) -> float:
        self._roll()
        return float(self._used)

    def _roll(self) -> None:
        now = self._clock.monotonic()
        if now >= self._window_start + self.window:
            self._window_start, self._used = now, 0
            self._anchor = True

    def try_acquire(self, route: Route) -> Permit | None:
        if self._lock.locked():
            return None  # calls are queued for the next window
        self._roll()
        if self._used >= self.limit:
            return None
        self._used += 1
        return Permit()

    async def acquire(self, route: Route) -> Permit:
        started = self._stats.wait_began(self._clock.monotonic())
        try:
            async with self._lock:
                while True:
                    self._roll()
                    if self._used < self.limit:
                        self._used += 1
                        break
                    await self._clock.sleep(self._window_start + self.window - self._clock.monotonic())
        finally:
            self._stats.wait_ended(started, self._clock.monotonic())
        return Permit()

    def release(self, permit: Permit) -> None:
        """Nothing to do: a fixed window counts calls, not calls in flight."""

    def observe(self, permit: Permit, status: int, headers: Mapping[str, str]) -> None:
        limit, remaining = header_floats(headers, WINDOW_HEADERS)
        if limit is not None and limit >= 1:
            self.limit = int(limit)
        if remaining is not None:
            self._used = max(self._used, self.limit - int(remaining))
        if status == 429:
            self._used = self.limit
            self._anchor = False
            retry_after = header_float(headers, "Retry-After")
            if retry_after is not None:
                self._window_start = self._clock.monotonic() + retry_after - self.window
        elif self._anchor:
            self._anchor = False
            self._window_start = max(self._window_start, self._clock.monotonic())
