"""A worker's settings: where its credentials, Redis and shared directory are.

Credentials never travel in task messages: the broker holds mall ids, resource
names and dates only, and each worker reads its app credentials from its own
environment (or from settings its Celery module builds). The client secret is
left out of every repr, and a password in the Redis URL is shown as `***`.

    CAFE24_CLIENT_ID, CAFE24_CLIENT_SECRET     the app's credentials (required)
    CAFE24_REDIS_URL                           tokens and buckets shared by every worker (required)
    CAFE24_EXPORT_DIR                          the directory every worker reaches (required)
    CAFE24_BASE_URL, CAFE24_ANALYTICS_BASE_URL, CAFE24_DCOLLECTION_BASE_URL   as for the CLI
    CAFE24_DCOLLECTION_ID, CAFE24_DCOLLECTION_SECRET                          partner credentials
    CAFE24_LEAK_RATE, CAFE24_BUCKET_CAPACITY   a mall's bucket, when not Cafe24's (2/s, 40)
    CAFE24_MAX_PER_SECOND                      calls per second per mall (default 10; 0 turns it off)
    CAFE24_REDIS_PREFIX                        first part of every Redis key (default cafe24)
    CAFE24_WORKER_LOOP                         shared (one loop and client per process) or per-task
    CAFE24_CHECKPOINT_INTERVAL                 seconds between checkpoints (default 1)
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from types import EllipsisType
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

import attrs

from cafe24_async.errors import ConfigurationError

Loop = Literal["shared", "per-task"]
LOOPS: tuple[Loop, ...] = ("shared", "per-task")


def masked_url(url: str) -> str:
    """`url` with its password shown as `***`."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unreadable URL>"
    if parts.password is None:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


def _mask(url: str) -> str:
    return repr(masked_url(url))


@attrs.frozen(kw_only=True)
class WorkerSettings:
    """Everything a worker process needs to run partitions (see the module docstring)."""

    client_id: str
    client_secret: str = attrs.field(repr=False)
    redis_url: str = attrs.field(repr=_mask)
    export_dir: str
    base_url: str | None = None
    analytics_base_url: str | None = None
    dcollection_base_url: str | None = None
    dcollection_credentials: tuple[str, str] | None = attrs.field(default=None, repr=False)
    leak_rate: float | None = None
    bucket_capacity: int | None = None
    #: Calls per second per mall: None turns the cap off; left out (...), the client's default (10).
    max_per_second: int | EllipsisType | None = ...
    redis_prefix: str = "cafe24"
    #: "shared": one event loop and one client per process, kept across tasks;
    #: "per-task": `asyncio.run` and a new client for every task.
    loop: Loop = "shared"
    checkpoint_interval: float = 1.0
    #: Pages in flight per partition (None: the export's default).
    concurrency: int | None = None
    #: Seconds a task waits for a partition another live process holds, before it
    #: goes back on the queue.
    busy_wait: float = 30.0
    #: Attempts of a partition whose failure was the network, Redis or the server.
    max_retries: int = 5
    #: Seconds before such an attempt (doubled each time, at most 10 minutes).
    retry_delay: float = 30.0
    #: Further keyword arguments for `Cafe24` (timeouts, retry settings, api_version...).
    client_options: Mapping[str, Any] = attrs.field(factory=dict, repr=False)

    def __attrs_post_init__(self) -> None:
        for name in ("client_id", "client_secret", "redis_url", "export_dir"):
            if not isinstance(getattr(self, name), str) or not getattr(self, name):
                raise ConfigurationError(f"worker settings: {name} is required")
        if self.loop not in LOOPS:
            raise ConfigurationError(f"worker settings: loop must be one of {', '.join(LOOPS)}, "
                                     f"not {self.loop!r}")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> WorkerSettings:
        """Settings from `CAFE24_*` environment variables (`ConfigurationError` naming a
        missing or bad one)."""
        env = os.environ if environ is None else environ

        def required(name: str) -> str:
            value = env.get(name, "")
            if not value:
                raise ConfigurationError(f"the worker needs {name} in its environment")
            return value

        dc_id, dc_secret = env.get("CAFE24_DCOLLECTION_ID"), env.get("CAFE24_DCOLLECTION_SECRET")
        options: dict[str, Any] = {
            "base_url": env.get("CAFE24_BASE_URL") or None,
            "analytics_base_url": env.get("CAFE24_ANALYTICS_BASE_URL") or None,
            "dcollection_base_url": env.get("CAFE24_DCOLLECTION_BASE_URL") or None,
            "dcollection_credentials": (dc_id, dc_secret) if dc_id and dc_secret else None,
            "leak_rate": _number(env, "CAFE24_LEAK_RATE", float),
            "bucket_capacity": _number(env, "CAFE24_BUCKET_CAPACITY", int),
            "redis_prefix": env.get("CAFE24_REDIS_PREFIX") or "cafe24",
        }
        if env.get("CAFE24_MAX_PER_SECOND"):
            options["max_per_second"] = _number(env, "CAFE24_MAX_PER_SECOND", int) or None
        if env.get("CAFE24_WORKER_LOOP"):
            options["loop"] = env["CAFE24_WORKER_LOOP"]
        interval = _number(env, "CAFE24_CHECKPOINT_INTERVAL", float)
        if interval is not None:
            options["checkpoint_interval"] = interval
        return cls(
            client_id=required("CAFE24_CLIENT_ID"), client_secret=required("CAFE24_CLIENT_SECRET"),
            redis_url=required("CAFE24_REDIS_URL"), export_dir=required("CAFE24_EXPORT_DIR"), **options,
        )

    def client_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for the worker's `Cafe24` (without its store and bucket)."""
        kwargs: dict[str, Any] = {} if self.max_per_second is ... else {"max_per_second": self.max_per_second}
        for name in ("base_url", "analytics_base_url", "dcollection_base_url", "dcollection_credentials",
                     "leak_rate", "bucket_capacity"):
            value = getattr(self, name)
            if value is not None:
                kwargs[name] = value
        kwargs.update(self.client_options)
        return kwargs


def _number(env: Mapping[str, str], name: str, kind: type[int] | type[float]) -> Any:
    text = env.get(name, "").strip()
    if not text:
        return None
    try:
        value = kind(text)
    except ValueError:
        raise ConfigurationError(f"{name} must be a number, not {text!r}") from None
    if value < 0:
        raise ConfigurationError(f"{name} must not be negative")
    return value
