"""The ready-made Celery app: `celery -A cafe24_async.celery.app worker`.

Configured from the environment, so the same module serves every worker and
producer: `CELERY_BROKER_URL` and `CELERY_RESULT_BACKEND` (both default to
`CAFE24_REDIS_URL`), `CAFE24_CELERY_VISIBILITY_TIMEOUT` (seconds, default
7200) and `CAFE24_CELERY_CONCURRENCY` (pool threads, default 32); the workers
read their own settings (`celery.settings`) on their first task. An app of
your own takes the same tasks with `configure(app)` and `register(app)`.
"""

from __future__ import annotations

import os

from cafe24_async.celery.tasks import CONCURRENCY, VISIBILITY_TIMEOUT, make_app
from cafe24_async.errors import ConfigurationError


def _number(name: str, default: float) -> float:
    text = os.environ.get(name, "").strip()
    try:
        return float(text) if text else default
    except ValueError:
        raise ConfigurationError(f"{name} must be a number, not {text!r}") from None


app = make_app(
    visibility_timeout=_number("CAFE24_CELERY_VISIBILITY_TIMEOUT", VISIBILITY_TIMEOUT),
    concurrency=int(_number("CAFE24_CELERY_CONCURRENCY", CONCURRENCY)),
)
