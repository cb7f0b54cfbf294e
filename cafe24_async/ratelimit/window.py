"""At most N requests reaching the server in any `period` seconds.

The docs treat more than 10 requests in one second from one source as
abnormal. A leaky bucket of 40 would let 40 go at once, so the mall's calls
also pass this window, and it has to hold where it counts: at the server. A
request arrives some time after it is let through (requests sent together over
freshly opened connections arrive bunched, later than sent), so counting start
times is not enough. Here a request keeps its place from the moment it is let
through until `period` seconds after its answer came back (`release`), and a
new request goes only while fewer than N places are taken. A request that has
left its place arrived before its answer, so more than `period` before any
request let through after that: no `period` at the server holds more than N,
retries included. When the window binds it costs one round trip per N requests.
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
        #: Requests let through and not yet answered.
        self.in_flight = 0
        #: When requests were answered within the last `period`, oldest first.
        self._answered: deque[float] = deque()
        self._lock = asyncio.Lock()
        self._answer = asyncio.Event()
        #: Calls inside `acquire` (waiting, or about to find room).
        self._queued = 0

    def __repr__(self) -> str:
        return (
            f"SlidingWindow(max_calls={self.max_calls}, period={self.period:g}s, "
            f"in_flight={self.in_flight})"
        )

    def seconds_until_free(self) -> float | None:
        """0 when a request may go now, else the seconds until a place frees; None
        while every place is held by a request still waiting for its answer."""
        now = self._clock.monotonic()
        answered = self._answered
        while answered and answered[0] + self.period <= now:
            answered.popleft()  # that place is free again
        taken = self.in_flight + len(answered)
        if taken < self.max_calls:
            return 0.0
        if not answered:
            return None
        return answered[taken - self.max_calls] + self.period - now

    def try_acquire(self) -> bool:
        """`acquire` when nobody is queued and a place is free now; False changes nothing."""
        if self._queued or self.seconds_until_free() != 0:
            return False
        self.in_flight += 1
        return True

    async def acquire(self) -> None:
        """Wait until a request may go, and count it as in flight."""
        self._queued += 1
        try:
            async with self._lock:
                while (wait := self.seconds_until_free()) != 0:
                    if wait is None:
                        self._answer.clear()
                        await self._answer.wait()
                    else:
                        await self._clock.sleep(wait)
                self.in_flight += 1
        finally:
            self._queued -= 1

    def release(self) -> None:
        """A request let through got its answer (or failed) now."""
        self._end()
        self._answered.append(self._clock.monotonic())

    def cancel(self) -> None:
        """A request let through was never sent: its place is free at once."""
        self._end()

    def _end(self) -> None:
        if self.in_flight <= 0:
            raise RuntimeError("release() without a matching acquire()")
        self.in_flight -= 1
        self._answer.set()
