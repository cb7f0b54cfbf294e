"""The pages of one offset segment of a list, fetched concurrently, yielded in order.

With the list's size known (from its count) exactly the needed pages are
requested at once; past the known size, pages are fetched one at a time so no
request is wasted beyond the end. Every page still waits for the mall's bucket,
so concurrency raises throughput only up to the rate limit, never over it.

Neither a short page nor a count is trusted alone: a short page while the count
says more records remain is read again, with a fresh count, until the two
agree; if they never do, `IncompleteReadError` names the offset. So a glitch
never ends a read early, and records deleted meanwhile do not fail it.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterator
from typing import Any

from cafe24_async.errors import IncompleteReadError, UnprocessableError
from cafe24_async.fanout import fan_out
from cafe24_async.paging.caps import OffsetRefused
from cafe24_async.paging.query import ListQuery

#: Pages of one list in flight at once, unless the caller says otherwise.
DEFAULT_PAGE_CONCURRENCY = 8
#: Times a short page is read again (with a fresh count) while the count says more
#: records remain, before the read fails with `IncompleteReadError`.
SHORT_PAGE_REREADS = 3

Recount = Callable[[], Awaitable[int | None]]


def planned_offsets(first: int, limit: int, last: int | None, expected: int | None) -> Iterator[int]:
    """Offsets of the pages that hold `expected` records from `first` (one page when
    unknown), plus the page that shows the end when the count is a whole number of pages."""
    pages = 1 if expected is None else math.ceil(expected / limit) + (expected % limit == 0)
    for offset in range(first, first + pages * limit, limit):
        if last is not None and offset > last:
            return
        yield offset


class ShortPageCheck:
    """Confirms that a short page really ends the list before it is believed."""

    def __init__(self, query: ListQuery, limit: int, first: int, expected: int | None,
                 recount: Recount | None) -> None:
        self.query, self.limit, self.first = query, limit, first
        self.expected, self.recount = expected, recount

    async def confirmed(self, offset: int, page: list[Any]) -> list[Any]:
        """`page`, or a longer read of it, once the count agrees the list ends there."""
        remaining = self.expected
        for _ in range(SHORT_PAGE_REREADS + 1):
            if remaining is None or remaining <= offset - self.first + len(page):
                return page
            again = await self.query.page(self.limit, offset)
            if len(again) > len(page):
                page = again
                if len(page) >= self.limit:
                    return page
                continue
            remaining = await self.recount() if self.recount is not None else remaining
        left = (remaining or 0) - (offset - self.first)
        raise IncompleteReadError(
            self.query.label, offset,
            f"a page of {len(page)} records where the count says {left} remain, "
            f"after {SHORT_PAGE_REREADS} more reads",
        )


async def ordered_pages(
    query: ListQuery,
    *,
    limit: int,
    first_offset: int,
    last_offset: int | None,
    expected: int | None,
    concurrency: int | None,
    recount: Recount | None = None,
) -> AsyncGenerator[tuple[int, list[Any]], None]:
    """Yield `(offset, page)` in order until the end of the list or `last_offset`.

    `expected` is how many records remain from `first_offset`, from a count
    taken before reading (None when unknown); `recount()` gives that figure anew.
    """
    if expected == 0:
        return
    check = ShortPageCheck(query, limit, first_offset, expected, recount)
    offsets = planned_offsets(first_offset, limit, last_offset, expected)
    width = max(1, concurrency or DEFAULT_PAGE_CONCURRENCY)
    results = fan_out(lambda offset: query.page(limit, offset), offsets, concurrency=width)
    offset = first_offset
    async with contextlib.aclosing(results):  # closing this generator cancels the fetches at once
        async for result in results:
            if result.error is not None:
                raise _refused(query, result.input, result.error)
            offset, page = result.input, result.value or []
            if len(page) < limit:
                page = await check.confirmed(offset, page)
            yield offset, page
            if len(page) < limit:
                return
    # Every planned page was full: the count was short (records created since, or
    # no count at all), so go on one page at a time until a short page.
    while query.paging.has_offset:
        offset += limit
        if last_offset is not None and offset > last_offset:
            return
        try:
            page = await query.page(limit, offset)
        except UnprocessableError as exc:
            raise _refused(query, offset, exc) from None
        if len(page) < limit:
            page = await check.confirmed(offset, page)
        yield offset, page
        if len(page) < limit:
            return


def _refused(query: ListQuery, offset: int, error: BaseException) -> BaseException:
    """A 422 to a page past the first is the server's offset cap (`OffsetRefused`)."""
    if isinstance(error, UnprocessableError) and offset > 0:
        query.requester.offset_caps.refused(query.route, offset)
        return OffsetRefused(query.route, offset)
    return error
