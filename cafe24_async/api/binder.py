"""Endpoint coroutines and namespaces, bound from the route table to one mall.

`mall.admin.products.variants.get(128, "P000000A000A")` is resolved here: each
route row becomes an `async def` with a real `__name__`, a signature (path
params positional or by name, the rest keyword-only) and a docstring naming
its method, path, scope, params and paging rules. No endpoint is written by
hand. The functions are built once per route and shared by every mall; a
mall's `Namespace` objects only bind them to that mall, caching what was used.

The binder sees a mall only through the `Caller` protocol, so it never
imports the mall or the client.
"""

from __future__ import annotations

import inspect
import types
from collections.abc import AsyncIterator, Callable, Sequence
from functools import cache
from typing import Any, Protocol

from cafe24_async.api.docs import docstring, namespace_doc, signature
from cafe24_async.api.tree import NamespaceNode, iterator_name
from cafe24_async.clock import Clock
from cafe24_async.errors import ValidationError
from cafe24_async.paging import iterate_records
from cafe24_async.paging.caps import OffsetCaps
from cafe24_async.paging.changes import iterate_changes, plan_changes
from cafe24_async.pipeline.build import PreparedRequest, RouteShape, route_shape
from cafe24_async.routes.route import Route


class _Timed(Protocol):
    @property
    def clock(self) -> Clock: ...


class Caller(Protocol):
    """What a bound coroutine needs of its mall."""

    mall_id: str
    offset_caps: OffsetCaps

    @property
    def context(self) -> _Timed:
        """Where the mall's clock is (`iterate_changes` reads up to its now)."""

    def prepare(
        self, route: Route, args: Sequence[Any], params: dict[str, Any], *, whole_range: bool = False,
        shape: RouteShape | None = None,
    ) -> PreparedRequest: ...

    async def execute(
        self, prepared: PreparedRequest, *, typed: bool | None = None, timeout: Any = None,
        retry_writes: bool = False,
    ) -> Any: ...

    def records(self, route: Route, typed: bool | None) -> Callable[[Any], Any] | None:
        """How to turn a raw record of `route` into what the caller asked for (None: as is)."""


@cache
def endpoint_function(route: Route) -> Callable[..., Any]:
    """The coroutine function of `route`; bound to a mall as a method."""
    shape = route_shape(route)  # the route's parameter tables, worked out now, not per call

    async def endpoint(
        mall: Caller,
        *args: Any,
        typed: bool | None = None,
        timeout: Any = None,
        retry_writes: bool | None = None,
        **params: Any,
    ) -> Any:
        if retry_writes is not None and not isinstance(retry_writes, bool):
            where = f"{route.method} {route.path}"
            raise ValidationError("retry_writes", "must be True, False or None", where)
        prepared = mall.prepare(route, args, params, shape=shape)
        return await mall.execute(
            prepared, typed=typed, timeout=timeout, retry_writes=bool(retry_writes)
        )

    _dress(endpoint, route, route.action)
    return endpoint


@cache
def iterator_function(route: Route, name: str) -> Callable[..., AsyncIterator[Any]]:
    """`iterate(...)`: every record of a paginated list route, across pages."""

    def iterate(
        mall: Caller,
        *args: Any,
        typed: bool | None = None,
        timeout: float | None = None,
        concurrency: int | None = None,
        **params: Any,
    ) -> AsyncIterator[Any]:
        if typed is not None and not isinstance(typed, bool):
            raise ValidationError("typed", "must be True, False or None", f"{route.method} {route.path}")
        return iterate_records(
            mall, route, args, params, structure=mall.records(route, typed),
            timeout=timeout, concurrency=concurrency,
        )

    _dress(iterate, route, name)
    iterate.__doc__ = (
        f"Every record of {route.method} {route.path}, across pages, each once.\n\n"
        "Takes the same parameters as the list call (without limit/offset paging\n"
        "concerns: the largest page is used, and the offset cap is passed with the\n"
        "keyset parameter where the route has one, or date windows for date-ranged\n"
        "routes). `concurrency` bounds the pages fetched at once.\n\n" + docstring(route, iterate=True)
    )
    return iterate


@cache
def changes_function(route: Route) -> Callable[..., AsyncIterator[Any]]:
    """`iterate_changes(since=...)`: the records of a list route that changed in a period."""

    def iterate_changes_(
        mall: Caller,
        *args: Any,
        since: Any = None,
        until: Any = None,
        lookback: Any = 0.0,
        date_types: Sequence[str] | None = None,
        typed: bool | None = None,
        timeout: float | None = None,
        concurrency: int | None = None,
        **params: Any,
    ) -> AsyncIterator[Any]:
        where = f"{route.method} {route.path}"
        if typed is not None and not isinstance(typed, bool):
            raise ValidationError("typed", "must be True, False or None", where)
        if since is None:
            raise ValidationError("since", "is required: the start of the period to read changes of", where)
        until = mall.context.clock.now() if until is None else until
        plan_changes(route, params, since=since, until=until, lookback=lookback, date_types=date_types)
        return iterate_changes(
            mall, route, args, params, since=since, until=until, lookback=lookback, date_types=date_types,
            structure=mall.records(route, typed), timeout=timeout, concurrency=concurrency,
        )

    _dress(iterate_changes_, route, "iterate_changes")
    shape = signature(route, ("since", "until", "lookback", "date_types", "concurrency"))
    iterate_changes_.__signature__ = shape.replace(  # type: ignore[attr-defined]
        parameters=[p.replace(default=inspect.Parameter.empty) if p.name == "since" else p
                    for p in shape.parameters.values()]
    )
    iterate_changes_.__doc__ = (
        f"The records of {route.method} {route.path} that changed in a period, each once.\n\n"
        "`since` (required) and `until` (default: now) bound the period, both included;\n"
        "`lookback` (seconds or a timedelta) reads that much before `since` as well.\n"
        "Routes with an update-time filter are read in windows of it; orders by the\n"
        "dates a change sets (`date_types`, default: placed, paid, shipping started,\n"
        "delivered, cancellation/return/exchange completed), each order once. Other\n"
        "parameters are the list call's filters. A route that cannot tell what\n"
        "changed raises ValidationError naming the routes that can.\n\n" + docstring(route, iterate=True)
    )
    return iterate_changes_


def _dress(fn: Callable[..., Any], route: Route, name: str) -> None:
    fn.__name__ = name
    fn.__qualname__ = ".".join((route.api, *route.namespace, name))
    fn.__doc__ = docstring(route)
    fn.__module__ = "cafe24_async.endpoints"
    extra = ("concurrency",) if name.startswith("iterate") else ()
    fn.__signature__ = signature(route, extra)  # type: ignore[attr-defined]


class Namespace:
    """A level of an API under one mall, e.g. `mall.admin.products`.

    Each level is an instance of its own subclass (`Admin_Products`, named as its
    protocol in `cafe24_async.api_types`), whose docstring lists the level's
    actions and the levels below, so `help(mall.admin.products)` shows them.
    """

    def __new__(cls, mall: Caller, node: NamespaceNode) -> Namespace:
        return super().__new__(namespace_class(node) if cls is Namespace else cls)

    def __init__(self, mall: Caller, node: NamespaceNode) -> None:
        self._mall = mall
        self._node = node

    def __repr__(self) -> str:
        return f"<Namespace {self._node.name} of mall {self._mall.mall_id!r}>"

    def __dir__(self) -> list[str]:
        node = self._node
        names = set(node.children) | set(node.routes)
        names |= {n for a, r in node.routes.items() if r.pagination and (n := iterator_name(a))}
        if "list" in node.routes and node.routes["list"].changes is not None:
            names.add("iterate_changes")
        return sorted(names)

    def __getattr__(self, name: str) -> Any:
        node = self._node
        value: Any
        if name in node.children:
            value = Namespace(self._mall, node.children[name])
        elif name in node.routes:
            value = types.MethodType(endpoint_function(node.routes[name]), self._mall)
        elif name == "iterate_changes" and ((route := node.routes.get("list")) is not None):
            value = types.MethodType(changes_function(route), self._mall)
        elif name.startswith("iterate") and (
            (route := node.routes.get("list" + name[7:])) is not None and route.pagination
        ):
            value = types.MethodType(iterator_function(route, name), self._mall)
        else:
            options = ", ".join(self.__dir__()) or "nothing"
            raise AttributeError(f"{node.name} has no {name!r}; it has: {options}")
        self.__dict__[name] = value  # next access is a plain attribute lookup
        return value


@cache
def namespace_class(node: NamespaceNode) -> type[Namespace]:
    """The subclass of `Namespace` for one level of the tree, documented with its actions."""
    api, *parts = node.name.split(".")
    name = "_".join("".join(w.capitalize() for w in part.split("_") if w) for part in (api, *parts))
    doc = namespace_doc(api, tuple(parts), node.routes, node.children)
    return type(name, (Namespace,), {"__doc__": doc, "__module__": "cafe24_async.endpoints", "__slots__": ()})
