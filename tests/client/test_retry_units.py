"""Retry decisions, backoff and Retry-After, each alone."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

from cafe24_async.errors import (
    BadRequestError,
    Cafe24ConnectionError,
    Cafe24TimeoutError,
    DecodeError,
    RateLimitError,
    ServerError,
)
from cafe24_async.retry import RetryBudget, RetrySettings, backoff_delay, is_retryable, parse_retry_after
from cafe24_async.transport import ConnectFailed


def test_retryable_errors_by_method() -> None:
    for status in (500, 502, 503, 504):
        assert is_retryable(ServerError(status, "x"), "GET")
        assert is_retryable(ServerError(status, "x"), "PUT")
        assert is_retryable(ServerError(status, "x"), "DELETE")
        assert not is_retryable(ServerError(status, "x"), "POST")
        assert is_retryable(ServerError(status, "x"), "POST", retry_writes=True)
    assert not is_retryable(ServerError(501, "x"), "GET")
    assert is_retryable(Cafe24TimeoutError("t"), "GET")
    assert not is_retryable(Cafe24TimeoutError("t"), "POST")
    assert is_retryable(Cafe24ConnectionError("reset"), "GET")
    assert is_retryable(ConnectFailed("refused"), "POST")  # never reached the server
    assert is_retryable(RateLimitError(429, "x"), "POST")  # refused before processing
    assert is_retryable(DecodeError(200, "cut"), "GET")
    assert not is_retryable(BadRequestError(400, "x"), "GET")


def test_full_jitter_bounds() -> None:
    settings = RetrySettings(base_delay=0.5, max_delay=4.0)
    rng = random.Random(1)
    for attempt in range(1, 10):
        cap = min(4.0, 0.5 * 2 ** (attempt - 1))
        delays = [backoff_delay(attempt, settings, rng) for _ in range(200)]
        assert all(0 <= d <= cap for d in delays)
        assert max(delays) > cap * 0.8  # spread over the whole range


def test_retry_after_both_forms() -> None:
    assert parse_retry_after("2") == 2.0
    assert parse_retry_after("2.0") == 2.0
    assert parse_retry_after("0.25") == 0.25
    now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
    http_date = format_datetime(now + timedelta(seconds=30), usegmt=True)
    assert parse_retry_after(http_date, now) == 30.0
    assert parse_retry_after("garbage") is None
    assert parse_retry_after(None) is None
    assert parse_retry_after("-5") == 0.0
    assert parse_retry_after("nan") is None


def test_budget_spends_and_refunds() -> None:
    budget = RetryBudget(RetrySettings(budget=10, retry_cost=5, success_refund=1))
    assert budget.spend() and budget.spend() and not budget.spend()
    for _ in range(5):
        budget.refund()
    assert budget.spend() and not budget.spend()
