"""The second limit: the mall-wide usage quotas.

Besides the leaky bucket, the live API meters each mall's overall use against a
quota of calls and a quota of server processing time, and reports it on
responses:

    X-Cafe24-Call-Usage / X-Cafe24-Time-Usage    percent of each quota used
    X-Cafe24-Call-Remain / X-Cafe24-Time-Remain  once exhausted: seconds until calls are accepted

At 100% every API of the mall answers 429, and calling during the block extends
it. Writes cost far more processing time than reads. One `QuotaGovernor` per
mall (shared by all its APIs and tasks) therefore:

1. Reads the four headers on every response (absent headers are normal) into
   its state and the mall's stats.

2. Pauses on a block. A response with a Remain header above zero, or a usage of
   100% (then for `default_pause` seconds), sets `paused_until`; every request
   of the mall waits for it in `wait()` before it is sent, and one that was
   already waiting for its limiter goes back to `wait()` (`Mall.execute`
   checks `blocked()`), so nothing is sent until the block is over, not even a
   probe (calls already on the wire cannot be recalled). The wall-clock length of each
   pause is added to `MallStats.paused_seconds` and logged. Then the mall
   resumes gently: the first `gentle_calls` calls go one at a time, each
   waiting for the previous one's answer (whose usage headers tell the new
   state), before the usual pace resumes. A caller whose own limit (the call's
   `timeout`, or `max_wait`) is shorter than the pause gets `QuotaWaitError`
   at once instead of waiting.

3. Stays below the line. Above `slow_above` percent (of either quota), calls
   are spaced: consecutive sends are at least

       gap = max_interval * share ** 2,  share = (usage - slow_above) / (100 - slow_above)

   apart, all tasks together, with `usage` the latest reported figure (a
   waiting call re-reads it whenever a new answer arrives). The quota drains
   at a rate the headers do not tell; the gap needs no knowledge of it. Usage
   rises while calls come faster than the quota drains, and the gap grows with
   it, so usage settles where one call per gap equals the drain: the highest
   pace the quota sustains. The faster the drain, the closer to `slow_above`
   it settles; 100% is never reached as long as one call per `max_interval`
   is slower than the drain. The square keeps the gap short just above the
   line: usage is only learnt from answers, so a long gap taken from a stale
   figure would idle while the quota drains (with a linear gap an export
   whose calls each cost 2% of the quota ran at 60% of the sustainable pace;
   squared, at 95%). A long export thus finishes at the quota's pace instead
   of being blocked. Below `slow_above` nothing is spaced.

4. Answers `has_headroom(ceiling)` before a multi-call write unit starts
   (`Mall.write_unit`), so that a unit is not cut in half by a block.

With `enabled=False` the headers are still read into the stats, but nothing
is paused or spaced.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping

import attrs

from cafe24_async.clock import Clock
from cafe24_async.errors import QuotaWaitError
from cafe24_async.ratelimit.headers import header_floats
from cafe24_async.stats import MallStats
from cafe24_async.transport import header_name

log = logging.getLogger("cafe24_async.quota")

CALL_USAGE = header_name("X-Cafe24-Call-Usage")
TIME_USAGE = header_name("X-Cafe24-Time-Usage")
CALL_REMAIN = header_name("X-Cafe24-Call-Remain")
TIME_REMAIN = header_name("X-Cafe24-Time-Remain")
USAGE_HEADERS = (CALL_USAGE, TIME_USAGE, CALL_REMAIN, TIME_REMAIN)


@attrs.frozen(slots=True)
class QuotaSettings:
    #: Start spacing calls above this usage (percent of either quota).
    slow_above: float = 80.0
    #: Gap between calls at 100% usage (it grows with the square of the way from
    #: `slow_above` to 100%); one call per `max_interval` must be slower than the quota drains.
    max_interval: float = 5.0
    #: Pause when usage is 100% but no Remain header says for how long.
    default_pause: float = 30.0
    #: Calls sent one at a time after a block, each waiting for the previous
    #: one's answer, before the usual pace resumes.
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
        #: Monotonic time of the last send let through while calls were spaced.
        self._last_send = -float("inf")
        #: Probe calls still to go one at a time after a block, and whether one is out.
        self._probes_left = 0
        self._probe_out = False
        self._probe_sent_at = 0.0
        #: Set (and dropped) when an answer is observed: wakes spaced and probe waiters.
        #: Made only while someone waits, so the usual answer costs nothing here.
        self._answered: asyncio.Event | None = None
        self.call_usage: float | None = None
        self.time_usage: float | None = None
        #: Remain figures of the latest answer that carried them.
        self.call_remain: float | None = None
        self.time_remain: float | None = None
        #: Pauses started so far.
        self.pauses = 0

    def __repr__(self) -> str:
        return (
            f"QuotaGovernor(mall_id={self.mall_id!r}, call_usage={self.call_usage}, "
            f"time_usage={self.time_usage}, paused_for={self.pause_left():.1f}s, "
            f"gap={self.interval():.2f}s)"
        )

    @property
    def usage(self) -> float | None:
        """The higher of the two usage percentages last reported."""
        known = [u for u in (self.call_usage, self.time_usage) if u is not None]
        return max(known) if known else None

    def pause_left(self) -> float:
        return max(0.0, self.paused_until - self._clock.monotonic())

    def blocked(self) -> bool:
        """True while the governor holds every call of the mall back."""
        return self.settings.enabled and self.pause_left() > 0

    def has_headroom(self, ceiling: float) -> bool:
        """True when no block is on and the last reported usage is below `ceiling` percent."""
        usage = self.usage
        return self.pause_left() == 0 and (usage is None or usage < ceiling)

    def interval(self) -> float:
        """Gap to keep between consecutive sends at the latest reported usage."""
        s = self.settings
        usage = self.usage
        if usage is None or usage <= s.slow_above:
            return 0.0
        share = min(1.0, (usage - s.slow_above) / max(1e-9, 100.0 - s.slow_above))
        return s.max_interval * share * share

    def try_pass(self) -> bool:
        """True, and the send counted, when a call may go now without waiting: what
        `wait()` does when it would not wait (no block, no probing, no spacing)."""
        s = self.settings
        if not s.enabled:
            return True
        calls, time_ = self.call_usage, self.time_usage
        if (
            not self._probe_out and self._probes_left <= 0
            and (calls is None or calls <= s.slow_above) and (time_ is None or time_ <= s.slow_above)
        ):  # no probing and no spacing (interval() is 0): only a block could hold the call
            now = self._clock.monotonic()
            if now >= self.paused_until:
                self._last_send = now
                return True
        return False

    async def wait(self, deadline: float | None = None) -> None:
        """Hold the caller while the mall is blocked, then keep the pace.

        `deadline` (seconds) is the caller's own limit; a pause longer than what
        is left of it, or than `max_wait`, raises `QuotaWaitError` at once.
        """
        if self.try_pass():
            return
        s = self.settings
        limits = [x for x in (deadline, s.max_wait) if x is not None]
        budget = min(limits) if limits else None
        waited = 0.0
        while True:
            left = self.pause_left()
            if left > 0:
                if budget is not None and left > budget - waited:
                    raise QuotaWaitError(self.mall_id, left, budget)
                await self._clock.sleep(left)
                waited += left
                continue
            if self._probe_out:
                # After a block one call at a time: wait for the answer to the one out.
                patience = max(s.max_interval, 1.0) - (self._clock.monotonic() - self._probe_sent_at)
                if patience <= 0:
                    self._probe_out = False  # that call got no answer: let another go
                    continue
                waited += await self._until_answer(patience)
                continue
            if self._probes_left > 0:
                self._probes_left -= 1
                self._probe_out = True
                self._probe_sent_at = self._clock.monotonic()
                if self._probes_left == 0:
                    log.info("mall %s: usage quota block over, usual pace resumes", self.mall_id)
                return
            gap = self.interval()
            now = self._clock.monotonic()
            ready = self._last_send + gap
            if gap <= 0 or ready <= now:
                self._last_send = now
                return
            waited += await self._until_answer(ready - now)

    async def _until_answer(self, seconds: float) -> float:
        """Sleep `seconds`, or less if an answer arrives first; the seconds slept."""
        started = self._clock.monotonic()
        sleeper = asyncio.ensure_future(self._clock.sleep(seconds))
        if self._answered is None:
            self._answered = asyncio.Event()
        answered = asyncio.ensure_future(self._answered.wait())
        try:
            await asyncio.wait((sleeper, answered), return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (sleeper, answered):
                if not task.done():
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
        return self._clock.monotonic() - started

    def observe(self, status: int, headers: Mapping[str, str]) -> None:
        """Take in the usage headers of a response."""
        call_usage, time_usage, call_remain, time_remain = header_floats(headers, USAGE_HEADERS)
        if call_usage is not None:
            self.call_usage = self._stats.call_usage = call_usage
        if time_usage is not None:
            self.time_usage = self._stats.time_usage = time_usage
        if call_remain is not None or time_remain is not None:
            self.call_remain, self.time_remain = call_remain, time_remain
        self._probe_out = False
        answered, self._answered = self._answered, None
        if answered is not None:
            answered.set()
        if not self.settings.enabled:
            return
        if call_remain is None and time_remain is None and (call_usage is None or call_usage < 100.0) and (
            time_usage is None or time_usage < 100.0
        ):
            return  # the usual answer: no block reported
        remains = [r for r in (call_remain, time_remain) if r is not None and r > 0]
        exhausted = any(u is not None and u >= 100.0 for u in (call_usage, time_usage))
        if not remains and not exhausted:
            return
        self._pause(max(remains) if remains else self.settings.default_pause)

    def _pause(self, seconds: float) -> None:
        now = self._clock.monotonic()
        until = now + seconds
        if until <= self.paused_until:
            return
        added = until - max(now, self.paused_until)
        if self.paused_until <= now:
            self.pauses += 1
            log.warning(
                "mall %s reached its usage quota (call %s%%, time %s%%): pausing all calls for %.1fs",
                self.mall_id, self.call_usage, self.time_usage, seconds,
            )
        else:
            log.info("mall %s: usage quota block extended to %.1fs from now", self.mall_id, seconds)
        self._stats.paused_seconds += added
        self.paused_until = until
        # Usage after the block is unknown until the first answer after it (the stats
        # keep the last figures reported).
        self.call_usage = self.time_usage = None
        self._probes_left = max(1, self.settings.gentle_calls)
        self._probe_out = False
