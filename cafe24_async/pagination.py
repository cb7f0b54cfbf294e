"""Every record of a list route, across pages, each exactly once.

Paging follows what the route documents:

1. pages of the largest allowed `limit`, at increasing `offset`, up to the
   documented offset cap;
2. past the cap, the keyset parameter where the route has one
   (`since_product_no`): the next segment starts after the highest key seen, at
   offset 0 again, and records at or below that key are never yielded twice;
3. past the cap without a keyset, `PaginationCapError` names the cap and how to
   narrow the query (date-ranged routes are split into windows by
   `cafe24_async.windows` before they get here).

Keyset continuation assumes the list is ordered by its key, ascending, which is
the server's default order for the routes that document a keyset.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING, Any

from cafe24_async.errors import PaginationCapError
from cafe24_async.params import prepare
from cafe24_async.routes.route import Pagination, Route

if TYPE_CHECKING:
    from cafe24_async.mall import Mall


def keyset_field(pagination: Pagination) -> str | None:
    """`since_product_no` -> `product_no`."""
    keyset = pagination.keyset
    return keyset.removeprefix("since_") if keyset else None


def _with_key_field(fields: Any, key: str) -> Any:
    """Make sure `fields=` asks for the key the keyset continues from."""
    names = fields.split(",") if isinstance(fields, str) else list(fields)
    names = [str(n).strip() for n in names if str(n).strip()]
    return names if key in names else [*names, key]


async def iterate_pages(
    mall: Mall,
    route: Route,
    args: Sequence[Any],
    params: dict[str, Any],
    *,
    typed: bool | None = None,
    timeout: float | None = None,
    concurrency: int | None = None,
) -> AsyncIterator[Any]:
    """Yield every record of `route` for `params` (see the module docstring)."""
    if route.pagination is None:
        raise TypeError(f"{route.qualified_name} does not page")
    from cafe24_async.windows import date_windows

    async for window_params, count in date_windows(mall, route, args, params, timeout=timeout):
        async for record in _iterate_window(
            mall, route, args, window_params, typed=typed, timeout=timeout,
            concurrency=concurrency, total=count,
        ):
            yield record


async def _iterate_window(
    mall: Mall,
    route: Route,
    args: Sequence[Any],
    params: dict[str, Any],
    *,
    typed: bool | None,
    timeout: float | None,
    concurrency: int | None,
    total: int | None,
) -> AsyncIterator[Any]:
    from cafe24_async.fanout import count_of, ordered_pages

    pg = route.pagination
    assert pg is not None
    params = dict(params)
    limit = int(params.pop("limit", None) or pg.limit_max)
    offset = int(params.pop("offset", None) or 0)
    key = keyset_field(pg)
    floor: Any = params.get(pg.keyset) if pg.keyset else None
    if key and params.get("fields"):
        params["fields"] = _with_key_field(params["fields"], key)
    if total is None:
        total = await count_of(mall, route, args, params, timeout)
    yielded = 0

    while True:
        # One segment: offset pages from `offset` up to the cap (or the end).
        last_offset = pg.offset_max if pg.has_offset else 0
        segment_params = dict(params)
        if pg.keyset and floor is not None:
            segment_params[pg.keyset] = floor
        highest = floor
        full_at_cap = False
        async for page_offset, page in ordered_pages(
            mall, route, args, segment_params, limit=limit, first_offset=offset,
            last_offset=last_offset, has_offset=pg.has_offset, timeout=timeout,
            concurrency=concurrency,
            expected=None if total is None else max(0, total - yielded - offset),
        ):
            for record in page:
                value = record.get(key) if key and isinstance(record, dict) else None
                if floor is not None and value is not None and value <= floor:
                    continue  # already yielded before the keyset moved on
                if value is not None and (highest is None or value > highest):
                    highest = value
                yielded += 1
                yield mall.structure(route, record) if mall.typed(typed) else record
            full_at_cap = len(page) >= limit and (
                last_offset is None or page_offset + limit > last_offset
            )
        if not full_at_cap:
            return
        if pg.keyset is None or highest is None or highest == floor:
            cap = pg.offset_max if pg.offset_max is not None else 0
            hint = (
                f"narrow the query with {route.date_range.start}/{route.date_range.end} "
                "or other filters"
                if route.date_range
                else "narrow the query with filters so fewer records match"
            )
            raise PaginationCapError(f"{route.method} {route.path}", cap, hint)
        floor, offset = highest, 0


async def fetch_page(
    mall: Mall,
    route: Route,
    args: Sequence[Any],
    params: dict[str, Any],
    *,
    limit: int,
    offset: int,
    has_offset: bool,
    timeout: float | None,
) -> list[Any]:
    """One page, raw (dicts), through the full request path."""
    query = dict(params, limit=limit)
    if has_offset and offset:
        query["offset"] = offset
    prepared = prepare(route, args, query)
    page = await mall.execute(prepared, typed=False, timeout=timeout)
    return list(page) if page else []
