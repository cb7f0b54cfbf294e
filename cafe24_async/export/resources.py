"""Which routes can be exported, by the names people use for them.

An export resource is a paginated list route without path placeholders:
`products`, `orders`, `customersprivacy`, `reviews`... (Admin API), or with an API
prefix for the others: `front.products`, `analytics.visitors.view`,
`dcollection.products`.
"""

from __future__ import annotations

from functools import cache

from cafe24_async.export.errors import ExportError
from cafe24_async.routes import ROUTES
from cafe24_async.routes.route import Route

API_PREFIXES = ("admin", "front", "analytics", "dcollection")
__all__ = ["API_PREFIXES", "ExportError", "exportable", "resolve_resource"]


@cache
def exportable() -> dict[str, Route]:
    """Resource name -> list route, for every paginated list without path params."""
    table: dict[str, Route] = {}
    for route in ROUTES:
        if route.action != "list" or route.pagination is None or route.path_params:
            continue
        name = ".".join(route.namespace)
        key = name if route.api == "admin" else f"{route.api}.{name}"
        if key in table and route.legacy:
            continue  # a current route wins over a legacy one of the same name
        table[key] = route
    return table


def resolve_resource(name: str) -> Route:
    """The list route exported as `name`, or `ExportError` naming close ones."""
    if not isinstance(name, str):
        raise ExportError(f"the resource must be a name such as 'products', not {type(name).__name__}")
    routes = exportable()
    key = name.removeprefix("admin.")
    if key not in routes:
        close = sorted(k for k in routes if key.split(".")[-1] in k)[:8]
        hint = f"; did you mean: {', '.join(close)}" if close else ""
        raise ExportError(f"unknown resource {name!r}{hint} (`cafe24-async resources` lists them)")
    return routes[key]
