"""The server side of the Cafe24 "API Limit": one leaky bucket per mall.

Each admitted call adds one to the level; the level drains at `leak_rate` calls
per second. A call that would lift the level above the capacity is refused
(429) and not added. Another app using the same mall is simulated by
`foreign_rate` (continuous) and `add_foreign` (a burst). The clock is
injectable so tests can move time without sleeping.
"""

from __future__ import annotations

import math
from collections.abc import Callable


class LeakyBucket:
    """Level bookkeeping for one mall."""

    __slots__ = ("_clock", "_last", "capacity", "foreign_rate", "leak_rate", "level", "max_level")

    def __init__(
        self,
        capacity: int,
        leak_rate: float,
        clock: Callable[[], float],
        foreign_rate: float = 0.0,
    ) -> None:
        self.capacity = capacity
        self.leak_rate = leak_rate
        self.foreign_rate = foreign_rate
        self._clock = clock
        self._last = clock()
        self.level = 0.0
        #: Highest level ever reached.
        self.max_level = 0.0

    def _level_at(self, now: float) -> float:
        elapsed = max(0.0, now - self._last)
        level = self.level + elapsed * (self.foreign_rate - self.leak_rate)
        return min(float(self.capacity), max(0.0, level))

    def _advance(self) -> None:
        now = self._clock()
        self.level = self._level_at(now)
        self._last = max(self._last, now)
        self.max_level = max(self.max_level, self.level)

    def peek(self) -> float:
        """The level now, without changing anything."""
        return self._level_at(self._clock())

    def acquire(self) -> tuple[bool, int]:
        """Admit one call if it fits; returns (admitted, used) for `X-Api-Call-Limit`."""
        self._advance()
        if self.level + 1 > self.capacity:
            return False, math.ceil(self.level)
        self.level += 1
        if self.level > self.max_level:
            self.max_level = self.level
        return True, math.ceil(self.level)

    def add_foreign(self, calls: float) -> None:
        """Another app made `calls` calls just now (capped at the capacity)."""
        self._advance()
        self.level = min(float(self.capacity), self.level + calls)
        self.max_level = max(self.max_level, self.level)

    def header(self, used: int) -> str:
        return f"{used}/{self.capacity}"
