"""How many records a list holds, from the list's sibling `count` route.

A count lets the pages of a list go out concurrently and tells a short page
from the end of the list. It is only taken when the count route accepts every
filter the list call was given, so it counts exactly what the list returns.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cafe24_async.paging.protocol import Requester
from cafe24_async.routes import count_route
from cafe24_async.routes.route import Route

#: List parameters a count does not take and does not depend on.
NOT_FILTERS = frozenset({"limit", "offset", "fields", "embed", "sort", "order"})


async def count_of(
    requester: Requester, route: Route, args: Sequence[Any], params: dict[str, Any], timeout: float | None
) -> int | None:
    """Records the list would hold, or None when no count route takes these filters."""
    counter = count_route(route)
    if counter is None:
        return None
    filters = {k: v for k, v in params.items() if k not in NOT_FILTERS and v is not None}
    if route.pagination and route.pagination.keyset in filters:
        return None
    accepted = {p.name for p in counter.params}
    if any(name not in accepted for name in filters):
        return None
    value = await requester.execute(requester.prepare(counter, args, filters), typed=False, timeout=timeout)
    return value if isinstance(value, int) else None
