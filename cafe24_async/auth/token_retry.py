"""Trying a token call again when the token endpoint fails, and only when that is safe.

Which failures are retried, and why, is explained in `auth.refresher`'s module
docstring: 429, 500/502/503/504, connection errors and timeouts are; a 2xx whose
answer cannot be read, a rejection and every other error are not. Retries follow
the client's `RetrySettings` (attempts, backoff, `max_elapsed`), spend from the
mall's `RetryBudget` like any other retry, and sleep on the injected clock.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Awaitable, Callable

import attrs

from cafe24_async.auth.token import Token
from cafe24_async.backoff import RETRY_STATUSES, RetryBudget, RetrySettings, backoff_delay
from cafe24_async.clock import Clock
from cafe24_async.errors import (
    Cafe24ConnectionError,
    Cafe24Error,
    DecodeError,
    RateLimitError,
    ReauthorizeError,
    ServerError,
)
from cafe24_async.transport import ConnectFailed

log = logging.getLogger("cafe24_async.auth")

#: No retry at all: what a `TokenRefresher` does unless told otherwise.
NO_RETRY = RetrySettings(max_attempts=1)


def retry_safe(error: Cafe24Error) -> bool:
    """True when another attempt cannot spend more than the failed one already did."""
    if isinstance(error, DecodeError):
        return False  # a 2xx: the refresh token was spent, its answer is lost
    if isinstance(error, (RateLimitError, Cafe24ConnectionError)):
        return True
    return isinstance(error, ServerError) and error.status in RETRY_STATUSES


@attrs.define
class TokenRetry:
    """Runs a token call with retries; one per mall."""

    mall_id: str
    clock: Clock
    settings: RetrySettings = NO_RETRY
    budget: RetryBudget = attrs.field(
        default=attrs.Factory(lambda self: RetryBudget(self.settings), takes_self=True)
    )
    rng: random.Random = attrs.field(factory=random.Random)

    async def run(self, call: Callable[[], Awaitable[Token]]) -> Token:
        """`call()`'s token, retried while that is safe and allowed."""
        started = self.clock.monotonic()
        attempt = 0
        may_have_spent = False  # an earlier attempt may have reached the server
        while True:
            attempt += 1
            try:
                token = await call()
            except ReauthorizeError as exc:
                raise self._rejected(exc, may_have_spent) from None
            except Cafe24Error as exc:
                delay = self._delay(exc, attempt, started)
                if delay is None:
                    raise
                may_have_spent = may_have_spent or not isinstance(exc, ConnectFailed)
                log.warning(
                    "token request of mall %s failed (%s, attempt %d); trying again in %.2fs",
                    self.mall_id, _describe(exc), attempt, delay,
                    extra={"mall_id": self.mall_id, "attempt": attempt, "delay": delay},
                )
                await self.clock.sleep(delay)
                continue
            self.budget.refund()
            return token

    def _delay(self, error: Cafe24Error, attempt: int, started: float) -> float | None:
        """Seconds to wait before the next attempt, or None when there is none."""
        if attempt >= self.settings.max_attempts or not retry_safe(error):
            return None
        delay = backoff_delay(attempt, self.settings, self.rng)
        if self.clock.monotonic() - started + delay > self.settings.max_elapsed:
            return None
        if not self.budget.spend():
            return None
        return delay

    def _rejected(self, error: ReauthorizeError, may_have_spent: bool) -> ReauthorizeError:
        if not may_have_spent:
            return error
        return ReauthorizeError(
            self.mall_id,
            f"{error.reason} (an earlier attempt got no answer and had probably used the refresh token)",
        )


def _describe(error: Cafe24Error) -> str:
    status = getattr(error, "status", None)
    return type(error).__name__ if status is None else f"{type(error).__name__} {status}"
