"""Without redis-py installed, the core client works and the Redis pieces say what to install."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = textwrap.dedent(
    """
    import sys
    sys.modules["redis"] = None  # as if the extra were not installed

    import cafe24_async
    from cafe24_async import Cafe24, ConfigurationError
    from cafe24_async.auth.redis_store import RedisTokenStore
    from cafe24_async.ratelimit.redis_bucket import RedisBucket

    Cafe24("app").mall("acme")
    for make in (lambda: RedisBucket("redis://127.0.0.1:1"), lambda: RedisTokenStore("redis://127.0.0.1:1", "app")):
        try:
            make()
        except ConfigurationError as exc:
            assert "cafe24-async[redis]" in str(exc), exc
        else:
            raise AssertionError("no ConfigurationError")
    assert "redis.asyncio" not in sys.modules
    print("ok")
    """
)


def test_the_core_does_not_need_redis() -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=ROOT, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
