"""Tokens in Redis, shared by every worker process of an app.

Cafe24 rotates the refresh token on every use: two processes that refresh the
same mall's token on their own spend the same refresh token twice, and the
second refresh fails with `invalid_grant`, leaving the mall to be authorised
again. `RedisTokenStore` keeps each mall's token in Redis and guards a refresh
with a Redis lock, so across any number of processes exactly one refreshes and
the others, which `TokenRefresher` makes read the store again once they hold
the lock, pick up the new token.

Keys, one per mall (`client_id` keeps apps sharing a Redis apart):

    <prefix>:<client_id>:<mall_id>:token          the token as JSON
    <prefix>:<client_id>:<mall_id>:refresh-lock   held while refreshing

The token key expires `keep_after_expiry` seconds after its refresh token does
(after that only a new authorisation helps); without a refresh-token expiry it
never expires. The lock expires `lock_timeout` seconds after it was last
extended: the holder extends it while it refreshes, so a crashed holder frees
the mall within `lock_timeout` seconds and a slow refresh is never overtaken.

A stored value that is not a token (not JSON, not UTF-8, a field missing or
garbage) raises `TokenStoreError` naming the key, never its value.

Redis unreachable raises `RedisUnavailableError` (a `Cafe24ConnectionError`);
there is no fallback, because refreshing without the shared lock is exactly
what kills refresh tokens.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from cafe24_async.auth.stores import token_from_entry
from cafe24_async.auth.token import Token
from cafe24_async.errors import Cafe24Error, TokenStoreError
from cafe24_async.redis_support import address, as_client, guarded, ping, redis_errors

if TYPE_CHECKING:
    from redis.asyncio import Redis

log = logging.getLogger("cafe24_async.auth")


class RefreshLockTimeoutError(Cafe24Error, TimeoutError):
    """Another process held a mall's refresh lock for longer than this one would wait."""

    def __init__(self, mall_id: str, waited: float) -> None:
        self.mall_id = mall_id
        self.waited = waited
        super().__init__(f"mall {mall_id!r}: the Redis refresh lock stayed taken for {waited:g}s")


class RedisTokenStore:
    """A `TokenStore` in Redis: one key per mall, a Redis lock per refresh.

    `redis` is a redis-py asyncio client (closed by its owner) or a URL (a client
    is made and closed by `aclose`). `client_id` is the app's, so several apps can
    share one Redis.
    """

    def __init__(
        self,
        redis: Redis | str,
        client_id: str,
        *,
        prefix: str = "cafe24",
        lock_timeout: float = 30.0,
        lock_wait: float = 120.0,
        lock_poll: float = 0.05,
        keep_after_expiry: float = 86_400.0,
    ) -> None:
        if not client_id:
            raise ValueError("client_id is required: it namespaces the keys")
        if lock_timeout <= 0 or lock_wait <= 0 or lock_poll <= 0:
            raise ValueError("lock_timeout, lock_wait and lock_poll must be > 0")
        self.redis, self._owns = as_client(redis)
        self.client_id = client_id
        self.prefix = prefix
        #: Seconds the lock outlives its holder's last sign of life.
        self.lock_timeout = lock_timeout
        #: Seconds a process waits for another's refresh before giving up.
        self.lock_wait = lock_wait
        self.lock_poll = lock_poll
        self.keep_after_expiry = keep_after_expiry
        self.address = address(self.redis)
        self._local: dict[str, asyncio.Lock] = {}

    def __repr__(self) -> str:
        return f"RedisTokenStore({self.address}, client_id={self.client_id!r}, prefix={self.prefix!r})"

    def key(self, mall_id: str, what: str = "token") -> str:
        return f"{self.prefix}:{self.client_id}:{mall_id}:{what}"

    async def check(self) -> None:
        """Raise `RedisUnavailableError` unless Redis answers (call it when a worker starts)."""
        await ping(self.redis, "token store")

    async def load(self, mall_id: str) -> Token | None:
        """The mall's token; `TokenStoreError` (naming the key, never the value) when the
        stored value is not a token."""
        key = self.key(mall_id)
        raw: Any = await guarded(self.redis, "token store: load", self.redis.get(key))
        if raw is None:
            return None
        location = f"redis {self.address} key {key!r}"
        return token_from_entry(_parse_value(raw, location), location, mall_id)

    async def save(self, mall_id: str, token: Token) -> None:
        value = json.dumps(token.to_dict(), sort_keys=True)
        ttl = self._ttl_ms(token)
        await guarded(self.redis, "token store: save", self.redis.set(self.key(mall_id), value, px=ttl))

    async def delete(self, mall_id: str) -> None:
        """Forget the mall's token (the app was uninstalled)."""
        await guarded(self.redis, "token store: delete", self.redis.delete(self.key(mall_id)))

    def _ttl_ms(self, token: Token) -> int | None:
        expires = token.refresh_token_expires_at
        if expires is None:
            return None
        left = (expires - datetime.now(UTC)).total_seconds() + self.keep_after_expiry
        return max(1000, math.ceil(left * 1000))

    @contextlib.asynccontextmanager
    async def refresh_lock(self, mall_id: str) -> AsyncIterator[None]:
        """Held by one task of one process at a time, across every process using this Redis."""
        local = self._local.setdefault(mall_id, asyncio.Lock())
        async with local:
            lock: Any = self.redis.lock(
                self.key(mall_id, "refresh-lock"),
                timeout=self.lock_timeout,
                sleep=self.lock_poll,
                blocking_timeout=self.lock_wait,
                thread_local=False,
            )
            acquired = await guarded(self.redis, "token store: refresh lock", lock.acquire())
            if not acquired:
                raise RefreshLockTimeoutError(mall_id, self.lock_wait)
            keeper = asyncio.get_running_loop().create_task(self._keep(lock, mall_id))
            try:
                yield
            finally:
                keeper.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await keeper
                await self._release(lock, mall_id)

    async def _keep(self, lock: Any, mall_id: str) -> None:
        """Extend the lock while its holder works, so a slow refresh is never overtaken."""
        while True:
            await asyncio.sleep(self.lock_timeout / 3)
            try:
                await lock.reacquire()
            except redis_errors() as exc:
                log.warning("could not extend the refresh lock of mall %s: %s", mall_id, exc)

    async def _release(self, lock: Any, mall_id: str) -> None:
        try:
            await lock.release()
        except redis_errors() as exc:
            # Expired (Redis lost for longer than lock_timeout) or Redis down: the
            # refresh itself is done and saved, so this is worth a warning only.
            log.warning("could not release the refresh lock of mall %s: %s", mall_id, exc)

    async def aclose(self) -> None:
        """Close the Redis client if it was made here."""
        if self._owns:
            await self.redis.aclose()


def _parse_value(raw: str | bytes, location: str) -> Any:
    """The JSON of a stored value, or `TokenStoreError` saying what it is instead."""
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    except UnicodeDecodeError:
        raise TokenStoreError(location, "the stored value is not UTF-8 text") from None
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        raise TokenStoreError(location, "the stored value is not JSON") from None
