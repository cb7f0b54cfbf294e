"""The route table: one frozen row of data per documented endpoint.

`ROUTES` holds every row of every API. The rows are generated from
`spec/endpoints.json` by `scripts/generate_routes.py`; adding an endpoint means
adding a row there, never writing a method.
"""

from __future__ import annotations

from cafe24_async.errors import Cafe24Error
from cafe24_async.routes import admin, analytics, dcollection, front, legacy
from cafe24_async.routes.apis import APIS, ApiDefinition
from cafe24_async.routes.route import DateRange, Pagination, Param, Route

ROUTES: tuple[Route, ...] = (
    admin.ROUTES + front.ROUTES + analytics.ROUTES + dcollection.ROUTES + legacy.ROUTES
)


class RouteNotFoundError(Cafe24Error, KeyError):
    """No documented route has this method and path (the message says what is close).
    Nothing is sent. Also a `KeyError`, for callers that caught it as one."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


def find_route(method: str, path: str, api: str | None = None) -> Route:
    """The route documented as `METHOD path` (placeholders named as in the docs).

    Raises `RouteNotFoundError` (a `Cafe24Error`) naming the closest documented routes.
    """
    method = method.upper() if isinstance(method, str) else method
    for route in ROUTES:
        if route.method == method and route.path == path and (api is None or route.api == api):
            return route
    raise RouteNotFoundError(f"no documented route {method} {path}{_hint(method, path, api)}")


def _count_routes() -> dict[tuple[str, tuple[str, ...], tuple[str, ...]], Route]:
    return {(r.api, r.namespace, r.path_params): r for r in ROUTES if r.action == "count"}


_COUNTS = _count_routes()


def count_route(route: Route) -> Route | None:
    """The `count` route beside a list route (same namespace and path values), if any."""
    return _COUNTS.get((route.api, route.namespace, route.path_params))


def _hint(method: object, path: object, api: str | None) -> str:
    """What the caller probably meant: another method, placeholders, or a near path."""
    candidates = [r for r in ROUTES if api is None or r.api == api]
    methods = sorted({r.method for r in candidates})
    if method not in methods:
        return f"; the method must be one of {', '.join(methods)}"
    if not isinstance(path, str):
        return "; the path must be a string such as '/api/v2/admin/products/{product_no}'"
    same_path = sorted({r.method for r in candidates if r.path == path})
    if same_path:
        return f"; {path} is documented for {', '.join(same_path)}"
    for route in candidates:
        if route.method == method and _fills(route.path, path):
            return (
                f"; write the path as documented, {route.path}, and pass the values as "
                "arguments (positional or by name)"
            )
    import difflib

    paths = sorted({r.path for r in candidates if r.method == method})
    close = difflib.get_close_matches(path, paths, n=3, cutoff=0.75)
    if close:
        return "; did you mean " + " or ".join(f"{method} {p}" for p in close) + "?"
    return "; docs/routes.md lists every documented route"


def _fills(template: str, path: str) -> bool:
    """True when `path` is `template` with its placeholders replaced by values."""
    want, got = template.strip("/").split("/"), path.strip("/").split("/")
    return len(want) == len(got) and all(
        w == g or (w.startswith("{") and bool(g)) for w, g in zip(want, got, strict=True)
    ) and want != got


__all__ = [
    "APIS",
    "ROUTES",
    "ApiDefinition",
    "DateRange",
    "Pagination",
    "Param",
    "Route",
    "RouteNotFoundError",
    "count_route",
    "find_route",
]
