"""The Redis token store: tokens per mall, and a refresh lock that holds across connections."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import pytest

from cafe24_async import Cafe24, Token, TokenStore, TokenStoreError
from cafe24_async.auth.redis_store import RedisTokenStore, RefreshLockTimeoutError
from cafe24_async.redis_support import connect
from tests.conftest import SandboxFactory


def token(access: str = "a" * 22, days: float = 14.0) -> Token:
    now = datetime.now(UTC)
    return Token(
        access_token=access, refresh_token="r" * 22, expires_at=now + timedelta(hours=2),
        refresh_token_expires_at=now + timedelta(days=days), mall_id="acme",
    )


async def test_tokens_round_trip_per_app_and_mall(redis_url: str, prefix: str) -> None:
    store = RedisTokenStore(redis_url, "app-1", prefix=prefix, keep_after_expiry=3600.0)
    other_app = RedisTokenStore(redis_url, "app-2", prefix=prefix)
    try:
        assert isinstance(store, TokenStore)
        assert await store.load("acme") is None
        saved = token(days=1.0)
        await store.save("acme", saved)
        loaded = await store.load("acme")
        assert loaded is not None and loaded.to_dict() == saved.to_dict()
        assert await other_app.load("acme") is None
        assert await store.load("other") is None
        # The key lives until the refresh token expires, plus keep_after_expiry.
        ttl = await store.redis.pttl(store.key("acme"))
        assert (86_400 + 3600 - 60) * 1000 < ttl <= (86_400 + 3600) * 1000
        await store.delete("acme")
        assert await store.load("acme") is None
    finally:
        await store.aclose()
        await other_app.aclose()


async def test_the_refresh_lock_holds_across_connections(redis_url: str, prefix: str) -> None:
    first = RedisTokenStore(redis_url, "app", prefix=prefix, lock_timeout=0.3)
    second = RedisTokenStore(redis_url, "app", prefix=prefix, lock_wait=0.1, lock_poll=0.01)
    try:
        async with first.refresh_lock("acme"):
            with pytest.raises(RefreshLockTimeoutError):
                async with second.refresh_lock("acme"):
                    pass
            # Held past its 0.3 s timeout: the holder keeps extending it while it works.
            await asyncio.sleep(0.5)
            with pytest.raises(RefreshLockTimeoutError):
                async with second.refresh_lock("acme"):
                    pass
            async with second.refresh_lock("other-mall"):
                pass
        async with second.refresh_lock("acme"):
            pass
    finally:
        await first.aclose()
        await second.aclose()


async def test_clients_on_separate_connections_refresh_once(
    make_sandbox: SandboxFactory, redis_url: str, prefix: str
) -> None:
    sb = await make_sandbox(malls=("acme",))
    redis = connect(redis_url)
    seed = RedisTokenStore(redis, sb.config.client_id, prefix=prefix)
    await seed.save("acme", Token.from_response(sb.issue_token("acme")))
    sb.expire_access_token("acme")
    stores = [RedisTokenStore(redis_url, sb.config.client_id, prefix=prefix) for _ in range(3)]
    clients = [
        Cafe24(sb.config.client_id, sb.config.client_secret, token_store=store, base_url=sb.base_url,
               leak_rate=sb.config.leak_rate, max_per_second=None)
        for store in stores
    ]
    try:
        counts = await asyncio.gather(
            *(client.mall("acme").admin.products.count() for client in clients for _ in range(4))
        )
        assert set(counts) == {sb.config.products}
        assert sb.stats("acme").refreshes == 1
        assert sb.stats("acme").invalid_grants == 0
        stored = await seed.load("acme")
        assert stored is not None and stored.access_token != token().access_token
        assert sum(c.mall("acme").stats.refreshes for c in clients) == 1
    finally:
        for client in clients:
            await client.close()
        for store in stores:
            await store.aclose()
        await redis.aclose()


SECRET_VALUE = "at-" + "s3cr3t" * 5


@pytest.mark.parametrize("value", [
    b"not json " + SECRET_VALUE.encode(),
    b'{"access_token": "\xff\xfe' + SECRET_VALUE.encode() + b'"}',
    b"[1, 2, 3]",
    b'"' + SECRET_VALUE.encode() + b'"',
    json.dumps({"access_token": SECRET_VALUE, "refresh_token": "r" * 22}).encode(),
    json.dumps({"access_token": SECRET_VALUE, "expires_at": "soon " + SECRET_VALUE}).encode(),
    json.dumps({"access_token": 12345, "expires_at": "2026-01-01T00:00:00+00:00"}).encode(),
], ids=["not_json", "not_utf8", "a_list", "a_string", "no_expires_at", "garbage_expires_at", "wrong_type"])
async def test_a_damaged_value_is_a_token_store_error(
    make_sandbox: SandboxFactory, redis_url: str, prefix: str, value: bytes
) -> None:
    sb = await make_sandbox(malls=("acme",))
    store = RedisTokenStore(redis_url, sb.config.client_id, prefix=prefix)
    try:
        await store.redis.set(store.key("acme"), value)
        with pytest.raises(TokenStoreError) as info:
            await store.load("acme")
        assert store.key("acme") in str(info.value) and SECRET_VALUE not in str(info.value)
        async with Cafe24(sb.config.client_id, sb.config.client_secret, token_store=store,
                          base_url=sb.base_url, max_per_second=None) as api:
            with pytest.raises(TokenStoreError):  # through the client: the same error, nothing sent
                await api.mall("acme").admin.products.count()
        assert sb.stats("acme").requests == 0 and sb.stats("acme").token_requests == 0
        await store.save("acme", Token.from_response(sb.issue_token("acme")))  # a new pair repairs it
        assert await store.load("acme") is not None
    finally:
        await store.aclose()
