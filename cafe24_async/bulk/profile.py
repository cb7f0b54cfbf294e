"""What a bulk writer needs to know about one write route, worked out once.

From the route table and the bulk-form table (`bulk.caps`): whether rows go
several to a call and how many, which fields name one object, whether sending a
write again is harmless (`idempotent`: a PUT or DELETE sets absolute values; a
POST creates), and how to read back what a row wrote (`readback`: the GET route
at the same path; for a bulk route, its list, searched by the item key). A route
with no read route cannot have an ambiguous write checked; see `bulk.apply`.
"""

from __future__ import annotations

from functools import cache

import attrs

from cafe24_async.bulk.caps import bulk_form
from cafe24_async.bulk.errors import BulkInputError
from cafe24_async.routes import ROUTES, RouteNotFoundError, find_route
from cafe24_async.routes.route import Route

WRITE_METHODS = ("POST", "PUT", "DELETE")


@attrs.frozen
class WriteProfile:
    route: Route
    #: Objects per call (1: the route has no list form).
    cap: int
    #: Body fields naming one object of a bulk call.
    item_key: tuple[str, ...]
    cap_source: str
    #: The GET route that shows what a row wrote, if any.
    readback: Route | None

    @property
    def bulk(self) -> bool:
        """True when rows go several to a call, as `requests=[...]`."""
        return self.cap > 1

    @property
    def idempotent(self) -> bool:
        """True when sending a row again cannot change more than sending it once."""
        return self.route.method in ("PUT", "DELETE")

    @property
    def path_params(self) -> tuple[str, ...]:
        return self.route.path_params

    @property
    def readback_list(self) -> bool:
        return self.readback is not None and self.readback.response_kind == "list"


@cache
def profile_for(route: Route) -> WriteProfile:
    """The profile of a write route (`BulkInputError` for a route that does not write)."""
    if route.method not in WRITE_METHODS:
        raise BulkInputError(
            f"{route.method} {route.path} does not write; bulk writes need a POST, PUT or DELETE route"
        )
    form = bulk_form(route.method, route.path)
    if form is not None:
        return WriteProfile(route, form.cap, form.item_key, form.source, _readback(route, form.item_key))
    return WriteProfile(route, 1, (), "no list form: one row per call", _readback(route, ()))


def _readback(route: Route, item_key: tuple[str, ...]) -> Route | None:
    if route.method == "DELETE":
        return None  # what a delete did shows as an absence, not as values to compare
    want = "list" if item_key else "object"
    for candidate in ROUTES:
        if (
            candidate.method == "GET" and candidate.path == route.path and candidate.api == route.api
            and candidate.response_kind == want and not candidate.legacy
            and (want == "object" or candidate.pagination is None)
        ):
            return candidate
    return None


def resolve_route(route: Route | str) -> Route:
    """A write route given as a `Route`, as "METHOD /path", or by its Python name
    (`products.variants.update_many`, an `admin.` prefix optional)."""
    if isinstance(route, Route):
        return route
    if not isinstance(route, str) or not route.strip():
        raise BulkInputError(
            "the route must be a Route, 'METHOD /path' or a name such as products.variants.update_many"
        )
    text = route.strip()
    method, _, path = text.partition(" ")
    if path.strip().startswith("/"):
        try:
            return find_route(method.upper(), path.strip())
        except RouteNotFoundError as exc:
            raise BulkInputError(str(exc)) from None
    names = _write_names()
    found = names.get(text) or names.get(f"admin.{text}")
    if found is None:
        prefix = text.rsplit(".", 1)[0]
        close = sorted(n.removeprefix("admin.") for n in names if prefix in n)[:8]
        hint = f"; did you mean: {', '.join(close)}" if close else ""
        raise BulkInputError(f"no write route is called {text!r}{hint} (docs/routes.md lists them)")
    return found


@cache
def _write_names() -> dict[str, Route]:
    names: dict[str, Route] = {}
    for route in ROUTES:
        if route.method in WRITE_METHODS and not route.legacy:
            names.setdefault(route.qualified_name, route)
    return names
