"""Every record of a list route, across pages, date windows and keyset segments, once.

Paging follows what the route documents:

1. pages of the largest allowed `limit`, at increasing `offset`, up to the
   documented offset cap (`paging.pages`);
2. past the cap, the keyset parameter where the route has one
   (`paging.keyset`): the next segment starts after the highest key seen;
3. past the cap without a keyset, `PaginationCapError` names the cap and how to
   narrow the query; date-ranged routes are first cut into windows that paging
   can reach in full (`paging.windows`).

Every argument is checked before the first request, and each page comes with a
`Cursor`, so a reader can resume exactly after the last page it kept.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Sequence
from decimal import Decimal
from typing import Any

import attrs

from cafe24_async.checks import check_count, check_seconds
from cafe24_async.errors import PaginationCapError, ValidationError
from cafe24_async.paging.caps import OffsetRefused
from cafe24_async.paging.cursor import Cursor, Page
from cafe24_async.paging.keyset import KeysetState, keyset_field, with_key_field
from cafe24_async.paging.pages import Recount, ordered_pages
from cafe24_async.paging.protocol import Requester
from cafe24_async.paging.query import ListQuery
from cafe24_async.paging.windows import date_windows
from cafe24_async.routes.route import Route


def check_read(
    requester: Requester, route: Route, args: Sequence[Any], params: dict[str, Any], *,
    timeout: float | None, concurrency: int | None,
) -> None:
    """Refuse a paged read's bad arguments before its first request: the list call's
    own rules (a date range may be longer than one request's span), a timeout, and
    the pages in flight."""
    where = f"{route.method} {route.path}"
    if route.pagination is None:
        raise ValidationError("route", "does not page", where)
    if timeout is not None:
        check_seconds("timeout", timeout, where)
    if concurrency is not None:
        check_count("concurrency", concurrency, where)
    requester.prepare(route, args, dict(params), whole_range=True)


async def iterate_records(
    requester: Requester,
    route: Route,
    args: Sequence[Any],
    params: dict[str, Any],
    *,
    structure: Callable[[Any], Any] | None = None,
    timeout: float | None = None,
    concurrency: int | None = None,
) -> AsyncIterator[Any]:
    """Yield every record of `route` for `params`, each passed through `structure` if given."""
    pages = read_pages(requester, route, args, params, timeout=timeout, concurrency=concurrency)
    async with contextlib.aclosing(pages):  # leaving early stops the page fetches at once
        async for page in pages:
            for record in page.records:
                yield structure(record) if structure is not None else record


async def read_pages(
    requester: Requester,
    route: Route,
    args: Sequence[Any],
    params: dict[str, Any],
    *,
    timeout: float | None = None,
    concurrency: int | None = None,
    resume: Cursor | None = None,
) -> AsyncGenerator[Page, None]:
    """Yield every page of `route` for `params`, each with the cursor to resume after it."""
    check_read(requester, route, args, params, timeout=timeout, concurrency=concurrency)
    query = ListQuery(requester, route, tuple(args), dict(params), timeout)
    windows = date_windows(query, resume.window if resume else None)
    async with contextlib.aclosing(windows):
        async for window, window_query, count in windows:
            start = resume if resume is not None and resume.window == window else Cursor(window=window)
            resume = None
            pages = WindowRead(window_query, start, concurrency).pages(count)
            async with contextlib.aclosing(pages):
                async for page in pages:
                    yield page


class WindowRead:
    """The read of one date window (or of the whole list), segment by segment."""

    def __init__(self, query: ListQuery, start: Cursor, concurrency: int | None) -> None:
        pg = query.paging
        params = dict(query.params)
        self.limit = _whole(params.pop("limit", None)) or pg.limit_max
        self.offset = _whole(params.pop("offset", None)) or start.offset
        key = keyset_field(pg)
        given_floor = params.get(pg.keyset) if pg.keyset else None
        if pg.keyset and given_floor is not None:  # a whole number, maybe as text (checked)
            given_floor = params[pg.keyset] = _whole(given_floor)
        if key and params.get("fields"):
            params["fields"] = with_key_field(params["fields"], key)
        self.query = attrs.evolve(query, params=params)
        self.start = start
        self.keyset = KeysetState(key, start.floor if start.floor is not None else given_floor, start.highest)
        self.seen = start.seen or self.offset  # records of the window before `offset`
        self.concurrency = concurrency

    async def pages(self, total: int | None) -> AsyncGenerator[Page, None]:
        if total is None:
            total = await self.query.count()
        while True:
            # Resumed right after the last page below the cap: this segment is done.
            pg = self.query.paging
            last = pg.offset_max if pg.has_offset else 0
            full_at_cap = last is not None and self.offset > last and self.start.offset > 0
            segment = self._segment(total)
            try:
                async with contextlib.aclosing(segment):  # leaving early cancels its fetches at once
                    async for page, at_cap in segment:
                        full_at_cap = at_cap
                        yield page
            except OffsetRefused:
                if pg.keyset is None:
                    raise  # no way past a cap without a keyset (date windows are probed first)
                full_at_cap = True  # a lower cap than documented: go on with the keyset
            if not full_at_cap:
                return
            if self.query.paging.keyset is None or not self.keyset.advance():
                raise _cap_error(self.query)
            self.offset = 0

    async def _segment(self, total: int | None) -> AsyncGenerator[tuple[Page, bool], None]:
        """The offset pages of one segment, each with whether it is a full page at the cap."""
        pg, limit = self.query.paging, self.limit
        last_offset = pg.offset_max if pg.has_offset else 0
        keyset = self.keyset
        segment_query = self.query
        if pg.keyset and keyset.floor is not None:
            segment_query = self.query.with_params(**{pg.keyset: keyset.floor})
        pages = ordered_pages(
            segment_query, limit=limit, first_offset=self.offset, last_offset=last_offset,
            expected=None if total is None else max(0, total - self.seen),
            concurrency=self.concurrency, recount=self._recount(self.seen),
        )
        async with contextlib.aclosing(pages):
            async for offset, page in pages:
                fresh = keyset.fresh(page)
                self.seen += len(fresh)
                cursor = Cursor(self.start.window, keyset.floor, offset + limit, keyset.highest, self.seen)
                at_cap = len(page) >= limit and (last_offset is None or offset + limit > last_offset)
                yield Page(fresh, cursor, total), at_cap

    def _recount(self, before: int) -> Recount:
        """A fresh count of the records remaining after the `before` already read."""
        query = self.query

        async def recount() -> int | None:
            total = await query.count()
            return None if total is None else max(0, total - before)

        return recount


def _whole(value: Any) -> int:
    """A whole number given as an int or text (already checked by `check_read`); 0 for None."""
    return 0 if value is None else int(Decimal(str(value)))


def _cap_error(query: ListQuery) -> PaginationCapError:
    route, pg = query.route, query.paging
    hint = (
        f"narrow the query with {route.date_range.start}/{route.date_range.end} or other filters"
        if route.date_range
        else "narrow the query with filters so fewer records match"
    )
    return PaginationCapError(query.label, pg.offset_max if pg.offset_max is not None else 0, hint)
