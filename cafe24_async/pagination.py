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

import contextlib
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import attrs

from cafe24_async.errors import PaginationCapError, ValidationError
from cafe24_async.params import check_count, check_seconds
from cafe24_async.routes.route import Pagination, Route

if TYPE_CHECKING:
    from cafe24_async.mall import Mall


def keyset_field(pagination: Pagination) -> str | None:
    """`since_product_no` -> `product_no`."""
    keyset = pagination.keyset
    return keyset.removeprefix("since_") if keyset else None


def _with_key_field(fields: Any, key: str) -> Any:
    """Make sure `fields=` asks for the key the keyset continues from."""
    if isinstance(fields, str):
        names = fields.split(",")
    elif isinstance(fields, (list, tuple, set, frozenset)):
        names = list(fields)
    else:
        names = [fields]
    names = [str(n).strip() for n in names if str(n).strip()]
    return names if key in names else [*names, key]


@attrs.frozen(slots=True)
class Cursor:
    """Where a paged read stands, right after one page: enough to resume there.

    `window` is the date window being read (as sent), `floor` the keyset value
    the current segment starts after, `offset` the next offset to fetch,
    `highest` the largest key seen in the segment, `seen` the records yielded
    in the window so far (a planning hint for how many pages remain).
    """

    window: tuple[str, str] | None = None
    floor: Any = None
    offset: int = 0
    highest: Any = None
    seen: int = 0

    def to_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Cursor:
        window = data.get("window")
        return cls(
            window=(str(window[0]), str(window[1])) if window else None,
            floor=data.get("floor"),
            offset=int(data.get("offset") or 0),
            highest=data.get("highest"),
            seen=int(data.get("seen") or 0),
        )


@attrs.frozen(slots=True)
class Page:
    """Records of one page (already de-duplicated) and the cursor after it."""

    records: list[Any]
    cursor: Cursor
    #: Records the current window holds, from its count (None when unknown).
    expected: int | None = None


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
    if typed is not None and not isinstance(typed, bool):
        raise ValidationError("typed", "must be True, False or None", f"{route.method} {route.path}")
    as_models = mall.typed(typed)
    pages = read_pages(mall, route, args, params, timeout=timeout, concurrency=concurrency)
    async with contextlib.aclosing(pages):  # leaving early stops the page fetches at once
        async for page in pages:
            for record in page.records:
                yield mall.structure(route, record) if as_models else record


async def read_pages(
    mall: Mall,
    route: Route,
    args: Sequence[Any],
    params: dict[str, Any],
    *,
    timeout: float | None = None,
    concurrency: int | None = None,
    resume: Cursor | None = None,
) -> AsyncGenerator[Page, None]:
    """Yield every page of `route` for `params`, each with the cursor to resume after it.

    Every argument is checked before anything is sent (`ValidationError`)."""
    if route.pagination is None:
        raise ValidationError("route", "does not page", f"{route.method} {route.path}")
    check_read(mall, route, args, params, timeout=timeout, concurrency=concurrency)
    from cafe24_async.windows import date_windows

    windows = date_windows(
        mall, route, args, params, timeout=timeout, resume_window=resume.window if resume else None
    )
    async with contextlib.aclosing(windows):
        async for window, window_params, count in windows:
            start = resume if resume is not None and resume.window == window else Cursor(window=window)
            resume = None
            pages = _window_pages(
                mall, route, args, window_params, start,
                timeout=timeout, concurrency=concurrency, total=count,
            )
            async with contextlib.aclosing(pages):
                async for page in pages:
                    yield page


async def _window_pages(
    mall: Mall,
    route: Route,
    args: Sequence[Any],
    params: dict[str, Any],
    start: Cursor,
    *,
    timeout: float | None,
    concurrency: int | None,
    total: int | None,
) -> AsyncGenerator[Page, None]:
    from cafe24_async.fanout import count_of, ordered_pages

    pg = route.pagination
    assert pg is not None
    params = dict(params)
    limit = int(Decimal(str(params.pop("limit", None) or pg.limit_max)))
    offset = int(Decimal(str(params.pop("offset", None) or 0))) or start.offset
    key = keyset_field(pg)
    given_floor = params.get(pg.keyset) if pg.keyset else None
    if pg.keyset and given_floor is not None:  # checked by `check_read`: a whole number, maybe text
        given_floor = params[pg.keyset] = int(Decimal(str(given_floor)))
    floor: Any = start.floor if start.floor is not None else given_floor
    if key and params.get("fields"):
        params["fields"] = _with_key_field(params["fields"], key)
    if total is None:
        total = await count_of(mall, route, args, params, timeout)
    seen = start.seen or offset  # records of the window before `offset`
    highest = start.highest if start.highest is not None else floor
    last_offset = pg.offset_max if pg.has_offset else 0

    while True:
        # One segment: offset pages from `offset` up to the cap (or the end).
        segment_params = dict(params)
        if pg.keyset and floor is not None:
            segment_params[pg.keyset] = floor
        full_at_cap = last_offset is not None and offset > last_offset and start.offset > 0
        expected = None if total is None else max(0, total - seen)
        segment = ordered_pages(
            mall, route, args, segment_params, limit=limit, first_offset=offset,
            last_offset=last_offset, has_offset=pg.has_offset, timeout=timeout,
            concurrency=concurrency, expected=expected,
            recount=_recount(mall, route, args, params, timeout, seen),
        )
        async with contextlib.aclosing(segment):
            async for page_offset, page in segment:
                fresh = []
                for record in page:
                    value = record.get(key) if key and isinstance(record, dict) else None
                    if floor is not None and value is not None and value <= floor:
                        continue  # already yielded before the keyset moved on
                    if value is not None and (highest is None or value > highest):
                        highest = value
                    fresh.append(record)
                seen += len(fresh)
                full_at_cap = len(page) >= limit and (
                    last_offset is None or page_offset + limit > last_offset
                )
                yield Page(fresh, Cursor(start.window, floor, page_offset + limit, highest, seen), total)
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


def check_read(
    mall: Mall, route: Route, args: Sequence[Any], params: dict[str, Any], *,
    timeout: float | None, concurrency: int | None,
) -> None:
    """Refuse a paged read's bad arguments before its first request: the list call's
    own rules (a date range may be longer than one request's span), a timeout, and
    the pages in flight."""
    where = f"{route.method} {route.path}"
    if timeout is not None:
        check_seconds("timeout", timeout, where)
    if concurrency is not None:
        check_count("concurrency", concurrency, where)
    mall.prepare(route, args, dict(params), whole_range=True)


def _recount(
    mall: Mall, route: Route, args: Sequence[Any], params: dict[str, Any],
    timeout: float | None, before: int,
) -> Callable[[], Awaitable[int | None]]:
    """A fresh count of the records remaining from the segment's first offset
    (`before` records of the window come before that offset)."""
    from cafe24_async.fanout import count_of

    async def recount() -> int | None:
        total = await count_of(mall, route, args, params, timeout)
        return None if total is None else max(0, total - before)

    return recount


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
    prepared = mall.prepare(route, args, query)
    page = await mall.execute(prepared, typed=False, timeout=timeout)
    return list(page) if page else []
