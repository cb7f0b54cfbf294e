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

It touches aiolimiter's private `_level`, `_leak` and `_wake_next`; a test fails
if those change in a new aiolimiter release.
"""

from __future__ import annotations

from aiolimiter import AsyncLimiter


class ServerSyncedBucket(AsyncLimiter):
    """A leaky bucket of `capacity` calls draining `leak_rate` calls per second."""

    __slots__ = ("leak_rate",)

    def __init__(self, capacity: float, leak_rate: float) -> None:
        if capacity < 1 or leak_rate <= 0:
            raise ValueError("capacity must be >= 1 and leak_rate > 0")
        super().__init__(capacity, capacity / leak_rate)
        self.leak_rate = leak_rate

    def __repr__(self) -> str:
        return (
            f"ServerSyncedBucket(level={self.level:.2f}, capacity={self.capacity:g}, "
            f"leak_rate={self.leak_rate:g}/s, waiters={len(self._waiters)})"
        )

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
        if extra:
            self._level -= extra
            self._wake_next()

    def sync(self, used: float, capacity: float | None = None) -> None:
        """Take in the server's report `used/capacity` (the larger level wins)."""
        self._leak()
        if capacity is not None and capacity >= 1 and capacity != self.max_rate:
            self.max_rate = capacity
            self.time_period = capacity / self.leak_rate
        if used > self._level:
            self._level = min(float(used), float(self.max_rate))
        self._wake_next()
