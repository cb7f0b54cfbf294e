"""The Celery tests need the `celery` extra and redis-server; scripts/test and .ci/run
install both, so in CI they always run. Each scenario starts its own sandbox,
redis-server and workers as processes (see tests/celery/cluster.py)."""

from __future__ import annotations

import shutil

import pytest

pytest.importorskip("celery", reason="the celery extra is not installed (pip install -e '.[dev,celery]')")


@pytest.fixture(autouse=True)
def _needs_redis_server() -> None:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed (Debian package redis-server; .ci/run installs it)")
