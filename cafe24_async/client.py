"""`Cafe24`: the one object an application holds.

It owns the aiohttp session (one connection pool shared by every mall), the
settings, and one `Mall` per mall id, created on first use and cached. Each mall
gets its own limiter and token refresher, so one mall's trouble never slows
another.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import secrets
import warnings
from collections.abc import Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlsplit

import aiohttp
import attrs

from cafe24_async import checks
from cafe24_async.api import Namespace, api_tree
from cafe24_async.auth import oauth
from cafe24_async.auth.stores import MemoryTokenStore, TokenStore
from cafe24_async.auth.token import Token
from cafe24_async.backoff import RetrySettings
from cafe24_async.clock import Clock, SystemClock
from cafe24_async.context import Credentials, MallContext
from cafe24_async.deadlines import Deadlines
from cafe24_async.errors import ClientClosedError, ConfigurationError
from cafe24_async.mall import Mall
from cafe24_async.pipeline.build import POLICIES, UnknownParams
from cafe24_async.ratelimit.limiter import (
    FixedWindowLimiter,
    LeakyBucketLimiter,
    Limiter,
    RateLimitSettings,
    TokenBucketLimiter,
)
from cafe24_async.ratelimit.quota import QuotaSettings
from cafe24_async.ratelimit.shared import SharedBucket
from cafe24_async.routes.apis import APIS
from cafe24_async.routes.versions import RELEASES, is_stale
from cafe24_async.stats import MallStats
from cafe24_async.transport import PoolSettings, TimeoutSettings, new_session

if TYPE_CHECKING:
    from cafe24_async.api_types import Dcollection

#: Name under which partner-wide (D.Collection) calls are counted.
PARTNER = "partner"

#: Cafe24 mall ids: lowercase letters and digits, with `-` and `_` inside. Used with
#: `fullmatch` (a `$` anchor would let "acme\n" through).
MALL_ID = re.compile(r"[a-z0-9](?:[a-z0-9_-]{0,48}[a-z0-9])?")


def is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_base_url(template: str, name: str, needs_mall: bool) -> str:
    """Refuse a base URL that is not https (loopback excepted) or lacks `{mall_id}`."""
    if not isinstance(template, str):
        raise ConfigurationError(f"{name} must be text, e.g. 'https://{{mall_id}}.cafe24api.com'")
    template = template.rstrip("/")
    if needs_mall and "{mall_id}" not in template:
        raise ConfigurationError(f"{name} must hold the placeholder {{mall_id}}: {template!r}")
    try:
        parts = urlsplit(template.replace("{mall_id}", "mall"))
        _ = parts.port
    except ValueError:
        raise ConfigurationError(f"{name} is not a valid URL: {template!r}") from None
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ConfigurationError(f"{name} must be an http(s) URL: {template!r}")
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise ConfigurationError(f"{name} must use https (plain http only for loopback hosts)")
    return template


class Cafe24:
    """Client for the Cafe24 Admin, Front, Analytics and D.Collection APIs.

    Use it as an async context manager (or call `close()`); every mall shares
    its connection pool::

        async with Cafe24(client_id=..., client_secret=..., token_store=store) as api:
            mall = api.mall("acme")
            n = await mall.admin.products.count()
    """

    def __init__(
        self,
        client_id: str,
        client_secret: str | None = None,
        token_store: TokenStore | None = None,
        *,
        base_url: str = APIS["admin"].base_url,
        analytics_base_url: str = APIS["analytics"].base_url,
        dcollection_base_url: str = APIS["dcollection"].base_url,
        dcollection_credentials: tuple[str, str] | None = None,
        front_api_key: str | None = None,
        leak_rate: float | None = None,
        bucket_capacity: int | None = None,
        max_per_second: int | object | None = ...,
        rate_limit: RateLimitSettings | None = None,
        retry: RetrySettings | None = None,
        quota: QuotaSettings | None = None,
        timeout: TimeoutSettings | None = None,
        pool: PoolSettings | None = None,
        api_version: str | None = None,
        session: aiohttp.ClientSession | None = None,
        trace_configs: Sequence[aiohttp.TraceConfig] | None = None,
        typed: bool = False,
        unknown_params: UnknownParams = "error",
        refresh_margin: float = 300.0,
        clock: Clock | None = None,
        shared_bucket: SharedBucket | None = None,
    ) -> None:
        checks.text("client_id", client_id)
        checks.text("client_secret", client_secret, optional=True)
        if token_store is not None and not isinstance(token_store, TokenStore):
            raise ConfigurationError("token_store must have load(), save() and refresh_lock()")
        self.client_id = client_id
        self._client_secret = client_secret
        self.token_store: TokenStore = token_store if token_store is not None else MemoryTokenStore()
        self.base_url = check_base_url(base_url, "base_url", needs_mall=True)
        self.analytics_base_url = check_base_url(analytics_base_url, "analytics_base_url", False)
        self.dcollection_base_url = check_base_url(dcollection_base_url, "dcollection_base_url", False)
        self.dcollection_credentials = _credentials(dcollection_credentials)
        self.rate_limit = _rate_limit(rate_limit, leak_rate, bucket_capacity, max_per_second)
        self.retry = checks.settings("retry", retry, RetrySettings)
        self.quota = checks.settings("quota", quota, QuotaSettings)
        self.timeout = checks.settings("timeout", timeout, TimeoutSettings)
        self.pool = checks.settings("pool", pool, PoolSettings)
        if not isinstance(typed, bool):
            raise ConfigurationError("typed must be True or False")
        if unknown_params not in POLICIES:
            raise ConfigurationError(f"unknown_params must be one of {', '.join(POLICIES)}")
        checks.number("refresh_margin", refresh_margin)
        checks.text("front_api_key", front_api_key, optional=True)
        _check_api_version(api_version)
        checks.instance("session", session, aiohttp.ClientSession, "an aiohttp.ClientSession")
        checks.instance("clock", clock, Clock, "a Clock (now, monotonic, sleep)")
        self.typed = typed
        self.refresh_margin = refresh_margin
        self.clock: Clock = clock or SystemClock()
        #: Where each mall's leaky bucket lives when several processes share the mall
        #: (e.g. `RedisBucket`); None keeps it in this process.
        self.shared_bucket = shared_bucket
        self.extra_headers: dict[str, str] = {}
        if api_version:
            self.extra_headers["X-Cafe24-Api-Version"] = api_version
        self._session = session
        self._owns_session = session is None
        #: Every request's time limits; a session given keeps its own.
        self.limits: TimeoutSettings | None = self.timeout if session is None else None
        self.deadlines = Deadlines()
        self._trace_configs = trace_configs
        self._malls: dict[str, Mall] = {}
        self._partner: Mall | None = None
        self._closed = False
        #: Calls sleeping before a retry; `close()` wakes them with `ClientClosedError`.
        self._pausing: set[asyncio.Task[Any]] = set()
        self._woken: set[asyncio.Task[Any]] = set()
        self.credentials = Credentials(client_id, client_secret, self.dcollection_credentials, front_api_key)
        #: What every mall is given: settings, clock, lifecycle, base URLs, credentials.
        self.context = MallContext(
            rate_limit=self.rate_limit, retry=self.retry, quota=self.quota, typed=typed,
            unknown_params=unknown_params, refresh_margin=refresh_margin, clock=self.clock, lifecycle=self,
            credentials=self.credentials, token_store=self.token_store,
            base_urls={"admin": self.base_url, "front": self.base_url,
                       "analytics": self.analytics_base_url, "dcollection": self.dcollection_base_url},
            extra_headers=self.extra_headers, new_limiter=self.new_limiter, refresh=self.oauth_refresh,
        )

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return (
            f"<Cafe24 client_id={self.client_id!r} malls={len(self._malls)} {state} "
            f"base_url={self.base_url!r}>"
        )

    # -- lifecycle ---------------------------------------------------------------------

    async def __aenter__(self) -> Cafe24:
        self.check_open()
        _ = self.session
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the connection pool (if this client made it). Calls after this fail,
        and calls under way end with `ClientClosedError` instead of waiting to retry."""
        self._closed = True
        for task in self._pausing - self._woken:
            self._woken.add(task)
            task.cancel()
        if self._session is not None and self._owns_session:
            await self._session.close()

    async def pause(self, seconds: float) -> None:
        """Sleep `seconds` on the client's clock before a retry; `close()` cuts the
        sleep short with `ClientClosedError` (a caller's own cancellation stays one)."""
        task = asyncio.current_task()
        if task is None:
            await self.clock.sleep(seconds)
            return
        self._pausing.add(task)
        try:
            await self.clock.sleep(seconds)
        except asyncio.CancelledError:
            if task in self._woken and task.uncancel() == 0:
                raise ClientClosedError("the Cafe24 client was closed during the call") from None
            raise
        finally:
            self._pausing.discard(task)
            self._woken.discard(task)

    @property
    def closed(self) -> bool:
        return self._closed

    def check_open(self) -> None:
        if self._closed:
            raise ClientClosedError("this Cafe24 client is closed; create a new one")

    @property
    def session(self) -> aiohttp.ClientSession:
        """The shared aiohttp session, created on first use inside the event loop."""
        self.check_open()
        if self._session is None:
            self._session = new_session(self.pool, self.timeout, self._trace_configs)
        return self._session

    # -- malls -------------------------------------------------------------------------

    def mall(self, mall_id: str) -> Mall:
        """The `Mall` for `mall_id` (one per id, cached)."""
        self.check_open()
        mall = self._malls.get(mall_id) if isinstance(mall_id, str) else None
        if mall is None:
            if not isinstance(mall_id, str) or not MALL_ID.fullmatch(mall_id):
                raise ConfigurationError(
                    f"invalid mall id {mall_id!r}: lowercase letters, digits, '-' and '_' only"
                )
            mall = self._malls[mall_id] = Mall(self.context, mall_id)
        return mall

    @property
    def partner(self) -> Mall:
        """The partner-wide context the D.Collection API's calls run in (not a mall)."""
        self.check_open()
        if self._partner is None:
            self._partner = Mall(self.context, PARTNER)
        return self._partner

    @property
    def dcollection(self) -> Dcollection:
        """The D.Collection API: partner-wide (Basic auth), not per mall."""
        return cast("Dcollection", Namespace(self.partner, api_tree("dcollection")))

    def stats(self) -> dict[str, MallStats]:
        """Per-mall counters: requests, retries, 429s, refreshes, bucket waits and level
        (the same objects as `mall.stats`)."""
        return {mall_id: mall.stats for mall_id, mall in self._malls.items()}

    def mall_base_url(self, mall_id: str) -> str:
        return self.base_url.replace("{mall_id}", mall_id)

    # -- pacing ------------------------------------------------------------------------

    def new_limiter(self, kind: str, mall_id: str, stats: MallStats) -> Limiter:
        """A pacing object of `kind` for one mall."""
        if kind == "leaky_bucket":
            limiter: Limiter
            if self.shared_bucket is not None:
                shared = self.shared_bucket
                limiter = shared.limiter(self.client_id, mall_id, self.rate_limit, self.clock, stats)
            else:
                limiter = LeakyBucketLimiter(self.rate_limit, self.clock, stats)
            stats.read_level_from(lambda: limiter.level)  # one source for mall.stats.bucket_level
            return limiter
        if kind == "token_bucket":
            return TokenBucketLimiter(self.rate_limit, self.clock, stats)
        if kind == "fixed_window":
            return FixedWindowLimiter(self.rate_limit, self.clock, stats)
        raise ConfigurationError(f"no limiter of kind {kind!r}")

    # -- OAuth -------------------------------------------------------------------------

    def secrets(self) -> tuple[str, ...]:
        """The client's own secrets (client secret, partner secret, their Basic-auth forms),
        for masking them wherever a server echoes them back."""
        return self.credentials.secrets()

    def _secret(self) -> str:
        if not self._client_secret:
            raise ConfigurationError("client_secret is required for OAuth token calls")
        return self._client_secret

    def authorize_url(
        self, mall_id: str, redirect_uri: str, scopes: Sequence[str], state: str | None = None
    ) -> tuple[str, str]:
        """The URL to send a mall operator to, and the `state` to check on return."""
        self.mall(mall_id)
        state = state or secrets.token_urlsafe(16)
        url = oauth.authorize_url(
            self.mall_base_url(mall_id), self.client_id, redirect_uri, scopes, state
        )
        return url, state

    async def exchange_code(self, mall_id: str, code: str, redirect_uri: str) -> Token:
        """Trade an authorization code for tokens, and save them to the store."""
        self.mall(mall_id)
        token = await oauth.exchange_code(
            self.session, self.mall_base_url(mall_id), mall_id, self.client_id, self._secret(),
            code, redirect_uri,
        )
        await self.token_store.save(mall_id, token)
        return token

    async def oauth_refresh(self, mall_id: str, refresh_token: str) -> Token:
        """Spend a refresh token (the refresher saves the result before using it)."""
        return await oauth.refresh_token(
            self.session, self.mall_base_url(mall_id), mall_id, self.client_id, self._secret(),
            refresh_token,
        )


def _rate_limit(
    settings: RateLimitSettings | None, leak_rate: Any, bucket_capacity: Any, max_per_second: Any
) -> RateLimitSettings:
    """The rate-limit settings, with the three shortcuts applied, every field checked."""
    overrides: dict[str, Any] = {}
    if leak_rate is not None:
        checks.number("leak_rate", leak_rate, positive=True)
        overrides["leak_rate"] = leak_rate
    if bucket_capacity is not None:
        checks.number("bucket_capacity", bucket_capacity, positive=True, whole=True)
        overrides["bucket_capacity"] = bucket_capacity
    if max_per_second is not ...:
        if max_per_second is not None:
            checks.number("max_per_second", max_per_second, positive=True, whole=True)
        overrides["max_per_second"] = max_per_second
    base = checks.settings("rate_limit", settings, RateLimitSettings)
    merged = attrs.evolve(base, **overrides)
    if merged.leak_rate <= 0 or merged.bucket_capacity < 1:
        raise ConfigurationError("leak_rate must be > 0 and bucket_capacity >= 1")
    return merged


class ApiVersionWarning(UserWarning):
    """The pinned API version is older than one year before the newest known release."""


def _check_api_version(version: Any) -> None:
    """`YYYY-MM-DD`, and a warning when the release table says it has expired."""
    if version is None:
        return
    if not isinstance(version, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", version):
        raise ConfigurationError(f"api_version must be a date such as {RELEASES[-1]!r}")
    try:
        stale = is_stale(version)
    except ValueError:
        raise ConfigurationError(f"api_version must be a date such as {RELEASES[-1]!r}") from None
    if stale:
        warnings.warn(ApiVersionWarning(
            f"api_version {version} is older than one year before the newest known release "
            f"({max(RELEASES)}): the server may refuse it or use its oldest valid version"
        ), stacklevel=3)


def _credentials(value: Any) -> tuple[str, str] | None:
    """D.Collection partner credentials: None or a pair of non-empty texts."""
    if value is None:
        return None
    if not isinstance(value, tuple) or len(value) != 2 or not all(isinstance(v, str) and v for v in value):
        raise ConfigurationError("dcollection_credentials must be a pair of texts (partner id, secret)")
    return value
