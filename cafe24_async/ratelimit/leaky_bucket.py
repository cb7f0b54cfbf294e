"""The mall's leaky bucket, kept in step with what the server reports.

Cafe24 meters each mall with a leaky bucket (docs: "API Limit"): every call adds
one, the bucket drains `leak_rate` calls per second, and a call that finds it
full gets 429. `aiolimiter.AsyncLimiter` is that algorithm on the client side.
This subclass adds what aiolimiter has no public way to do:

- `sync(used, capacity)`: after every response, take in `X-Api-Call-Limit`. The
  local level becomes the larger of the local estimate (already leaked) and the
  server's count, so calls made by other apps or processes are accounted for, and
  a stale server snapshot never lowers what we know we sent.
- `acquire(ceiling=...)`: a route with a lower documented "Request Limit" may
  only start while the level is below that ceiling.
- in-flight floor: a call counts from the moment it is allowed, but the server
  only starts draining it once it arrives. So the local level never leaks below
  the number of calls still in flight (`release()` ends one). Without the floor,
  calls held up on the way (a busy connection pool) would drain locally while
  the server, still empty of them, drains nothing, and then arrive together at a
  server fuller than the estimate.

- foreign use: other apps draining the same bucket leave this client less than
  the full drain rate. `ForeignUse` (ratelimit.foreign) estimates their calls
  per second from the reports, each matched with the call it answers (`sent()`
  hands out the ticket), and the local bucket drains at `leak_rate` less that.
  The estimate is a lower bound: out-of-order answers and rounding cannot
  invent another app, so the pace is never held down by one that is not there.

It touches aiolimiter's private `_level`, `_last_check`, `_rate_per_sec`,
`_leak` (replaced, same arithmetic), `_wake_next`, `_waiters` and
`_waker_handle`; a test fails if those change in a new aiolimiter release.
"""

from __future__ import annotations

from aiolimiter import AsyncLimiter

from cafe24_async.ratelimit.foreign import ForeignUse, Ticket

#: The drain the bucket keeps for this client whatever other apps are thought to use.
MIN_DRAIN_SHARE = 0.05


class ServerSyncedBucket(AsyncLimiter):
    """A leaky bucket of `capacity` calls draining `leak_rate` calls per second."""

    __slots__ = ("foreign", "in_flight", "leak_rate", "reported")

    def __init__(self, capacity: float, leak_rate: float) -> None:
        if capacity < 1 or leak_rate <= 0:
            raise ValueError("capacity must be >= 1 and leak_rate > 0")
        super().__init__(capacity, capacity / leak_rate)
        self.leak_rate = leak_rate
        #: Calls allowed and not yet answered.
        self.in_flight = 0
        #: True once the server has reported the bucket's level.
        self.reported = False
        #: Other apps' use of the bucket, learnt from the reports.
        self.foreign = ForeignUse()

    def __repr__(self) -> str:
        return (
            f"ServerSyncedBucket(level={self.level:.2f}, capacity={self.capacity:g}, "
            f"leak_rate={self.leak_rate:g}/s, in_flight={self.in_flight}, waiters={len(self._waiters)})"
        )

    def _leak(self) -> None:
        """aiolimiter's drain up to now, never below the calls in flight."""
        try:
            now = self._event_loop.time()
        except AttributeError:  # not used on a loop yet: aiolimiter binds it
            now = self._loop.time()
        level = self._level
        if level:
            level = max(level - (now - self._last_check) * self._rate_per_sec, 0.0)
        self._level = level if level >= self.in_flight else float(self.in_flight)
        self._last_check = now

    @property
    def capacity(self) -> float:
        return float(self.max_rate)

    @property
    def level(self) -> float:
        """Calls currently in the bucket, leaked up to now."""
        self._leak()
        return float(self._level)

    def seconds_until_room(self, ceiling: float | None = None) -> float:
        """How long until one more call fits under `ceiling` (or the capacity)."""
        limit = self.capacity if ceiling is None else min(ceiling, self.capacity)
        excess = self.level + 1 - limit
        return max(0.0, excess / self.leak_rate)

    async def acquire(self, amount: float = 1, ceiling: float | None = None) -> None:
        """Take room for `amount` calls, waiting while the level is at the limit.

        With a `ceiling` below the capacity, the wait lasts until the level is
        below the ceiling: the request asks aiolimiter for the gap between
        capacity and ceiling as extra room, then hands that extra back at once.
        """
        extra = 0.0 if ceiling is None else max(0.0, self.capacity - max(1.0, ceiling))
        await super().acquire(amount + extra)
        self.in_flight += 1
        if extra:
            self._level -= extra
            self._wake_next()

    def try_take(self, ceiling: float | None = None) -> Ticket | None:
        """`acquire()` and `sent()` in one, when acquiring would not wait: the server has
        reported the level, nobody is queued, and the call fits now. Returns the call's
        ticket, or None with nothing changed."""
        if not self.reported or self._waiters:
            return None
        extra = 0.0 if ceiling is None else max(0.0, self.max_rate - max(1.0, ceiling))
        self._leak()
        if self._level + 1 + extra > self.max_rate:
            return None
        self._level += 1
        self.in_flight += 1
        return self.foreign.sent(self._last_check)

    def release(self) -> None:
        """One call acquired earlier got its answer (or failed): it may now drain."""
        if self.in_flight <= 0:
            raise RuntimeError("release() without a matching acquire()")
        self.in_flight -= 1
        if self._waiters or self._waker_handle is not None:
            self._wake_next()

    def sent(self) -> Ticket:
        """A call let through goes out now: the ticket to hand back with its report."""
        return self.foreign.sent(self._loop.time())

    @property
    def foreign_rate(self) -> float:
        """Calls per second other users of the bucket are estimated to make."""
        return self.foreign.rate(self._last_check, self.capacity, self.leak_rate)

    def sync(
        self, used: float, capacity: float | None = None, counted: bool = True, ticket: Ticket | None = None
    ) -> None:
        """Take in the server's report `used/capacity` (the larger level wins).

        `counted` is False for a refused (429) call, which the server did not add;
        `ticket` is the reported call's, from `sent()` (without one, nothing is learnt
        about other apps).
        """
        self._leak()
        if capacity is not None and capacity >= 1:
            self.max_rate = capacity
        used = float(used)
        self.foreign.report(ticket, self._last_check, used, float(self.max_rate), self.leak_rate, counted)
        self._take_level(used)

    def fill(self, ticket: Ticket | None = None) -> None:
        """A refusal without a report (a bare 429): the bucket is full, and the call
        was not counted."""
        self._leak()
        self.foreign.report(ticket, self._last_check, None, self.capacity, self.leak_rate, counted=False)
        self._take_level(self.capacity)

    def _take_level(self, used: float) -> None:
        """The server's level is known: drain at what other apps leave, never below it."""
        self.reported = True
        rate = self.leak_rate
        foreign = self.foreign.rate(self._last_check, float(self.max_rate), rate)
        drain = rate - foreign if foreign < rate * (1 - MIN_DRAIN_SHARE) else rate * MIN_DRAIN_SHARE
        self._rate_per_sec = drain
        self.time_period = self.max_rate / drain
        if used > self._level:
            self._level = min(used, float(self.max_rate))
        if self._waiters or self._waker_handle is not None:
            self._wake_next()
