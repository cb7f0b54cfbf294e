"""Deprecated import path: retry decisions live in `cafe24_async.pipeline.retry`, and
the settings, delays and budget in `cafe24_async.backoff`.

Kept for one release so existing imports work.
"""

from __future__ import annotations

from cafe24_async.pipeline.retry import (
    IDEMPOTENT,
    RETRY_STATUSES,
    RetryBudget,
    RetryPolicy,
    RetrySettings,
    backoff_delay,
    is_retryable,
    parse_retry_after,
)

__all__ = [
    "IDEMPOTENT",
    "RETRY_STATUSES",
    "RetryBudget",
    "RetryPolicy",
    "RetrySettings",
    "backoff_delay",
    "is_retryable",
    "parse_retry_after",
]
