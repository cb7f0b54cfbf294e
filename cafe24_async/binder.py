"""Namespaces and endpoint coroutines, built from the route table at runtime.

`mall.admin.products.variants.get(128, "P000000A000A")` is resolved here: the
route rows are arranged into a tree by `namespace`, and each leaf becomes an
`async def` with a real `__name__`, a signature (path params positional or by
name, the rest keyword-only) and a docstring naming its method, path, scope,
params and paging rules. No endpoint is written by hand.

The tree and the functions are built once per process and shared by every mall;
a mall's `Namespace` objects only bind them to that mall, caching what was used.
"""

from __future__ import annotations

import inspect
import types
from collections.abc import AsyncIterator, Callable, Iterable
from functools import cache
from typing import TYPE_CHECKING, Any

from cafe24_async.errors import ValidationError
from cafe24_async.routes import APIS, ROUTES
from cafe24_async.routes.route import Param, Route

if TYPE_CHECKING:
    from cafe24_async.mall import Mall
    from cafe24_async.transport import TimeoutSettings

#: Options every endpoint coroutine takes besides the documented params.
CALL_OPTIONS = ("typed", "timeout", "retry_writes")


class NamespaceNode:
    """One level of the tree: child namespaces and the routes (by action) at this level."""

    __slots__ = ("children", "name", "routes")

    def __init__(self, name: str) -> None:
        self.name = name
        self.children: dict[str, NamespaceNode] = {}
        self.routes: dict[str, Route] = {}


@cache
def api_tree(api: str) -> NamespaceNode:
    """The namespace tree of one API (admin, front, analytics, dcollection)."""
    root = NamespaceNode(api)
    for route in ROUTES:
        if route.api != api:
            continue
        node = root
        for part in route.namespace:
            node = node.children.setdefault(part, NamespaceNode(f"{node.name}.{part}"))
        node.routes[route.action] = route
    return root


def iterator_name(action: str) -> str | None:
    """`list` -> `iterate`, `list_by_order_id` -> `iterate_by_order_id`."""
    return "iterate" + action[4:] if action.startswith("list") else None


def describe_param(param: Param) -> str:
    rules = []
    if param.required:
        rules.append("required")
    if param.type:
        rules.append(param.type)
    if param.format and param.format != param.type:
        rules.append(param.format)
    if param.minimum is not None:
        rules.append(f"min {param.minimum:g}")
    if param.maximum is not None:
        rules.append(f"max {param.maximum:g}")
    if param.min_length is not None:
        rules.append(f"min length {param.min_length}")
    if param.max_length is not None:
        rules.append(f"max length {param.max_length}")
    if param.multiple:
        rules.append(f"list, up to {param.max_items or 100} values")
    elif param.max_items is not None:
        rules.append(f"up to {param.max_items} items")
    if param.enum:
        rules.append("one of " + ", ".join(param.enum))
    if param.charset:
        rules.append(f"characters {param.charset}")
    if param.default is not None:
        rules.append(f"default {param.default!r}")
    return f"    {param.name} ({param.location}{': ' + '; '.join(rules) if rules else ''})"


def docstring(route: Route) -> str:
    lines = [
        route.summary or f"{route.method} {route.path}",
        "",
        f"{route.method} {route.path}",
        f"Scope: {route.scope or 'none'}",
    ]
    if route.legacy:
        lines.append(
            "Legacy route of the older reference"
            + (f"; replaced by {route.replaced_by}" if route.replaced_by else "")
        )
    if route.request_limit:
        lines.append(f"Request limit: {route.request_limit}")
    if route.pagination:
        pg = route.pagination
        paging = f"Paging: limit {pg.limit_min}-{pg.limit_max}"
        if pg.offset_max is not None:
            paging += f", offset up to {pg.offset_max}"
        if pg.keyset:
            paging += f", continues past the cap with {pg.keyset}"
        lines.append(paging)
    if route.date_range:
        dr = route.date_range
        rule = f"Dates: {dr.start}..{dr.end}"
        if dr.required:
            rule += " (required)"
        if dr.max_span_months:
            rule += f", at most {dr.max_span_months} months per request"
        lines.append(rule)
    if route.embed:
        lines.append("Embed: " + ", ".join(route.embed))
    lines.append(f"Returns: {_returns(route)}")
    params = [p for p in route.params]
    if params:
        lines += ["", "Parameters:"] + [describe_param(p) for p in params]
    return "\n".join(lines)


def _returns(route: Route) -> str:
    return {
        "list": f"list of dicts (the '{route.response_root}' list)",
        "count": "int",
        "object": f"dict (the '{route.response_root}' object)",
    }[route.response_kind]


def signature(route: Route, extra: Iterable[str] = ()) -> inspect.Signature:
    kinds = inspect.Parameter
    params = [kinds("mall", kinds.POSITIONAL_ONLY)]
    params += [kinds(name, kinds.POSITIONAL_OR_KEYWORD) for name in route.path_params]
    seen = set(route.path_params)
    filled_in = set(APIS[route.api].mall_query)  # the client fills these from the mall
    for p in route.params:
        if p.location == "path" or p.name in seen or not p.name.isidentifier():
            continue
        seen.add(p.name)
        default = kinds.empty if p.required and p.name not in filled_in else None
        params.append(kinds(p.name, kinds.KEYWORD_ONLY, default=default))
    names = [*extra, "fields"] if route.method == "GET" else list(extra)
    if route.embed:
        names.append("embed")
    if route.method in ("POST", "PUT"):
        names += ["requests", "request"]
    names += [o for o in CALL_OPTIONS if not (extra and o == "retry_writes")]
    params += [kinds(n, kinds.KEYWORD_ONLY, default=None) for n in names if n not in seen]
    return inspect.Signature(params)


@cache
def endpoint_function(route: Route) -> Callable[..., Any]:
    """The coroutine function of `route`; bound to a mall as a method."""

    async def endpoint(
        mall: Mall,
        *args: Any,
        typed: bool | None = None,
        timeout: float | TimeoutSettings | None = None,
        retry_writes: bool | None = None,
        **params: Any,
    ) -> Any:
        if retry_writes is not None and not isinstance(retry_writes, bool):
            where = f"{route.method} {route.path}"
            raise ValidationError("retry_writes", "must be True, False or None", where)
        prepared = mall.prepare(route, args, params)
        return await mall.execute(
            prepared, typed=typed, timeout=timeout, retry_writes=bool(retry_writes)
        )

    _dress(endpoint, route, route.action)
    return endpoint


@cache
def iterator_function(route: Route, name: str) -> Callable[..., AsyncIterator[Any]]:
    """`iterate(...)`: every record of a paginated list route, across pages."""

    def iterate(
        mall: Mall,
        *args: Any,
        typed: bool | None = None,
        timeout: float | None = None,
        concurrency: int | None = None,
        **params: Any,
    ) -> AsyncIterator[Any]:
        from cafe24_async.pagination import iterate_pages

        return iterate_pages(
            mall, route, args, params, typed=typed, timeout=timeout, concurrency=concurrency
        )

    _dress(iterate, route, name)
    iterate.__doc__ = (
        f"Every record of {route.method} {route.path}, across pages, each once.\n\n"
        "Takes the same parameters as the list call (without limit/offset paging\n"
        "concerns: the largest page is used, and the offset cap is passed with the\n"
        "keyset parameter where the route has one, or date windows for date-ranged\n"
        "routes). `concurrency` bounds the pages fetched at once.\n\n" + docstring(route)
    )
    return iterate


def _dress(fn: Callable[..., Any], route: Route, name: str) -> None:
    fn.__name__ = name
    fn.__qualname__ = ".".join((route.api, *route.namespace, name))
    fn.__doc__ = docstring(route)
    fn.__module__ = "cafe24_async.endpoints"
    extra = ("concurrency",) if name.startswith("iterate") else ()
    fn.__signature__ = signature(route, extra)  # type: ignore[attr-defined]


class Namespace:
    """A level of an API under one mall, e.g. `mall.admin.products`."""

    def __init__(self, mall: Mall, node: NamespaceNode) -> None:
        self._mall = mall
        self._node = node

    def __repr__(self) -> str:
        return f"<Namespace {self._node.name} of mall {self._mall.mall_id!r}>"

    def __dir__(self) -> list[str]:
        node = self._node
        names = set(node.children) | set(node.routes)
        names |= {n for a, r in node.routes.items() if r.pagination and (n := iterator_name(a))}
        return sorted(names)

    def __getattr__(self, name: str) -> Any:
        node = self._node
        value: Any
        if name in node.children:
            value = Namespace(self._mall, node.children[name])
        elif name in node.routes:
            value = types.MethodType(endpoint_function(node.routes[name]), self._mall)
        elif name.startswith("iterate") and (
            (route := node.routes.get("list" + name[7:])) is not None and route.pagination
        ):
            value = types.MethodType(iterator_function(route, name), self._mall)
        else:
            options = ", ".join(self.__dir__()) or "nothing"
            raise AttributeError(f"{node.name} has no {name!r}; it has: {options}")
        self.__dict__[name] = value  # next access is a plain attribute lookup
        return value
