"""The server side of the Cafe24 "API Limit": one leaky bucket per mall.

Each admitted call adds one to the level; the level drains at `leak_rate` calls
per second. A call that would lift the level above the capacity is refused
(429) and not added. Another app using the same mall is simulated by
`foreign_rate`: continuous by default, or in bursts of `foreign_burst` calls
every `foreign_burst / foreign_rate` seconds, where what does not fit takes the
room as soon as the drain makes it, ahead of anyone else (an app retrying its
429s at once), so it gets its rate whatever others do; `add_foreign` is a
single burst. The clock is injectable so tests can move time without sleeping.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import attrs

#: The other app gives up on calls beyond this many bucketfuls waiting.
MAX_BACKLOG = 10


@attrs.define(slots=True)
class _State:
    """The bucket at one moment."""

    at: float
    level: float
    #: The other app's calls still waiting for room (bursts only).
    backlog: float = 0.0
    #: The other app's calls admitted so far.
    foreign_calls: float = 0.0


class LeakyBucket:
    """Level bookkeeping for one mall."""

    __slots__ = ("_clock", "_state", "capacity", "foreign_burst", "foreign_rate", "leak_rate", "max_level")

    def __init__(
        self,
        capacity: int,
        leak_rate: float,
        clock: Callable[[], float],
        foreign_rate: float = 0.0,
        foreign_burst: int = 0,
    ) -> None:
        self.capacity = capacity
        self.leak_rate = leak_rate
        self.foreign_rate = foreign_rate
        #: 0: the other app's calls come continuously; else in bursts of this many.
        self.foreign_burst = foreign_burst
        self._clock = clock
        self._state = _State(clock(), 0.0)
        #: Highest level ever reached.
        self.max_level = 0.0

    @property
    def level(self) -> float:
        """The level at the last change."""
        return self._state.level

    @property
    def foreign_calls(self) -> float:
        """Calls the other app got admitted, up to now."""
        return self._state_at(self._clock()).foreign_calls

    def _state_at(self, now: float) -> _State:
        state = attrs.evolve(self._state)
        if self.foreign_rate > 0 and self.foreign_burst > 0:
            self._bursts_until(state, now)
        else:
            self._flow_until(state, now)
        return state

    def _flow_until(self, state: _State, now: float) -> None:
        """The other app's calls arrive continuously (refused while the bucket is full)."""
        elapsed = max(0.0, now - state.at)
        level = state.level + elapsed * (self.foreign_rate - self.leak_rate)
        lost = max(0.0, level - self.capacity)
        state.foreign_calls += elapsed * self.foreign_rate - lost
        state.level = min(float(self.capacity), max(0.0, level))
        state.at = max(state.at, now)

    def _bursts_until(self, state: _State, now: float) -> None:
        """The other app's calls arrive in bursts at multiples of its period."""
        period = self.foreign_burst / self.foreign_rate
        tick = math.floor(state.at / period) + 1
        while tick * period <= now:
            self._drain_until(state, tick * period)
            state.backlog = min(MAX_BACKLOG * self.capacity, state.backlog + self.foreign_burst)
            self._drain_until(state, tick * period)  # what fits goes in at once
            self.max_level = max(self.max_level, state.level)
            tick += 1
        self._drain_until(state, now)

    def _drain_until(self, state: _State, now: float) -> None:
        """Drain until `now`; the other app's waiting calls take the room first."""
        elapsed = max(0.0, now - state.at)
        total = state.level + state.backlog - elapsed * self.leak_rate
        backlog = max(0.0, total - self.capacity)
        state.foreign_calls += state.backlog - backlog
        state.level = min(float(self.capacity), max(0.0, total))
        state.backlog = backlog
        state.at = max(state.at, now)

    def _advance(self) -> None:
        self._state = self._state_at(self._clock())
        self.max_level = max(self.max_level, self._state.level)

    def peek(self) -> float:
        """The level now, without changing anything."""
        return self._state_at(self._clock()).level

    def acquire(self) -> tuple[bool, int]:
        """Admit one call if it fits; returns (admitted, used) for `X-Api-Call-Limit`."""
        self._advance()
        state = self._state
        if state.level + 1 > self.capacity:
            return False, math.ceil(state.level)
        state.level += 1
        self.max_level = max(self.max_level, state.level)
        return True, math.ceil(state.level)

    def add_foreign(self, calls: float) -> None:
        """Another app made `calls` calls just now (capped at the capacity)."""
        self._advance()
        state = self._state
        state.level = min(float(self.capacity), state.level + calls)
        self.max_level = max(self.max_level, state.level)

    def header(self, used: int) -> str:
        return f"{used}/{self.capacity}"
