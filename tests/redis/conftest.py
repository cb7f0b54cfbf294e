"""A real redis-server for the Redis token store and shared bucket tests.

One server per test session, on a free loopback port, without persistence. The
tests are skipped only when redis-server is not installed; CI (.ci/run)
installs it, so there they always run.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator

import pytest

from benchmarks.bench_redis import redis_server


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed (Debian package redis-server; .ci/run installs it)")
    with redis_server() as url:
        yield url


@pytest.fixture
def prefix() -> str:
    """A key prefix of this test's own, so tests never see each other's keys."""
    return f"test-{uuid.uuid4().hex[:10]}"
