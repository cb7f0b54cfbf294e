"""Redis unreachable at start, and Redis lost mid-run.

At start: a clear `RedisUnavailableError` (a `Cafe24ConnectionError` naming
Redis), never a redis-py exception. Mid-run: the shared bucket falls back to an
in-process bucket with a warning (`on_loss="local"`, the default) and rejoins
Redis when it answers again, or fails fast (`on_loss="fail"`); the token store
always fails fast.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

import pytest
import redis.exceptions

from benchmarks.bench_redis import free_port, redis_server
from cafe24_async import Cafe24, Cafe24ConnectionError, MemoryTokenStore, Token
from cafe24_async.auth.redis_store import RedisTokenStore
from cafe24_async.ratelimit.redis_bucket import RedisBucket, RedisBucketSettings, RedisLeakyBucketLimiter
from cafe24_async.redis_support import RedisUnavailableError, connect
from cafe24_async.sandbox import Sandbox
from tests.conftest import SandboxFactory


async def client_for(sb: Sandbox, shared: RedisBucket) -> Cafe24:
    store = MemoryTokenStore()
    await store.save("acme", Token.from_response(sb.issue_token("acme")))
    return Cafe24(
        sb.config.client_id, sb.config.client_secret, token_store=store, base_url=sb.base_url,
        leak_rate=sb.config.leak_rate, max_per_second=None, shared_bucket=shared,
    )


def assert_clear(error: RedisUnavailableError, port: int) -> None:
    assert isinstance(error, Cafe24ConnectionError)
    assert not isinstance(error, redis.exceptions.RedisError)
    assert "Redis" in str(error) and f"127.0.0.1:{port}" in str(error)


async def test_redis_unreachable_at_start(make_sandbox: SandboxFactory) -> None:
    sb = await make_sandbox(malls=("acme",))
    port = free_port()
    url = f"redis://127.0.0.1:{port}/0"
    shared = RedisBucket(url, RedisBucketSettings(on_loss="local"))
    api = await client_for(sb, shared)
    try:
        with pytest.raises(RedisUnavailableError) as caught:
            await shared.check()
        assert_clear(caught.value, port)
        # Even with on_loss="local": a Redis never reached is a set-up error, not a loss.
        with pytest.raises(RedisUnavailableError) as caught:
            await api.mall("acme").admin.products.count()
        assert_clear(caught.value, port)
        assert sb.stats("acme").requests == 0
    finally:
        await api.close()
        await shared.aclose()
    store = RedisTokenStore(url, sb.config.client_id)
    try:
        with pytest.raises(RedisUnavailableError) as caught:
            await store.load("acme")
        assert_clear(caught.value, port)
        with pytest.raises(RedisUnavailableError):
            await store.check()
    finally:
        await store.aclose()


@contextlib.contextmanager
def own_redis(port: int) -> Iterator[str]:
    """A redis-server of this test's own (it gets shut down), skipped without redis-server."""
    try:
        with redis_server(port) as url:
            yield url
    except FileNotFoundError as exc:
        pytest.skip(str(exc))


async def shut_down(url: str) -> None:
    client = connect(url, retries=0)
    with contextlib.suppress(redis.exceptions.ConnectionError):
        await client.shutdown(nosave=True)
    await client.aclose()


async def test_redis_lost_mid_run_falls_back_to_a_local_bucket(
    make_sandbox: SandboxFactory, caplog: pytest.LogCaptureFixture
) -> None:
    sb = await make_sandbox(malls=("acme",), products=30)
    port = free_port()
    with own_redis(port) as url:
        # retry_after=0: every call tries Redis first; retries=1: a dead Redis fails within ~0.1 s,
        # and a pooled connection to the old server is retried once on a new one.
        shared = RedisBucket(connect(url, retries=1), RedisBucketSettings(retry_after=0.0))
        api = await client_for(sb, shared)
        mall = api.mall("acme")
        limiter = mall.limiter("leaky_bucket")
        assert isinstance(limiter, RedisLeakyBucketLimiter)
        try:
            for no in range(1, 11):
                await mall.admin.products.get(no)
            await shared.flush()
            await shut_down(url)
            with caplog.at_level(logging.WARNING, logger="cafe24_async.ratelimit"):
                for no in range(11, 21):
                    assert (await mall.admin.products.get(no))["product_no"] == no
                assert limiter.degraded
                assert any("falls back to an in-process bucket" in r.getMessage() for r in caplog.records)
                assert sum("falls back" in r.getMessage() for r in caplog.records) == 1  # warned once
                with redis_server(port):  # Redis is back on the same address
                    for no in range(21, 31):
                        await mall.admin.products.get(no)
                    assert not limiter.degraded
                assert any("answers again" in r.getMessage() for r in caplog.records)
        finally:
            await api.close()
            await shared.aclose()
            await shared.redis.aclose()
    assert sb.stats("acme").ok == 30


async def test_redis_lost_mid_run_fails_fast_when_asked(make_sandbox: SandboxFactory) -> None:
    sb = await make_sandbox(malls=("acme",))
    port = free_port()
    with own_redis(port) as url:
        shared = RedisBucket(connect(url, retries=0), RedisBucketSettings(on_loss="fail"))
        store = RedisTokenStore(shared.redis, sb.config.client_id)
        await store.save("acme", Token.from_response(sb.issue_token("acme")))
        api = await client_for(sb, shared)
        try:
            await api.mall("acme").admin.products.count()
            await shared.flush()
            await shut_down(url)
            with pytest.raises(RedisUnavailableError) as caught:
                await api.mall("acme").admin.products.count()
            assert_clear(caught.value, port)
            with pytest.raises(RedisUnavailableError):
                await store.load("acme")  # the token store never falls back
        finally:
            await api.close()
            await shared.aclose()
            await shared.redis.aclose()
