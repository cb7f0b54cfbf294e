"""The throttles of the two other APIs: Analytics' token bucket, D.Collection's window.

The Analytics API ("CA API") uses a token bucket per mall: `burst` tokens at
most, `refill` tokens added per second, one token per request, 429 when the
bucket is empty. Every answer carries the four headers of the gateway that
implements it (`X-RateLimit-Remaining`, `-Requested-Tokens`, `-Burst-Capacity`,
`-Replenish-Rate`, the last in tokens per second).

The D.Collection API uses Laravel's throttle middleware: `limit` requests per
fixed window of `window` seconds per client IP, the window opening with its
first request. Answers carry `X-RateLimit-Limit` and `X-RateLimit-Remaining`;
a refused request gets 429 with `Retry-After` (seconds until the window ends)
and is not counted.

Both take the clock as a function, so tests can move time without sleeping.
"""

from __future__ import annotations

import math
from collections.abc import Callable


def seconds_header(seconds: float) -> str:
    """Seconds for a header: whole seconds when long, milliseconds (rounded up) when short."""
    if seconds >= 10:
        return str(math.ceil(seconds))
    return f"{math.ceil(max(0.0, seconds) * 1000) / 1000:g}"


class TokenBucket:
    """Tokens of one mall's Analytics calls."""

    __slots__ = ("_clock", "_last", "burst", "refill", "tokens")

    def __init__(self, burst: int, refill: float, clock: Callable[[], float]) -> None:
        self.burst = burst
        self.refill = refill
        self._clock = clock
        self._last = clock()
        self.tokens = float(burst)

    def _advance(self) -> None:
        now = self._clock()
        if now > self._last:
            self.tokens = min(float(self.burst), self.tokens + (now - self._last) * self.refill)
            self._last = now

    def take(self, requested: int = 1) -> bool:
        """Spend `requested` tokens if the bucket holds them."""
        self._advance()
        if self.tokens < requested:
            return False
        self.tokens -= requested
        return True

    def drain(self, tokens: float) -> None:
        """Another client of the mall spent `tokens` just now (down to empty)."""
        self._advance()
        self.tokens = max(0.0, self.tokens - tokens)

    def headers(self, requested: int = 1) -> dict[str, str]:
        return {
            "X-RateLimit-Remaining": str(max(0, math.floor(self.tokens))),
            "X-RateLimit-Requested-Tokens": str(requested),
            "X-RateLimit-Burst-Capacity": str(self.burst),
            "X-RateLimit-Replenish-Rate": f"{self.refill:g}",
        }


class FixedWindow:
    """Requests of one client IP to the D.Collection API."""

    __slots__ = ("_clock", "limit", "start", "used", "window")

    def __init__(self, limit: int, window: float, clock: Callable[[], float]) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self.start = -math.inf
        self.used = 0

    def _roll(self, now: float) -> None:
        if now >= self.start + self.window:
            self.start, self.used = now, 0

    def hit(self) -> tuple[bool, dict[str, str]]:
        """Count one request if the window has room; (admitted, headers)."""
        now = self._clock()
        self._roll(now)
        if self.used >= self.limit:
            return False, {
                "X-RateLimit-Limit": str(self.limit),
                "X-RateLimit-Remaining": "0",
                "Retry-After": seconds_header(self.start + self.window - now),
            }
        self.used += 1
        return True, {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.limit - self.used),
        }

    def use_up(self) -> None:
        """Another process behind the same IP used the rest of the window just now."""
        self._roll(self._clock())
        self.used = self.limit
