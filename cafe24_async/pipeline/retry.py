"""Whether to try a request again: `RetryPolicy`, one per call, testable without HTTP.

After each failed attempt the request loop asks the policy, which answers with a
`Decision`: refresh the token and go again (a 401 to a bearer token, once per
call), retry after a delay, or give up and raise. The rules:

- `is_retryable`: 429, 500, 502, 503, 504, timeouts, resets and unreadable 2xx
  bodies are retried. A POST that may have reached the server is retried only
  when the caller opts in for that call; a POST refused with 429 or never
  connected did not reach it and is always safe.
- 429s have their own allowance (`max_throttled`) and wait for the bucket, or
  for `Retry-After`; other failures count against `max_attempts` and spend from
  the mall's `RetryBudget`, and back off with full jitter.
- No retry starts after `max_elapsed` seconds.
"""

from __future__ import annotations

import random
from typing import Literal

import attrs

from cafe24_async.backoff import (
    RETRY_STATUSES,
    RetryBudget,
    RetrySettings,
    backoff_delay,
    parse_retry_after,
)
from cafe24_async.errors import (
    AuthenticationError,
    Cafe24ConnectionError,
    Cafe24Error,
    DecodeError,
    RateLimitError,
    ServerError,
)
from cafe24_async.transport import ConnectFailed

IDEMPOTENT = frozenset({"GET", "PUT", "DELETE", "HEAD", "OPTIONS"})


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


@attrs.frozen(slots=True)
class Decision:
    """What the request loop does next: "retry" after `delay` seconds, "refresh" the
    token and go again at once, or "raise" the error."""

    action: Literal["retry", "refresh", "raise"]
    delay: float = 0.0


RAISE = Decision("raise")
REFRESH = Decision("refresh")


class RetryPolicy:
    """The retry decisions of one call (a new policy per call, sharing the mall's budget)."""

    __slots__ = ("_rng", "budget", "failures", "method", "refreshed", "retry_writes", "settings", "throttled")

    def __init__(
        self, settings: RetrySettings, budget: RetryBudget, rng: random.Random, method: str,
        retry_writes: bool = False,
    ) -> None:
        self.settings, self.budget, self._rng = settings, budget, rng
        self.method, self.retry_writes = method, retry_writes
        self.failures = self.throttled = 0
        self.refreshed = False

    @property
    def attempts(self) -> int:
        """Failed attempts so far, 429s included."""
        return self.failures + self.throttled

    def decide(
        self, error: Cafe24Error, *, elapsed: float, retry_after: float | None = None,
        token_sent: bool = False,
    ) -> Decision:
        """The next step after `error`, `elapsed` seconds into the call."""
        if isinstance(error, AuthenticationError) and token_sent and not self.refreshed:
            self.refreshed = True
            return REFRESH
        if not self._allowed(error):
            return RAISE
        delay = self._delay(error, retry_after)
        if elapsed + delay > self.settings.max_elapsed:
            return RAISE  # no retry may start after `max_elapsed`
        return Decision("retry", delay)

    def succeeded(self) -> None:
        """The call got its answer: refund the mall's budget a little."""
        self.budget.refund()

    def _allowed(self, error: Cafe24Error) -> bool:
        if isinstance(error, RateLimitError):
            self.throttled += 1
            return self.throttled <= self.settings.max_throttled
        self.failures += 1
        return (
            self.failures < self.settings.max_attempts
            and is_retryable(error, self.method, self.retry_writes)
            and self.budget.spend()
        )

    def _delay(self, error: Cafe24Error, retry_after: float | None) -> float:
        if retry_after is not None:
            return retry_after
        if isinstance(error, RateLimitError):
            return 0.0  # the limiter now holds the server's full bucket and waits for room
        return backoff_delay(self.failures, self.settings, self._rng)


__all__ = [
    "IDEMPOTENT",
    "RAISE",
    "REFRESH",
    "RETRY_STATUSES",
    "Decision",
    "RetryBudget",
    "RetryPolicy",
    "RetrySettings",
    "backoff_delay",
    "is_retryable",
    "parse_retry_after",
]
