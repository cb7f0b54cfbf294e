"""A dlt source: Cafe24 malls into any warehouse dlt loads (DuckDB, Postgres, BigQuery, ...).

    import dlt
    from cafe24_async.dlt import cafe24_source

    pipeline = dlt.pipeline("cafe24", destination="duckdb", dataset_name="shop")
    pipeline.run(cafe24_source(malls=["acme", "beta"], start_date="2025-01-01"))

Why a source of its own: a generic REST source knows nothing of the leaky
bucket, the rotating refresh token or the offset caps; this one reads through
the same client as the exports (one client per run, shared by every resource,
so each mall's pacing, token and learned caps behave as in an export).

- **One resource per exportable list route** (`products`, `orders`,
  `customersprivacy`, `front_products`, `analytics_visitors_view`, ...), each a
  table with a `mall_id` column. `resources=` picks the ones to load (default
  `products` and `orders`); `source.with_resources(...)` works too.
- **Primary keys from the route table** (`Route.primary_key`, with `mall_id`:
  product 5 of one mall is not product 5 of another): such a table is loaded
  with `write_disposition="merge"`, so a record read again replaces its row;
  a table without a key is replaced whole on each run.
- **Incremental** where the route can tell what changed (`Route.changes`):
  the first run of a mall reads everything (orders: placed since
  `start_date`); later runs read only what changed since the mall's cursor, less
  `lookback` (`sync.reads`, the same reads as `cafe24-async sync`). The cursor
  is the run's start, kept per mall in the resource's dlt state, so it is saved
  with the load it covers and a mall added later still gets its first full
  read. (A `dlt.sources.incremental` on `updated_date` would keep one cursor for
  every mall of the resource, and orders have no single field that moves with
  every change.) Delivery is at least once; the merge on the key makes it exact.
- **Credentials** from the arguments or dlt's config and secrets: the
  `[sources.cafe24]` section of `.dlt/secrets.toml` (`client_id`,
  `client_secret`, ...) or `SOURCES__CAFE24__CLIENT_SECRET` in the environment;
  tokens from `token_file` (default: `CAFE24_TOKEN_FILE`, else
  `~/.config/cafe24-async/tokens.json`, where `cafe24-async auth` writes them).

dlt is imported only when a source is made (`pip install 'cafe24-async[dlt]'`);
the rest of the library never needs it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cafe24_async.auth.stores import FileTokenStore, TokenStore
from cafe24_async.clock import KST
from cafe24_async.errors import ConfigurationError
from cafe24_async.export.job import Item, feed
from cafe24_async.export.resources import exportable
from cafe24_async.paging import Page
from cafe24_async.routes.route import Route
from cafe24_async.sync.job import DEFAULT_LOOKBACK
from cafe24_async.sync.reads import MallRead, check_plan, plan_read, read_mall

if TYPE_CHECKING:
    from cafe24_async.client import Cafe24
    from cafe24_async.mall import Mall

__all__ = ["DEFAULT_RESOURCES", "cafe24_source", "resource_name", "resource_routes"]

#: The resources loaded when `resources=` is not given.
DEFAULT_RESOURCES = ("products", "orders")
#: What a missing dlt is reported as.
INSTALL = "the dlt source needs dlt: pip install 'cafe24-async[dlt]'"


def resource_name(export_name: str) -> str:
    """`front.products` -> `front_products`: a dlt resource (and table) name."""
    return export_name.replace(".", "_")


def resource_routes() -> dict[str, Route]:
    """Every resource the source has, by name: one per exportable list route."""
    return {resource_name(name): route for name, route in sorted(exportable().items())}


def incremental(route: Route) -> bool:
    """True when a route is loaded by its changes: it can tell them, and has a key to merge on."""
    return route.changes is not None and route.primary_key is not None


def cafe24_source(
    malls: Sequence[str] | None = None,
    *,
    resources: Sequence[str] | None = None,
    start_date: str | None = None,
    lookback: float = DEFAULT_LOOKBACK,
    date_types: Sequence[str] | None = None,
    client_id: str | None = None,
    client_secret: str | None = None,
    token_file: str | None = None,
    base_url: str | None = None,
    analytics_base_url: str | None = None,
    dcollection_base_url: str | None = None,
    dcollection_id: str | None = None,
    dcollection_secret: str | None = None,
    token_store: TokenStore | None = None,
    client_options: Mapping[str, Any] | None = None,
) -> Any:
    """The Cafe24 dlt source (a `dlt.sources.DltSource`); see the module docstring.

    Values left out come from dlt's config and secrets (`[sources.cafe24]`).
    `start_date` (YYYY-MM-DD) is where the first run of orders (and other routes
    read by date type) starts, and the start of the range of routes that need
    one (Analytics); `lookback` (seconds) is read again before each cursor;
    `date_types` overrides the orders' change dates. `token_store` (a store made
    for this source, not shared with another event loop) replaces `token_file`;
    `client_options` are further `Cafe24(...)` settings (leak_rate, max_per_second,
    clock, front_api_key, ...).
    """
    try:
        import dlt
    except ImportError as exc:
        raise ConfigurationError(INSTALL) from exc
    objects = {"token_store": token_store, "client_options": dict(client_options or {})}
    source = _source_function(dlt, objects)
    given = {
        "malls": list(malls) if malls is not None else None, "resources": resources,
        "start_date": start_date, "lookback": lookback, "date_types": date_types,
        "client_id": client_id, "client_secret": client_secret, "token_file": token_file,
        "base_url": base_url, "analytics_base_url": analytics_base_url,
        "dcollection_base_url": dcollection_base_url, "dcollection_id": dcollection_id,
        "dcollection_secret": dcollection_secret,
    }
    return source(**{k: v for k, v in given.items() if v is not None})


def _source_function(dlt: Any, objects: dict[str, Any]) -> Callable[..., Any]:
    """The dlt-decorated source function; its arguments are resolved from dlt's config
    and secrets where not given. `objects` (token store, client options) are not config."""

    def cafe24(
        malls: list[str] = dlt.config.value,
        client_id: str = dlt.secrets.value,
        client_secret: str = dlt.secrets.value,
        resources: list[str] | None = None,
        start_date: str | None = None,
        lookback: float = DEFAULT_LOOKBACK,
        date_types: list[str] | None = None,
        token_file: str | None = None,
        base_url: str | None = None,
        analytics_base_url: str | None = None,
        dcollection_base_url: str | None = None,
        dcollection_id: str | None = None,
        dcollection_secret: str | None = None,
    ) -> Any:
        settings = Settings(
            malls=_mall_list(malls), start_date=start_date, lookback=float(lookback),
            date_types=list(date_types) if date_types is not None else None,
        )
        chosen = _chosen(resources)
        options: dict[str, Any] = {k: v for k, v in (
            ("base_url", base_url), ("analytics_base_url", analytics_base_url),
            ("dcollection_base_url", dcollection_base_url),
        ) if v}
        if dcollection_id and dcollection_secret:
            options["dcollection_credentials"] = (dcollection_id, dcollection_secret)
        options.update(objects["client_options"])
        store = objects["token_store"]
        shared = SharedClient(lambda: _client(client_id, client_secret, store, token_file, options))
        return [_resource(dlt, name, route, shared, settings, name in chosen)
                for name, route in resource_routes().items()]

    decorate: Callable[[Callable[..., Any]], Callable[..., Any]] = dlt.source(name="cafe24", section="cafe24")
    return decorate(cafe24)


def _mall_list(malls: Any) -> tuple[str, ...]:
    if isinstance(malls, str):
        malls = [m.strip() for m in malls.split(",")]
    if not isinstance(malls, (list, tuple)) or not malls or not all(isinstance(m, str) and m for m in malls):
        raise ConfigurationError("malls must be a list of mall ids, e.g. ['acme', 'beta']")
    return tuple(dict.fromkeys(malls))


def _chosen(resources: Sequence[str] | None) -> set[str]:
    names = resource_routes()
    wanted = [resource_name(r) for r in (resources if resources is not None else DEFAULT_RESOURCES)]
    unknown = [r for r in wanted if r not in names]
    if unknown:
        raise ConfigurationError(f"unknown resource {unknown[0]!r}; the source has: {', '.join(names)}")
    return set(wanted)


def _client(
    client_id: str, client_secret: str, store: TokenStore | None, token_file: str | None,
    options: dict[str, Any],
) -> Cafe24:
    from cafe24_async.client import Cafe24

    if store is None:
        path = token_file or os.environ.get("CAFE24_TOKEN_FILE") or str(
            Path.home() / ".config" / "cafe24-async" / "tokens.json")
        store = FileTokenStore(path)
    return Cafe24(client_id=client_id, client_secret=client_secret, token_store=store, **options)


class Settings:
    """What every resource of one source reads with."""

    __slots__ = ("date_types", "lookback", "malls", "start_date")

    def __init__(self, *, malls: tuple[str, ...], start_date: str | None, lookback: float,
                 date_types: list[str] | None) -> None:
        self.malls, self.start_date, self.lookback, self.date_types = malls, start_date, lookback, date_types


class SharedClient:
    """One client for every resource of a run, so each mall's bucket, token and learned
    offset caps are shared, as in an export. Made on the event loop dlt runs the
    resources on, when the first resource starts; closed when the last one ends."""

    def __init__(self, make: Callable[[], Cafe24]) -> None:
        self._make = make
        self._client: Cafe24 | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._users = 0

    async def acquire(self) -> Cafe24:
        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop:  # a client is bound to its loop
            self._client, self._loop, self._users = self._make(), loop, 0
        self._users += 1
        return self._client

    async def release(self) -> None:
        self._users -= 1
        client = self._client
        if self._users <= 0 and client is not None:
            self._client = None
            await client.close()


def _resource(dlt: Any, name: str, route: Route, shared: SharedClient, settings: Settings,
              selected: bool) -> Any:
    key = route.primary_key

    async def rows() -> AsyncIterator[list[dict[str, Any]]]:
        state = dlt.current.resource_state()
        api = await shared.acquire()
        try:
            async for records in _read(api, route, settings, state):
                yield records
        finally:
            await shared.release()

    return dlt.resource(
        rows, name=name, table_name=name, selected=selected,
        primary_key=("mall_id", key) if key else None,
        write_disposition="merge" if key else "replace",
    )


async def _read(api: Cafe24, route: Route, settings: Settings, state: dict[str, Any]) -> AsyncIterator[
        list[dict[str, Any]]]:
    """Every mall's pages of one resource, as they come; each mall's cursor moved when
    every mall is read (a failure leaves them all, and dlt keeps no state of a failed run)."""
    started = api.clock.now()
    cursors: dict[str, str] = state.setdefault("read_until", {}) if incremental(route) else {}
    owners = _owners(api, route, settings)
    params = _params(route, settings, started)
    reads = {m: _plan(route, mall, cursors.get(m), settings, started) for m, mall in owners.items()}
    for read in reads.values():
        check_plan(route, read, params)
    async for mall_id, page in _merged(route, reads, params):
        yield [r if "mall_id" in r else {"mall_id": mall_id, **r} for r in page.records]
    if incremental(route):
        for mall_id in reads:
            cursors[mall_id] = started.isoformat()


def _owners(api: Cafe24, route: Route, settings: Settings) -> dict[str, Mall]:
    if route.api == "dcollection":
        from cafe24_async.client import PARTNER

        return {PARTNER: api.partner}
    return {m: api.mall(m) for m in settings.malls}


def _plan(route: Route, mall: Mall, cursor: str | None, settings: Settings, started: datetime) -> MallRead:
    if not incremental(route):
        return MallRead(mall, None, True, None, started, 0.0)
    read_until = datetime.fromisoformat(cursor) if cursor else None
    assert route.changes is not None
    since = settings.start_date if route.changes.updated is None else None  # products: everything first
    return plan_read(route, mall, read_until, since=since, date_types=settings.date_types,
                     full=False, until=started, lookback=settings.lookback)


def _params(route: Route, settings: Settings, started: datetime) -> dict[str, Any]:
    """A route read whole that needs a date range reads `start_date` to today."""
    dr = route.date_range
    if incremental(route) or dr is None or not (dr.required or dr.max_span_months):
        return {}
    if settings.start_date is None:
        raise ConfigurationError(
            f"{route.qualified_name.removesuffix('.list')} needs a date range: pass start_date (YYYY-MM-DD)")
    return {dr.start: settings.start_date, dr.end: started.astimezone(KST).date().isoformat()}


async def _merged(route: Route, reads: dict[str, MallRead], params: dict[str, Any]) -> AsyncIterator[
        tuple[str, Page]]:
    """The pages of every mall's read, as they come (each mall read by its own task)."""
    queue: asyncio.Queue[Item] = asyncio.Queue(maxsize=8)
    tasks = [asyncio.create_task(feed(queue, m, read_mall(route, reads[m], params))) for m in reads]
    try:
        active = len(tasks)
        while active:
            mall_id, item = await queue.get()
            if isinstance(item, Page):
                yield mall_id, item
            elif item is None:
                active -= 1
            else:
                raise item
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(BaseException):
                await task
