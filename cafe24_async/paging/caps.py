"""Offset caps as the server keeps them, learned per mall and route.

The reference documents a cap per list route (orders: 15,000), but a server may
keep a lower one (a production app observed 10,000 on orders). A read never
stops short because of it:

- before a date window's pages go out, the deepest offset they need is probed
  (one record) unless that depth was served before; a 422 there lowers the cap,
  and the window is cut smaller until paging reaches all of it;
- a keyset route that meets a 422 past the first page goes on from the highest
  key seen, as it does at the documented cap.

Nothing is yielded from a window before its depth is known to be served, so no
record is read twice.
"""

from __future__ import annotations

from cafe24_async.errors import PaginationCapError
from cafe24_async.routes.route import Route


class OffsetRefused(PaginationCapError):
    """The server refused a page's offset (422) below the documented cap: where the
    route has a keyset the read goes on with it; elsewhere this is the error."""

    def __init__(self, route: Route, offset: int) -> None:
        hint = "the server refused this offset; narrow the query with filters so fewer records match"
        super().__init__(f"{route.method} {route.path}", offset, hint)
        self.offset = offset


class OffsetCaps:
    """What one mall's server has shown of its offset caps, per route."""

    __slots__ = ("_refused", "_served")

    def __init__(self) -> None:
        #: The deepest offset served, and the shallowest refused, per route.
        self._served: dict[Route, int] = {}
        self._refused: dict[Route, int] = {}

    def __repr__(self) -> str:
        learned = {r.qualified_name: self.cap(r) for r in self._refused}
        return f"OffsetCaps({learned})"

    def cap(self, route: Route) -> int | None:
        """The highest offset to ask for: the documented cap, or lower where the server
        refused one (None: no cap)."""
        documented = route.pagination.offset_max if route.pagination else None
        refused = self._refused.get(route)
        if refused is None:
            return documented
        learned = max(self._served.get(route, 0), refused - 1)
        return learned if documented is None else min(documented, learned)

    def known_served(self, route: Route, offset: int) -> bool:
        return offset <= self._served.get(route, 0)

    def served(self, route: Route, offset: int) -> None:
        self._served[route] = max(self._served.get(route, 0), offset)

    def refused(self, route: Route, offset: int) -> None:
        self._refused[route] = min(self._refused.get(route, offset), offset)
