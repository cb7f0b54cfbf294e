"""The second limit: usage quotas per mall, metered as the live API reports them.

Besides the leaky bucket, Cafe24 meters each mall's overall use against a quota
of calls and a quota of server processing time, reports that use on answers
(`X-Cafe24-Call-Usage`, `X-Cafe24-Time-Usage`, in percent) and, once a quota is
used up, refuses every API call of the mall for a while, saying for how long
(`X-Cafe24-Call-Remain`, `X-Cafe24-Time-Remain`, in seconds). The live API
documents the headers, not the formula, so the sandbox uses this model:

- each quota is a leaky bucket: `call_quota` calls, or `time_quota` ms of
  processing, per `quota_window` seconds. The level drains continuously at
  quota / window per second, so the use of a burst fades over one window;
- an admitted request adds one call, and `read_cost_ms` (GET) or
  `write_cost_ms` (a write) of processing: writes cost far more;
- usage is level / quota, in percent (rounded down to 0.1, at most 100);
- a request that would lift a level over its quota is refused with 429 and
  starts a block (so does one that fills a quota exactly; that one is still
  answered). During a block every request of the mall is refused with 429 until
  both levels have drained back to `quota_resume` percent; the Remain headers
  give the seconds until each level gets there;
- a request arriving during a block after the block was first announced is a
  "call during the block": it is counted and metered as if admitted (without a
  cap), so the block lasts longer. Calling during a block extends it.

`force_block` fills both quotas now, as another app's traffic would; the next
request is the one that announces the block.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable

from cafe24_async.sandbox.config import SandboxConfig
from cafe24_async.sandbox.throttles import seconds_header


class Verdict(enum.Enum):
    ADMITTED = "admitted"
    #: Refused: the request that starts or first announces a block.
    REFUSED = "refused"
    #: Refused, and made after the block was announced (it extends the block).
    DURING_BLOCK = "during_block"


def _percent(level: float, quota: float) -> float:
    return min(100.0, math.floor(level / quota * 1000 + 1e-6) / 10)


class UsageMeter:
    """Call and processing-time use of one mall."""

    __slots__ = (
        "_clock", "_last", "_noticed", "blocked", "blocks", "call_quota", "calls",
        "max_call_usage", "max_time_usage", "millis", "read_cost", "resume", "time_quota",
        "window", "write_cost",
    )

    def __init__(self, config: SandboxConfig, clock: Callable[[], float] | None = None) -> None:
        self.call_quota = config.call_quota
        self.time_quota = config.time_quota
        self.window = config.quota_window
        self.resume = config.quota_resume / 100.0
        self.read_cost = config.read_cost_ms
        self.write_cost = config.write_cost_ms
        self._clock = clock or config.clock
        self._last = self._clock()
        #: Levels: calls, and milliseconds of processing.
        self.calls = 0.0
        self.millis = 0.0
        self.blocked = False
        self._noticed = False
        #: Blocks started so far, and the highest usage ever reported.
        self.blocks = 0
        self.max_call_usage = 0.0
        self.max_time_usage = 0.0

    @property
    def enabled(self) -> bool:
        return self.call_quota is not None or self.time_quota is not None

    def _advance(self) -> None:
        now = self._clock()
        elapsed = max(0.0, now - self._last)
        self._last = max(self._last, now)
        if self.call_quota is not None:
            self.calls = max(0.0, self.calls - elapsed * self.call_quota / self.window)
        if self.time_quota is not None:
            self.millis = max(0.0, self.millis - elapsed * self.time_quota / self.window)
        if self.blocked and self._drained():
            self.blocked = False

    def _drained(self) -> bool:
        calls_ok = self.call_quota is None or self.calls <= self.resume * self.call_quota + 1e-9
        time_ok = self.time_quota is None or self.millis <= self.resume * self.time_quota + 1e-9
        return calls_ok and time_ok

    def _full(self) -> bool:
        return (self.call_quota is not None and self.calls >= self.call_quota - 1e-9) or (
            self.time_quota is not None and self.millis >= self.time_quota - 1e-9
        )

    def _add(self, cost: float) -> None:
        self.calls += 1
        self.millis += cost
        call_usage, time_usage = self.usage()
        self.max_call_usage = max(self.max_call_usage, call_usage or 0.0)
        self.max_time_usage = max(self.max_time_usage, time_usage or 0.0)

    def cost(self, method: str) -> float:
        """Processing milliseconds of one request."""
        return self.read_cost if method.upper() in ("GET", "HEAD") else self.write_cost

    def is_blocked(self) -> bool:
        self._advance()
        return self.blocked

    def refuse(self, method: str) -> Verdict:
        """A request reached the mall during a block."""
        self._advance()
        if not self._noticed:
            self._noticed = True
            return Verdict.REFUSED
        self._add(self.cost(method))
        return Verdict.DURING_BLOCK

    def admit(self, method: str) -> Verdict:
        """Meter one request, or refuse it (and start a block) when it does not fit."""
        self._advance()
        if self.blocked:
            return self.refuse(method)
        cost = self.cost(method)
        over_calls = self.call_quota is not None and self.calls + 1 > self.call_quota + 1e-9
        over_time = self.time_quota is not None and self.millis + cost > self.time_quota + 1e-9
        if over_calls or over_time:
            self._start_block(noticed=True)
            return Verdict.REFUSED
        self._add(cost)
        if self._full():
            self._start_block(noticed=True)
        return Verdict.ADMITTED

    def _start_block(self, noticed: bool) -> None:
        self.blocked = True
        self._noticed = noticed
        self.blocks += 1

    def force_block(self) -> float:
        """Fill every quota now and block the mall; the seconds the block will last."""
        if not self.enabled:
            raise ValueError("the usage quotas are off: set call_quota or time_quota")
        self._advance()
        if self.call_quota is not None:
            self.calls = max(self.calls, float(self.call_quota))
        if self.time_quota is not None:
            self.millis = max(self.millis, float(self.time_quota))
        if not self.blocked:
            self._start_block(noticed=False)
        return max(r for r in self.remain() if r is not None)

    def set_usage(self, call: float | None = None, time: float | None = None) -> None:
        """Set the usage (percent of each quota) now, without blocking."""
        self._advance()
        if call is not None and self.call_quota is not None:
            self.calls = min(100.0, call) / 100.0 * self.call_quota
        if time is not None and self.time_quota is not None:
            self.millis = min(100.0, time) / 100.0 * self.time_quota

    def usage(self) -> tuple[float | None, float | None]:
        """(call usage, time usage) in percent; None for a quota that is off."""
        call = _percent(self.calls, self.call_quota) if self.call_quota is not None else None
        time = _percent(self.millis, self.time_quota) if self.time_quota is not None else None
        return call, time

    def remain(self) -> tuple[float | None, float | None]:
        """Seconds until each level is back at the resume percentage (None: quota off)."""

        def left(level: float, quota: float | None) -> float | None:
            if quota is None:
                return None
            return max(0.0, level - self.resume * quota) / (quota / self.window)

        return left(self.calls, self.call_quota), left(self.millis, self.time_quota)

    def headers(self) -> dict[str, str]:
        """The usage headers of an answer sent now (the Remain pair only during a block)."""
        self._advance()
        headers: dict[str, str] = {}
        call, time = self.usage()
        if call is not None:
            headers["X-Cafe24-Call-Usage"] = f"{call:g}"
        if time is not None:
            headers["X-Cafe24-Time-Usage"] = f"{time:g}"
        if self.blocked:
            call_left, time_left = self.remain()
            if call_left is not None:
                headers["X-Cafe24-Call-Remain"] = seconds_header(call_left)
            if time_left is not None:
                headers["X-Cafe24-Time-Remain"] = seconds_header(time_left)
        return headers
