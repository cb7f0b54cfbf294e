"""How long to wait before trying again, and how many retries a mall may spend.

The numbers of retrying, apart from any decision about a particular error:

- `RetrySettings`: attempts, the 429 allowance, the time limit, the delays and
  the per-mall budget;
- `backoff_delay`: exponential backoff with full jitter;
- `parse_retry_after`: both forms of `Retry-After` (seconds, possibly
  fractional, or an HTTP date);
- `RetryBudget`: a per-mall quota, so a failing server gets a trickle of
  retries rather than a storm: each retry spends from it, each success refunds.

The request pipeline (`pipeline.retry`) and the token refresher both use them.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import attrs

#: Statuses worth another attempt: throttled, or a server failure that may pass.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


@attrs.frozen(slots=True)
class RetrySettings:
    #: Attempts in all for errors other than 429 (1 = no retry).
    max_attempts: int = 5
    #: 429s absorbed per call before `RateLimitError` reaches the caller.
    max_throttled: int = 20
    #: Seconds from the first attempt after which no retry starts.
    max_elapsed: float = 300.0
    base_delay: float = 0.25
    max_delay: float = 20.0
    #: Retry budget per mall: size, cost of a retry, refund on success.
    budget: float = 100.0
    retry_cost: float = 5.0
    success_refund: float = 1.0


def backoff_delay(attempt: int, settings: RetrySettings, rng: random.Random) -> float:
    """Full jitter: uniform in [0, min(max_delay, base * 2**attempt)]."""
    cap = min(settings.max_delay, settings.base_delay * (2 ** max(0, attempt - 1)))
    return rng.uniform(0, cap)


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a `Retry-After` header ("2", "0.5" or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return max(0.0, seconds) if seconds == seconds else None  # NaN is not a delay
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class RetryBudget:
    """Retry tokens shared by every call of one mall."""

    def __init__(self, settings: RetrySettings) -> None:
        self._settings = settings
        self.available = settings.budget

    def __repr__(self) -> str:
        return f"RetryBudget(available={self.available:g}/{self._settings.budget:g})"

    def spend(self) -> bool:
        """Take the cost of one retry; False when the budget is exhausted."""
        if self.available < self._settings.retry_cost:
            return False
        self.available -= self._settings.retry_cost
        return True

    def refund(self) -> None:
        self.available = min(self._settings.budget, self.available + self._settings.success_refund)
