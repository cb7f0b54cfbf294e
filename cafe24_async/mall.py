"""One mall: its namespaces, its pacing, its token, and the path every request takes.

`Mall.execute` is the request path, in order:

    pace       wait for the mall's limiter (bucket, per-second cap, quota pause)
    authorise  a valid token from the refresher (or the Front client id header)
    send       the shared aiohttp pool (transport)
    re-sync    the limiter takes in the rate-limit headers of every response
    retry      401 -> refresh once; 429/5xx/timeouts -> back off and go again
    decode     unwrap the root key; models when typed

Pagination and fan-out call `execute`; nothing bypasses it.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import random
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

from yarl import URL

from cafe24_async import transport
from cafe24_async.api import Namespace, api_tree
from cafe24_async.auth.oauth import basic_auth
from cafe24_async.auth.refresher import TokenRefresher
from cafe24_async.auth.token import Token
from cafe24_async.checks import check_seconds
from cafe24_async.decode import parse_json, unwrap
from cafe24_async.errors import (
    APIError,
    Cafe24ConnectionError,
    Cafe24Error,
    Cafe24TimeoutError,
    ClientClosedError,
    ConfigurationError,
    DecodeError,
    QuotaHeadroomError,
    RateLimitError,
    ValidationError,
    api_error,
)
from cafe24_async.params import PreparedRequest, prepare, route_shape
from cafe24_async.ratelimit.limiter import Limiter
from cafe24_async.ratelimit.quota import QuotaGovernor
from cafe24_async.retry import RetryBudget, backoff_delay, is_retryable, parse_retry_after
from cafe24_async.routes import APIS, find_route
from cafe24_async.routes.apis import ApiDefinition
from cafe24_async.routes.route import Route
from cafe24_async.stats import MallStats
from cafe24_async.transport import TimeoutSettings

if TYPE_CHECKING:
    from cafe24_async.api_types import Admin, Analytics, Front
    from cafe24_async.client import Cafe24

log = logging.getLogger("cafe24_async.request")


class Mall:
    """Everything the client knows about one mall. Get it from `Cafe24.mall(mall_id)`."""

    def __init__(self, client: Cafe24, mall_id: str) -> None:
        self.client = client
        self.mall_id = mall_id
        self.stats = MallStats(mall_id)
        self.base_url = client.mall_base_url(mall_id)
        self.retry_budget = RetryBudget(client.retry)
        self.refresher = TokenRefresher(
            mall_id,
            client.token_store,
            self._refresh_call,
            client.clock,
            refresh_margin=client.refresh_margin,
            retry=client.retry,
            budget=self.retry_budget,
        )
        self.quota = QuotaGovernor(mall_id, client.quota, client.clock, self.stats)
        self._limiters: dict[str, Limiter] = {}
        #: (scheme, authority, path prefix) of each API's base URL, parsed once.
        self._url_parts: dict[str, tuple[str, str, str] | None] = {}
        self._rng = random.Random()
        # Built at runtime from the route table; typed by the generated Protocols.
        self.admin = cast("Admin", Namespace(self, api_tree("admin")))
        self.front = cast("Front", Namespace(self, api_tree("front")))
        self.analytics = cast("Analytics", Namespace(self, api_tree("analytics")))

    def __repr__(self) -> str:
        return f"<Mall {self.mall_id!r} requests={self.stats.requests}>"

    # -- pieces of the request path -------------------------------------------------

    def limiter(self, kind: str) -> Limiter:
        """This mall's pacing object of `kind` (Admin and Front share the leaky bucket)."""
        limiter = self._limiters.get(kind)
        if limiter is None:
            limiter = self._limiters[kind] = self.client.new_limiter(kind, self.mall_id, self.stats)
        return limiter

    @property
    def bucket_level(self) -> float | None:
        """How full this client reckons the mall's Admin/Front bucket is now, in calls
        (None until the first call)."""
        limiter = self._limiters.get("leaky_bucket")
        return None if limiter is None else limiter.level

    async def _refresh_call(self, refresh_token: str) -> Token:
        token = await self.client.oauth_refresh(self.mall_id, refresh_token)
        self.stats.refreshes += 1
        return token

    async def _auth_headers(self, api: ApiDefinition) -> tuple[dict[str, str], Token | None]:
        if api.auth == "bearer":
            token = await self.refresher.token()
            return {"Authorization": f"Bearer {token.access_token}"}, token
        if api.auth == "client_id":
            return {"X-Cafe24-Client-Id": self.client.client_id}, None
        credentials = self.client.dcollection_credentials
        if credentials is None:
            raise ConfigurationError("the D.Collection API needs dcollection_credentials=(id, secret)")
        return {"Authorization": basic_auth(*credentials)}, None

    def _secrets(self, token: Token | None) -> tuple[str | None, ...]:
        """What an error body must never show: the token sent, the mall's refresh token,
        and the client's own secrets (`Cafe24.secrets`)."""
        sent = (token.access_token, token.refresh_token) if token is not None else ()
        cached = self.refresher.current()
        held = (cached.access_token, cached.refresh_token) if cached is not None else ()
        return (*sent, *held, *self.client.secrets())

    def url(self, route: Route, path: str) -> str:
        api = APIS[route.api]
        return self.client.api_base_url(api, self.mall_id) + path

    def request_url(self, route: Route, path: str) -> URL | str:
        """`url()` as a `yarl.URL` put together without parsing: the API's base URL is
        parsed once, and `path` is already encoded (`params.bind_path`)."""
        try:
            parts = self._url_parts[route.api]
        except KeyError:
            parts = self._url_parts[route.api] = _url_parts(self.url(route, ""))
        if parts is None:
            return self.url(route, path)
        scheme, authority, prefix = parts
        return URL.build(scheme=scheme, authority=authority, path=prefix + path, encoded=True)

    def prepare(
        self, route: Route, args: Sequence[Any], params: dict[str, Any], *, whole_range: bool = False
    ) -> PreparedRequest:
        """Check and render a call of `route` for this mall (nothing is sent).

        A write may carry its body as `request=` (a dict or a typed record) and
        `requests=[...]`; records are checked against the documented required
        fields and lengths, then sent as plain JSON. `whole_range` lets a date
        range span more than one request may (a paged read splits it).
        """
        if "request" in params or "requests" in params:
            params = _with_body_records(route, params)
        api = APIS[route.api]
        implicit = {name: self.mall_id for name in api.mall_query} if api.mall_query else None
        return prepare(route, args, params, implicit, whole_range=whole_range)

    def typed(self, typed: bool | None) -> bool:
        return self.client.typed if typed is None else typed

    def records(self, route: Route, typed: bool | None) -> Callable[[Any], Any] | None:
        """How a paged read turns each raw record of `route` into what was asked for."""
        return functools.partial(self.structure, route) if self.typed(typed) else None

    def structure(self, route: Route, value: Any) -> Any:
        from cafe24_async.models import model_for_route, structure, structure_many

        model = model_for_route(route)
        if model is None:
            return value
        if isinstance(value, list):
            return structure_many(value, model)
        if isinstance(value, dict):
            return structure(value, model)
        return value

    # -- the request path ------------------------------------------------------------

    async def execute(
        self,
        prepared: PreparedRequest,
        *,
        typed: bool | None = None,
        timeout: float | TimeoutSettings | None = None,
        retry_writes: bool = False,
    ) -> Any:
        """Send a prepared request through pacing, auth, retries and decoding.

        `timeout` in seconds bounds the whole call: waiting for the bucket, every
        attempt and every back-off; a `TimeoutSettings` replaces the client's
        connect/read/total limits for each request of this call instead.
        """
        where = f"{prepared.route.method} {prepared.route.path}"
        if typed is not None and not isinstance(typed, bool):
            raise ValidationError("typed", "must be True, False or None", where)
        if timeout is None or isinstance(timeout, TimeoutSettings):
            return await self._execute(prepared, typed=typed, timeout=timeout, retry_writes=retry_writes)
        timeout = check_seconds("timeout", timeout, where)
        try:
            async with asyncio.timeout(timeout):
                return await self._execute(
                    prepared, typed=typed, timeout=timeout, retry_writes=retry_writes
                )
        except TimeoutError as exc:
            if isinstance(exc, Cafe24Error):
                raise
            route = prepared.route
            raise Cafe24TimeoutError(
                f"no answer within the call's {timeout:g}s timeout", route.method, route.path
            ) from None

    async def _execute(
        self,
        prepared: PreparedRequest,
        *,
        typed: bool | None,
        timeout: float | TimeoutSettings | None,
        retry_writes: bool,
    ) -> Any:
        client = self.client
        route = prepared.route
        api = APIS[route.api]
        limiter = self.limiter(api.limiter)
        url = self.request_url(route, prepared.path)
        query = prepared.query
        session = client.session
        call_timeout = client.call_timeout(timeout)
        shape = route_shape(route)
        label = shape.label
        settings = client.retry
        started = client.clock.monotonic()
        failures = throttled = 0
        refreshed_after_401 = False
        name = shape.qualified_name
        while True:
            client.check_open()
            if not self.quota.try_pass():
                await self.quota.wait(deadline=None if isinstance(timeout, TimeoutSettings) else timeout)
            await limiter.acquire(route)
            if self.quota.blocked():  # a quota block began while this call waited for the limiter
                limiter.release()
                continue
            try:
                if api.auth == "bearer" and (token := self.refresher.current()) is not None:
                    headers = {"Authorization": f"Bearer {token.access_token}"}
                else:
                    headers, token = await self._auth_headers(api)
                headers.update(client.extra_headers)
                self.stats.requests += 1
                self.stats.by_route[name] += 1
                raw = await transport.send(
                    session, route.method, url, query=query, json_body=prepared.body,
                    headers=headers, timeout=call_timeout, label=label,
                )
                limiter.observe(raw.status, raw.headers)
            except Cafe24ConnectionError as exc:
                if client.closed:
                    raise ClientClosedError("the Cafe24 client was closed during the call") from None
                self.stats.connection_errors += 1
                error: Cafe24Error = exc
                raw = None
            finally:
                limiter.release()
            if raw is not None and log.isEnabledFor(logging.DEBUG):
                log.debug(
                    "%s on mall %s: HTTP %d", name, self.mall_id, raw.status,
                    extra={"mall_id": self.mall_id, "route": name},
                )
            retry_after: float | None = None
            if raw is not None:
                self.quota.observe(raw.status, raw.headers)
                self.stats.statuses[raw.status] += 1
                if raw.status == 401 and token is not None and not refreshed_after_401:
                    refreshed_after_401 = True
                    await self.refresher.after_rejection(token)
                    continue
                if 200 <= raw.status < 300:
                    try:
                        document = parse_json(raw.status, raw.body, route, raw.headers.get("Content-Type"))
                        value = unwrap(raw.status, document, route)
                    except DecodeError as exc:
                        error = exc
                    else:
                        self.retry_budget.refund()
                        return self.structure(route, value) if self.typed(typed) else value
                else:
                    try:
                        document = parse_json(raw.status, raw.body, route)
                    except DecodeError:
                        document = None
                    error = api_error(raw.status, document, route.method, route.path, self._secrets(token))
                    retry_after = parse_retry_after(raw.headers.get("Retry-After"), client.clock.now())

            if isinstance(error, RateLimitError):
                throttled += 1
                self.stats.throttled += 1
                allowed = throttled <= settings.max_throttled
            else:
                failures += 1
                allowed = (
                    failures < settings.max_attempts
                    and is_retryable(error, route.method, retry_writes)
                    and self.retry_budget.spend()
                )
            if not allowed:
                raise error
            if retry_after is not None:
                delay = retry_after
            elif isinstance(error, RateLimitError):
                delay = 0.0  # the limiter now holds the server's full bucket and waits for room
            else:
                delay = backoff_delay(failures, settings, self._rng)
            if client.clock.monotonic() - started + delay > settings.max_elapsed:
                raise error  # no retry may start after `max_elapsed`
            self.stats.retries += 1
            log.debug(
                "retrying %s on mall %s after %s (attempt %d, wait %.2fs)",
                route.qualified_name, self.mall_id, _describe(error), failures + throttled, delay,
                extra={
                    "mall_id": self.mall_id, "route": name, "attempt": failures + throttled,
                    "delay": delay, "error": _describe(error),
                },
            )
            if delay > 0:
                await client.pause(delay)

    def has_headroom(self, ceiling: float) -> bool:
        """True when the mall is not blocked and its last reported quota usage is below
        `ceiling` percent: check it before a multi-call write unit."""
        return self.quota.has_headroom(ceiling)

    @contextlib.asynccontextmanager
    async def write_unit(self, ceiling: float = 70.0) -> AsyncIterator[Mall]:
        """Start a multi-call write (create a product, upload its images, set its inventory)
        only when the mall has quota headroom, so that a block does not cut it in half::

            async with mall.write_unit(ceiling=70):
                product = await mall.admin.products.create(...)
                ...
        """
        if not self.quota.has_headroom(ceiling):
            raise QuotaHeadroomError(self.mall_id, self.quota.usage, ceiling, self.quota.pause_left())
        yield self

    async def call(self, method: str, path: str, /, *args: Any, **params: Any) -> Any:
        """Call any route by its documented method and path, e.g.
        `await mall.call("GET", "/api/v2/admin/products/{product_no}", product_no=1)`.
        Same validation, pacing and retries as the generated coroutines."""
        typed = params.pop("typed", None)
        timeout = params.pop("timeout", None)
        retry_writes = params.pop("retry_writes", False)
        if not isinstance(method, str) or not isinstance(path, str):
            raise ValidationError("method, path", "must be text, e.g. 'GET', '/api/v2/admin/products'")
        if not isinstance(retry_writes, bool):
            raise ValidationError("retry_writes", "must be True or False", f"{method} {path}")
        route = find_route(method, path)
        return await self.execute(
            self.prepare(route, args, params), typed=typed, timeout=timeout, retry_writes=retry_writes
        )


def _with_body_records(route: Route, params: dict[str, Any]) -> dict[str, Any]:
    """Merge `request=` into the params, and turn records into dicts (after checking them)."""
    from cafe24_async.models import Record, check_write, unstructure

    params = dict(params)
    body = params.pop("request", None)
    if body is not None:
        if not isinstance(body, (Record, Mapping)):
            where = f"{route.method} {route.path}"
            raise ValidationError("request", "must be a dict or a typed record", where)
        check_write(route, body)
        fields = unstructure(body) if isinstance(body, Record) else dict(body)
        params = {**{k: v for k, v in fields.items() if v is not None}, **params}
    many = params.get("requests")
    if isinstance(many, (list, tuple)) and any(isinstance(item, Record) for item in many):
        for item in many:
            if isinstance(item, Record):
                check_write(route, item)
        params["requests"] = [unstructure(item) if isinstance(item, Record) else item for item in many]
    return params


def _url_parts(base: str) -> tuple[str, str, str] | None:
    """(scheme, authority, path prefix) of a base URL; None when it is not a plain
    `scheme://host[:port][/prefix]` (then each request's URL is parsed whole)."""
    parsed = URL(base)
    if not parsed.absolute or parsed.raw_query_string or parsed.raw_fragment or parsed.raw_user:
        return None
    return parsed.scheme, parsed.raw_authority, parsed.raw_path.rstrip("/")


def _describe(error: Cafe24Error) -> str:
    if isinstance(error, DecodeError):
        return f"DecodeError (HTTP {error.status}, unreadable body)"
    if isinstance(error, APIError):
        return f"HTTP {error.status}"
    return type(error).__name__
