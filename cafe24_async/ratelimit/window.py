"""At most N calls in any window of `period` seconds.

The docs treat more than 10 requests in one second from one source as abnormal.
A leaky bucket of 40 would let 40 go at once, so the mall's calls also pass this
sliding window, which remembers the start times of the last N calls.
"""

from __future__ import annotations

import asyncio
from collections import deque

from cafe24_async.clock import Clock


class SlidingWindow:
    def __init__(self, max_calls: int, period: float, clock: Clock) -> None:
        if max_calls < 1 or period <= 0:
            raise ValueError("max_calls must be >= 1 and period > 0")
        self.max_calls = max_calls
        self.period = period
        self._clock = clock
        self._starts: deque[float] = deque(maxlen=max_calls)
        self._lock = asyncio.Lock()

    def __repr__(self) -> str:
        return f"SlidingWindow(max_calls={self.max_calls}, period={self.period:g}s)"

    def seconds_until_free(self) -> float:
        if len(self._starts) < self.max_calls:
            return 0.0
        return max(0.0, self._starts[0] + self.period - self._clock.monotonic())

    async def acquire(self) -> None:
        """Wait until a call may start, and count it as started."""
        async with self._lock:
            while (wait := self.seconds_until_free()) > 0:
                await self._clock.sleep(wait)
            self._starts.append(self._clock.monotonic())
