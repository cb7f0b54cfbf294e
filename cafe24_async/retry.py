"""Whether to try a request again, and how long to wait first.

Small functions, each testable alone (as stripe-python and botocore do it):

- `is_retryable`: 429, 500, 502, 503, 504, timeouts, resets and unreadable 2xx
  bodies are retried. A POST that may have reached the server is retried only
  when the caller opts in for that call; a POST refused with 429 or never
  connected did not reach it and is always safe.
- `backoff_delay`: exponential backoff with full jitter.
- `parse_retry_after`: both forms of `Retry-After` (seconds, possibly
  fractional, or an HTTP date).
- `RetryBudget`: a per-mall quota, so a failing server gets a trickle of
  retries rather than a storm: each retry spends from it, each success refunds.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import attrs

from cafe24_async.errors import (
    Cafe24ConnectionError,
    Cafe24Error,
    DecodeError,
    RateLimitError,
    ServerError,
)
from cafe24_async.transport import ConnectFailed

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
IDEMPOTENT = frozenset({"GET", "PUT", "DELETE", "HEAD", "OPTIONS"})


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


def is_retryable(error: Cafe24Error, method: str, retry_writes: bool = False) -> bool:
    """True when `error` may be retried for a `method` call."""
    if isinstance(error, (RateLimitError, ConnectFailed)):
        return True  # refused before processing: safe for every method
    may_have_run = method not in IDEMPOTENT and not retry_writes
    if may_have_run:
        return False
    if isinstance(error, DecodeError):
        return True
    if isinstance(error, ServerError):
        return error.status in RETRY_STATUSES
    return isinstance(error, Cafe24ConnectionError)


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
