"""Leaving the mall room for everyone else: a bulk write slows down well before the quota.

Every call already waits for the mall's bucket and for its usage-quota governor
(`ratelimit.quota`), which pauses during a block and spaces calls above 80%. A
bulk write must be humbler: writes cost far more processing time than reads (the
sandbox meters them at 20x), and a bulk job that drives the mall's quota to 100%
blocks every other app of that mall. So before each call `Headroom.wait` looks
at the latest usage the mall reported (`X-Cafe24-Time-Usage` and
`X-Cafe24-Call-Usage`, the higher of the two) and spaces the calls of the job:

    ceiling = 100 - keep                     (keep: the share left for others, default 30%)
    start   = ceiling - band                 (band: 5 points below the ceiling)
    gap     = max_interval * share ** 2,     share = (usage - start) / band, at most 2

No gap below `start`; at the ceiling one call per `max_interval`; above it the
gap keeps growing. Usage rises while the job writes faster than the quota
drains and the gap grows with it, so usage settles where one call per gap
equals the drain, just under the ceiling. The gap is kept across all the job's
workers (one lock), and it is re-read after every answer. Calls already in
flight when usage reaches the ceiling still land: usage can pass it by their
cost (with 4 in flight, each 1% of the quota, by up to 4 points).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from cafe24_async.clock import Clock

if TYPE_CHECKING:
    from cafe24_async.ratelimit.quota import QuotaGovernor

BAND = 5.0


class Headroom:
    """The spacing of one bulk job's calls on one mall."""

    def __init__(self, quota: QuotaGovernor, clock: Clock, keep: float, max_interval: float) -> None:
        self.quota = quota
        self.clock = clock
        self.ceiling = 100.0 - keep
        self.max_interval = max_interval
        self._last = -float("inf")
        self._lock = asyncio.Lock()
        #: Highest usage the mall reported during the job (None: it reports none), and
        #: seconds spent spacing calls.
        self.highest: float | None = None
        self.waited = 0.0

    def gap(self, usage: float | None) -> float:
        """Seconds to keep between calls at `usage` percent."""
        if usage is None:
            return 0.0
        start = max(0.0, self.ceiling - BAND)
        if usage <= start:
            return 0.0
        share = min(2.0, (usage - start) / max(1e-9, self.ceiling - start))
        return self.max_interval * share * share

    def observe(self) -> float | None:
        """The latest usage the mall reported, kept if it is the highest yet."""
        usage = self.quota.usage
        if usage is not None:
            self.highest = usage if self.highest is None else max(self.highest, usage)
        return usage

    async def wait(self) -> None:
        """Return when the job's next call may go."""
        async with self._lock:
            usage = self.observe()
            ready = self._last + self.gap(usage)
            now = self.clock.monotonic()
            if ready > now:
                await self.clock.sleep(ready - now)
                self.waited += ready - now
            self._last = self.clock.monotonic()
