"""Deduplication shared by N receivers, in Redis (the `redis` extra).

Behind a load balancer, Cafe24's resend of an event may reach another process
than the first delivery did; they must share what was seen. Each key is a Redis
string with a time-to-live of the window:

    <prefix>:{<mall_id>}:seen:<key>       "1", expires after `window` seconds

One Lua script checks that none of an event's keys exists and sets them all, so
two receivers getting the same event at the same moment cannot both claim it
(the keys of one mall share a hash slot, so this also holds on a cluster).

If Redis cannot be reached, `claim` raises `RedisUnavailableError`; a receiver
then answers 503, and Cafe24 delivers the event again later.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from cafe24_async.errors import ConfigurationError
from cafe24_async.redis_support import address, as_client, guarded, ping
from cafe24_async.webhooks.dedup import DEFAULT_WINDOW

if TYPE_CHECKING:
    from redis.asyncio import Redis

#: KEYS: the event's keys; ARGV[1]: time to live in milliseconds. 1 when claimed, 0 when seen.
CLAIM_SCRIPT = """
for _, key in ipairs(KEYS) do
  if redis.call('EXISTS', key) == 1 then return 0 end
end
for _, key in ipairs(KEYS) do
  redis.call('SET', key, '1', 'PX', ARGV[1])
end
return 1
"""


class RedisDeduplicator:
    """Seen keys in Redis, kept `window` seconds. `redis` is a redis-py asyncio client
    (closed by its owner) or a URL (a client is made here and closed by `aclose`)."""

    def __init__(
        self, redis: Redis | str, *, window: float = DEFAULT_WINDOW, prefix: str = "cafe24:webhooks"
    ) -> None:
        if window <= 0:
            raise ConfigurationError("window must be positive")
        self.redis, self._owns = as_client(redis)
        self.window = window
        self.prefix = prefix
        self.address = address(self.redis)
        self._claim: Any = self.redis.register_script(CLAIM_SCRIPT)

    def __repr__(self) -> str:
        return f"RedisDeduplicator({self.address}, prefix={self.prefix!r}, window={self.window:g}s)"

    def redis_keys(self, mall_id: str, keys: Sequence[str]) -> list[str]:
        return [f"{self.prefix}:{{{mall_id}}}:seen:{key}" for key in keys]

    async def check(self) -> None:
        """Raise `RedisUnavailableError` unless Redis answers (call it at start-up)."""
        await ping(self.redis, "webhook deduplication")

    async def claim(self, mall_id: str, keys: Sequence[str]) -> bool:
        pending = self._claim(keys=self.redis_keys(mall_id, keys), args=[int(self.window * 1000)])
        answer: Any = await guarded(self.redis, "webhook deduplication", pending)
        return int(answer) == 1

    async def release(self, mall_id: str, keys: Sequence[str]) -> None:
        if keys:
            pending = self.redis.delete(*self.redis_keys(mall_id, keys))
            await guarded(self.redis, "webhook deduplication", pending)

    async def aclose(self) -> None:
        """Close the Redis client if it was made here."""
        if self._owns:
            await self.redis.aclose()
