"""The route table: one frozen row of data per documented endpoint.

`ROUTES` holds every row of every API. The rows are generated from
`spec/endpoints.json` by `scripts/generate_routes.py`; adding an endpoint means
adding a row there, never writing a method.
"""

from __future__ import annotations

from cafe24_async.routes import admin, analytics, dcollection, front, legacy
from cafe24_async.routes.apis import APIS, ApiDefinition
from cafe24_async.routes.route import DateRange, Pagination, Param, Route

ROUTES: tuple[Route, ...] = (
    admin.ROUTES + front.ROUTES + analytics.ROUTES + dcollection.ROUTES + legacy.ROUTES
)


def find_route(method: str, path: str, api: str | None = None) -> Route:
    """The route documented as `METHOD path` (placeholders named as in the docs)."""
    method = method.upper()
    for route in ROUTES:
        if route.method == method and route.path == path and (api is None or route.api == api):
            return route
    raise KeyError(f"no documented route {method} {path}")


__all__ = [
    "APIS",
    "ROUTES",
    "ApiDefinition",
    "DateRange",
    "Pagination",
    "Param",
    "Route",
    "find_route",
]
