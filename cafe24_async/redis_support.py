"""Connecting to Redis for the shared token store and the shared leaky bucket.

Several worker processes serving the same mall must share two things: the
mall's token (Cafe24 rotates the refresh token on every use, so two processes
refreshing on their own kill each other's refresh token) and the mall's leaky
bucket (two processes each believing they own it both get 429s). Both live in
Redis, through redis-py's asyncio client.

redis-py is an optional extra (`pip install 'cafe24-async[redis]'`), so it is
imported here on first use, never when `cafe24_async` itself is imported.

Every failure to reach Redis surfaces as `RedisUnavailableError`, a
`Cafe24ConnectionError` whose message names Redis and its address, so that
callers never need to catch a redis-py type.
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable
from types import ModuleType
from typing import TYPE_CHECKING, Any, TypeVar

from cafe24_async.errors import Cafe24ConnectionError, ConfigurationError

if TYPE_CHECKING:
    from redis.asyncio import Redis

T = TypeVar("T")

INSTALL_HINT = "install the extra: pip install 'cafe24-async[redis]'"


class RedisUnavailableError(Cafe24ConnectionError):
    """Redis, which holds the shared token store or leaky bucket, could not be reached."""

    def __init__(self, address: str, doing: str, cause: BaseException | None = None) -> None:
        self.address = address
        self.doing = doing
        reason = f": {type(cause).__name__}: {cause}" if cause is not None else ""
        super().__init__(f"Redis at {address} is unreachable ({doing}){reason}")


def import_redis() -> ModuleType:
    """The `redis.asyncio` module, or a `ConfigurationError` saying how to install it."""
    try:
        return importlib.import_module("redis.asyncio")
    except ImportError as exc:
        raise ConfigurationError(
            f"the Redis token store and shared bucket need redis-py: {INSTALL_HINT}"
        ) from exc


def redis_errors() -> tuple[type[BaseException], ...]:
    """The exceptions that mean "Redis did not answer" (redis-py's, and the OS's)."""
    exceptions = importlib.import_module("redis.exceptions")
    base: type[BaseException] = exceptions.RedisError
    return (base, OSError)


def connect(url: str, *, timeout: float = 2.0, retries: int = 2) -> Redis:
    """A redis-py asyncio client for `url` (`redis://`, `rediss://` or `unix://`).

    Unlike redis-py's defaults (5 s timeouts, 10 retries with back-off), a dead
    Redis is reported within a few seconds: `timeout` bounds connecting and each
    reply, and a failed command is retried `retries` times with a short back-off.
    Nothing is sent until the first command.
    """
    module = import_redis()
    backoff = importlib.import_module("redis.backoff")
    retry = importlib.import_module("redis.asyncio.retry")
    client: Redis = module.Redis.from_url(
        url,
        socket_connect_timeout=timeout,
        socket_timeout=timeout,
        retry=retry.Retry(backoff.ExponentialBackoff(cap=0.2, base=0.02), retries),
    )
    return client


def as_client(redis: Redis | str) -> tuple[Redis, bool]:
    """`redis` as a client, and whether it was made here (and must be closed here)."""
    if isinstance(redis, str):
        return connect(redis), True
    import_redis()
    return redis, False


def address(redis: Redis) -> str:
    """Where `redis` connects, for messages: `host:port/db` or the socket path, never a password."""
    try:
        kwargs: dict[str, Any] = dict(redis.connection_pool.connection_kwargs)
    except AttributeError:
        return repr(type(redis).__name__)
    if "path" in kwargs:
        return f"unix:{kwargs['path']}"
    return f"{kwargs.get('host', 'localhost')}:{kwargs.get('port', 6379)}/{kwargs.get('db', 0)}"


async def guarded(redis: Redis, doing: str, call: Awaitable[T]) -> T:
    """Await a Redis command, turning a failure to reach Redis into `RedisUnavailableError`."""
    try:
        return await call
    except redis_errors() as exc:
        raise RedisUnavailableError(address(redis), doing, exc) from exc


async def ping(redis: Redis, doing: str = "ping") -> None:
    """Check that Redis answers; raises `RedisUnavailableError` when it does not."""
    answer: Any = redis.ping()
    await guarded(redis, doing, answer)
