"""The second limit: the mall-wide usage quotas.

Besides the leaky bucket, the live API meters each mall's overall use against a
quota of calls and of server processing time, and reports it on responses:

    X-Cafe24-Call-Usage / X-Cafe24-Time-Usage    percent of each quota used
    X-Cafe24-Call-Remain / X-Cafe24-Time-Remain  once exhausted: seconds until calls are accepted

At 100% every API of the mall answers 429, and calling during the block is
reported to extend it. The governor therefore:

- reads the four headers on every response (absent headers are normal);
- pauses every request of the mall, all APIs and tasks, until a reported block
  is over, sending nothing in between, then resumes gently (spaced calls);
- above `slow_above` percent usage, spaces calls out more and more as usage
  nears 100%, so that a long export finishes slower instead of being blocked;
- answers `has_headroom(ceiling)` before a multi-call write unit starts.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import attrs

from cafe24_async.clock import Clock
from cafe24_async.errors import QuotaWaitError
from cafe24_async.ratelimit.headers import header_float
from cafe24_async.stats import MallStats

log = logging.getLogger("cafe24_async.quota")

CALL_USAGE = "X-Cafe24-Call-Usage"
TIME_USAGE = "X-Cafe24-Time-Usage"
CALL_REMAIN = "X-Cafe24-Call-Remain"
TIME_REMAIN = "X-Cafe24-Time-Remain"


@attrs.frozen(slots=True)
class QuotaSettings:
    #: Start slowing down above this usage (percent of either quota).
    slow_above: float = 80.0
    #: Gap between calls when usage reaches 100% (it grows linearly from 0 at `slow_above`).
    max_interval: float = 5.0
    #: Pause when usage is 100% but no Remain header says for how long.
    default_pause: float = 30.0
    #: Calls spaced `max_interval` apart after a block ends, before full pace resumes.
    gentle_calls: int = 3
    #: Longest pause a call waits before `QuotaWaitError`; None waits as long as it takes.
    max_wait: float | None = None
    #: Turn the governor off (headers are still read into stats).
    enabled: bool = True


class QuotaGovernor:
    """Usage quota state of one mall."""

    def __init__(self, mall_id: str, settings: QuotaSettings, clock: Clock, stats: MallStats) -> None:
        self.mall_id = mall_id
        self.settings = settings
        self._clock = clock
        self._stats = stats
        #: Monotonic time before which nothing may be sent.
        self.paused_until = 0.0
        #: Monotonic time of the next free slot when calls are being spaced.
        self._next_slot = 0.0
        self._gentle_left = 0
        self.call_usage: float | None = None
        self.time_usage: float | None = None

    def __repr__(self) -> str:
        return (
            f"QuotaGovernor(mall_id={self.mall_id!r}, call_usage={self.call_usage}, "
            f"time_usage={self.time_usage}, paused_for={self.pause_left():.1f}s)"
        )

    @property
    def usage(self) -> float | None:
        """The higher of the two usage percentages last reported."""
        known = [u for u in (self.call_usage, self.time_usage) if u is not None]
        return max(known) if known else None

    def pause_left(self) -> float:
        return max(0.0, self.paused_until - self._clock.monotonic())

    def has_headroom(self, ceiling: float) -> bool:
        """True when no block is on and the last reported usage is below `ceiling` percent."""
        usage = self.usage
        return self.pause_left() == 0 and (usage is None or usage < ceiling)

    def interval(self) -> float:
        """Gap to keep between calls at the current usage."""
        s = self.settings
        if self._gentle_left > 0:
            return s.max_interval
        usage = self.usage
        if usage is None or usage <= s.slow_above:
            return 0.0
        share = min(1.0, (usage - s.slow_above) / max(1e-9, 100.0 - s.slow_above))
        return s.max_interval * share

    async def wait(self, deadline: float | None = None) -> None:
        """Hold the caller while the mall is blocked, then keep the spacing.

        `deadline` (seconds) is the caller's own limit; a pause longer than it,
        or than `max_wait`, raises `QuotaWaitError` at once instead of waiting.
        """
        if not self.settings.enabled:
            return
        limits = [x for x in (deadline, self.settings.max_wait) if x is not None]
        paused = False
        while (left := self.pause_left()) > 0:
            if limits and left > min(limits):
                raise QuotaWaitError(self.mall_id, left, min(limits))
            self._stats.paused_seconds += left
            paused = True
            await self._clock.sleep(left)
        if paused:  # the block is over: usage is unknown until the next response
            self.call_usage = self.time_usage = None
        gap = self.interval()
        if gap <= 0:
            return
        now = self._clock.monotonic()
        slot = max(now, self._next_slot)
        self._next_slot = slot + gap
        if self._gentle_left > 0:
            self._gentle_left -= 1
        if slot > now:
            await self._clock.sleep(slot - now)

    def observe(self, status: int, headers: Mapping[str, str]) -> None:
        """Take in the usage headers of a response."""
        call_usage = header_float(headers, CALL_USAGE)
        time_usage = header_float(headers, TIME_USAGE)
        if call_usage is not None:
            self.call_usage = self._stats.call_usage = call_usage
        if time_usage is not None:
            self.time_usage = self._stats.time_usage = time_usage
        remains = [r for r in (header_float(headers, CALL_REMAIN), header_float(headers, TIME_REMAIN))
                   if r is not None and r > 0]
        exhausted = (self.usage or 0.0) >= 100.0
        if not remains and not exhausted:
            return
        pause = max(remains) if remains else self.settings.default_pause
        until = self._clock.monotonic() + pause
        if until > self.paused_until + 0.5:
            log.warning(
                "mall %s reached its usage quota (call %s%%, time %s%%): pausing all calls for %.1fs",
                self.mall_id, self.call_usage, self.time_usage, pause,
            )
        self.paused_until = max(self.paused_until, until)
        self._next_slot = self.paused_until
        self._gentle_left = self.settings.gentle_calls
