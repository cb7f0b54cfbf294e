"""One mall: its namespaces, its pacing, its token, and the executor its calls go through.

A `Mall` is built by its client from a narrow `MallContext` (settings, clock,
lifecycle, base URLs, credentials), and connects the pieces of the request
pipeline for this mall: one `Lane` per API (base URL, pacer, authoriser), the
token refresher, the usage-quota governor, the retry budget and the counters.
Every call, from the generated coroutines, `iterate()` or `call()`, goes
through `Mall.execute`; nothing bypasses it.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from typing import TYPE_CHECKING, Any, cast

from cafe24_async.api import Namespace, api_tree
from cafe24_async.auth.refresher import TokenRefresher
from cafe24_async.auth.token import Token
from cafe24_async.backoff import RetryBudget
from cafe24_async.checks import check_seconds
from cafe24_async.context import MallContext
from cafe24_async.errors import QuotaHeadroomError, ValidationError
from cafe24_async.paging.caps import OffsetCaps
from cafe24_async.pipeline.authorise import Authoriser
from cafe24_async.pipeline.build import PreparedRequest, RouteShape, prepare, with_body_records
from cafe24_async.pipeline.decode import structure_value
from cafe24_async.pipeline.executor import CallTimeout, Executor, Lane
from cafe24_async.pipeline.pace import Pacer
from cafe24_async.ratelimit.limiter import Limiter
from cafe24_async.ratelimit.quota import QuotaGovernor
from cafe24_async.routes import APIS, find_route
from cafe24_async.routes.route import Route
from cafe24_async.stats import MallStats
from cafe24_async.transport import TimeoutSettings

if TYPE_CHECKING:
    from cafe24_async.api_types import Admin, Analytics, Front


class Mall:
    """Everything the client knows about one mall. Get it from `Cafe24.mall(mall_id)`."""

    def __init__(self, context: MallContext, mall_id: str) -> None:
        self.context = context
        self.mall_id = mall_id
        self.stats = MallStats(mall_id)
        self.retry_budget = RetryBudget(context.retry)
        self.refresher = TokenRefresher(
            mall_id, context.token_store, self._refresh_call, context.clock,
            refresh_margin=context.refresh_margin, retry=context.retry, budget=self.retry_budget,
        )
        self.quota = QuotaGovernor(mall_id, context.quota, context.clock, self.stats)
        self._limiters: dict[str, Limiter] = {}
        self._lanes: dict[str, Lane] = {}
        #: Query values the client fills in from the mall, by API (Analytics wants `mall_id`).
        self._implicit = {
            api: {name: mall_id for name in definition.mall_query}
            for api, definition in APIS.items() if definition.mall_query
        }
        #: Offset caps this mall's server keeps lower than documented, as learned.
        self.offset_caps = OffsetCaps()
        self.executor = Executor(
            mall_id, context.lifecycle, context.clock, context.retry, self.retry_budget, self.stats,
            self.lane, self._secrets,
        )
        # Built at runtime from the route table; typed by the generated Protocols.
        self.admin = cast("Admin", Namespace(self, api_tree("admin")))
        self.front = cast("Front", Namespace(self, api_tree("front")))
        self.analytics = cast("Analytics", Namespace(self, api_tree("analytics")))

    def __repr__(self) -> str:
        return f"<Mall {self.mall_id!r} requests={self.stats.requests}>"

    # -- the pieces, connected -----------------------------------------------------

    @property
    def base_url(self) -> str:
        """The Admin/Front API base URL of this mall."""
        return self.context.base_url("admin", self.mall_id)

    def limiter(self, kind: str) -> Limiter:
        """This mall's pacing object of `kind` (Admin and Front share the leaky bucket)."""
        limiter = self._limiters.get(kind)
        if limiter is None:
            limiter = self._limiters[kind] = self.context.new_limiter(kind, self.mall_id, self.stats)
        return limiter

    def lane(self, api: str) -> Lane:
        """Where and how calls of `api` go for this mall (built on first use)."""
        lane = self._lanes.get(api)
        if lane is None:
            definition, context = APIS[api], self.context
            authoriser = Authoriser(
                definition.auth, self.refresher, context.credentials.headers(definition),
                context.extra_headers,
            )
            pacer = Pacer(self.limiter(definition.limiter), self.quota)
            lane = self._lanes[api] = Lane(context.base_url(api, self.mall_id), pacer, authoriser)
        return lane

    @property
    def bucket_level(self) -> float | None:
        """How full this client reckons the mall's Admin/Front bucket is now, in calls
        (None until the first call)."""
        limiter = self._limiters.get("leaky_bucket")
        return None if limiter is None else limiter.level

    async def _refresh_call(self, refresh_token: str) -> Token:
        token = await self.context.refresh(self.mall_id, refresh_token)
        self.stats.refreshes += 1
        return token

    def _secrets(self, token: Token | None) -> tuple[str | None, ...]:
        """What an error body must never show: the token sent, the mall's current pair,
        and the app's own secrets."""
        sent = (token.access_token, token.refresh_token) if token is not None else ()
        cached = self.refresher.current()
        held = (cached.access_token, cached.refresh_token) if cached is not None else ()
        return (*sent, *held, *self.context.credentials.secrets())

    # -- calls ----------------------------------------------------------------------

    def prepare(
        self, route: Route, args: Sequence[Any], params: dict[str, Any], *, whole_range: bool = False,
        shape: RouteShape | None = None,
    ) -> PreparedRequest:
        """Check and render a call of `route` for this mall (nothing is sent).

        A write may carry its body as `request=` (a dict or a typed record) and
        `requests=[...]`; records are checked against the documented required
        fields and lengths, then sent as plain JSON. `whole_range` lets a date
        range span more than one request may (a paged read splits it). `shape` is
        `route_shape(route)`, when the caller has it at hand.
        """
        if "request" in params or "requests" in params:
            params = with_body_records(route, params)
        return prepare(route, args, params, self._implicit.get(route.api), whole_range=whole_range,
                       policy=self.context.unknown_params, shape=shape)

    def typed(self, typed: bool | None) -> bool:
        return self.context.typed if typed is None else typed

    def records(self, route: Route, typed: bool | None) -> Callable[[Any], Any] | None:
        """How a paged read turns each raw record of `route` into what was asked for."""
        return functools.partial(structure_value, route) if self.typed(typed) else None

    def execute(
        self, prepared: PreparedRequest, *, typed: bool | None = None, timeout: CallTimeout = None,
        retry_writes: bool = False,
    ) -> Coroutine[Any, Any, Any]:
        """Send a prepared request through pacing, auth, retries and decoding (await the
        result; bad `typed` or `timeout` values are refused at once).

        `timeout` in seconds bounds the whole call: waiting for the bucket, every
        attempt and every back-off; a `TimeoutSettings` replaces the client's
        connect/read/total limits for each request of this call instead.
        """
        if typed is not None and not isinstance(typed, bool):
            raise ValidationError("typed", "must be True, False or None", _where(prepared.route))
        if timeout is not None and not isinstance(timeout, TimeoutSettings):
            timeout = check_seconds("timeout", timeout, _where(prepared.route))
        value = self.executor.run(prepared, timeout, retry_writes)
        # Untyped, the executor's coroutine is the call's: no wrapper to run through.
        return _structured(prepared.route, value) if self.typed(typed) else value

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

    # -- usage quota ------------------------------------------------------------------

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


async def _structured(route: Route, value: Coroutine[Any, Any, Any]) -> Any:
    return structure_value(route, await value)


def _where(route: Route) -> str:
    """How an error names the call: its method and documented path."""
    return f"{route.method} {route.path}"
