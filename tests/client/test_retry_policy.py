"""`RetryPolicy` alone, without HTTP: refresh once on 401, 429 allowance, attempts,
budget, Retry-After and the time limit."""

from __future__ import annotations

import random

from cafe24_async.backoff import RetryBudget, RetrySettings
from cafe24_async.errors import (
    AuthenticationError,
    Cafe24ConnectionError,
    NotFoundError,
    RateLimitError,
    ServerError,
)
from cafe24_async.pipeline.retry import RetryPolicy

SETTINGS = RetrySettings(max_attempts=3, max_throttled=2, max_elapsed=10.0, base_delay=0.5, max_delay=4.0)


def policy(method: str = "GET", retry_writes: bool = False) -> RetryPolicy:
    return RetryPolicy(SETTINGS, RetryBudget(SETTINGS), random.Random(1), method, retry_writes)


def test_a_401_to_a_sent_token_refreshes_once_then_raises() -> None:
    p = policy()
    assert p.decide(AuthenticationError(401, "expired"), elapsed=0, token_sent=True).action == "refresh"
    assert p.decide(AuthenticationError(401, "expired"), elapsed=0, token_sent=True).action == "raise"
    assert policy().decide(AuthenticationError(401, "no token"), elapsed=0, token_sent=False).action == "raise"


def test_server_errors_back_off_until_attempts_run_out() -> None:
    p = policy()
    first = p.decide(ServerError(503, "busy"), elapsed=0)
    second = p.decide(ServerError(503, "busy"), elapsed=0)
    assert first.action == second.action == "retry"
    assert 0 <= first.delay <= 0.5 and 0 <= second.delay <= 1.0
    assert p.decide(ServerError(503, "busy"), elapsed=0).action == "raise"  # third attempt of three


def test_throttling_has_its_own_allowance_and_waits_for_the_bucket() -> None:
    p = policy()
    assert p.decide(RateLimitError(429, "full"), elapsed=0) == p.decide(RateLimitError(429, "full"), elapsed=0)
    assert p.decide(RateLimitError(429, "full"), elapsed=0).action == "raise"
    assert policy().decide(RateLimitError(429, "full"), elapsed=0).delay == 0.0
    assert policy().decide(RateLimitError(429, "full"), elapsed=0, retry_after=2.5).delay == 2.5


def test_writes_are_retried_only_when_safe_or_asked() -> None:
    assert policy("POST").decide(ServerError(500, "x"), elapsed=0).action == "raise"
    assert policy("POST", retry_writes=True).decide(ServerError(500, "x"), elapsed=0).action == "retry"
    assert policy("POST").decide(RateLimitError(429, "x"), elapsed=0).action == "retry"
    assert policy("POST").decide(Cafe24ConnectionError("reset"), elapsed=0).action == "raise"


def test_what_cannot_pass_is_raised_at_once() -> None:
    assert policy().decide(NotFoundError(404, "x"), elapsed=0).action == "raise"


def test_no_retry_starts_after_the_time_limit() -> None:
    assert policy().decide(ServerError(500, "x"), elapsed=9.99, retry_after=0.5).action == "raise"
    assert policy().decide(ServerError(500, "x"), elapsed=9.0, retry_after=0.5).action == "retry"


def test_an_empty_budget_stops_retries_and_successes_refill_it() -> None:
    settings = RetrySettings(max_attempts=10, budget=10.0, retry_cost=5.0, success_refund=5.0)
    budget = RetryBudget(settings)
    p = RetryPolicy(settings, budget, random.Random(1), "GET")
    assert [p.decide(ServerError(500, "x"), elapsed=0).action for _ in range(3)] == ["retry", "retry", "raise"]
    p.succeeded()
    assert RetryPolicy(settings, budget, random.Random(1), "GET").decide(
        ServerError(500, "x"), elapsed=0).action == "retry"
