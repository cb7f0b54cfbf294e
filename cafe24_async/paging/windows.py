"""Date windows: any date range, split so that every window can be paged in full.

A date-ranged list route (orders: at most 3 months per request, and at most
`offset_max + limit_max` records reachable by offset paging) is asked for any
range the caller likes. The range is cut into consecutive windows:

1. whole days, each window at most the documented span;
2. a window whose `count` exceeds what paging can reach is halved, by days,
   and a single day by seconds (`YYYY-MM-DDTHH:MM:SS+09:00`), until it fits.

Windows are inclusive at both ends and never overlap (the next starts one day,
or one second, after the previous ends), so a record on a boundary is fetched
exactly once. Each window is yielded with its count when one was taken, so the
pager does not count it again.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator
from datetime import date, datetime, time, timedelta
from typing import Any

import attrs

from cafe24_async.clock import KST
from cafe24_async.dates import add_months, korea_moment
from cafe24_async.errors import UnprocessableError, ValidationError
from cafe24_async.paging.query import ListQuery
from cafe24_async.pipeline.build import render_datetime
from cafe24_async.routes.route import DateRange, Route

ONE_DAY = timedelta(days=1)
ONE_SECOND = timedelta(seconds=1)


@attrs.frozen(slots=True)
class Window:
    """An inclusive range: whole days (`first`..`last` dates) or exact seconds."""

    first: datetime
    last: datetime
    whole_days: bool

    def render(self) -> tuple[str, str]:
        if self.whole_days:
            return self.first.date().isoformat(), self.last.date().isoformat()
        return render_datetime(self.first), render_datetime(self.last)

    def halves(self) -> tuple[Window, Window] | None:
        """Two windows covering this one, or None when it cannot be cut."""
        if self.whole_days:
            days = (self.last.date() - self.first.date()).days
            if days >= 1:
                mid = self.first + timedelta(days=days // 2)
                return (Window(self.first, mid, True), Window(mid + ONE_DAY, self.last, True))
            day_end = datetime.combine(self.first.date(), time(23, 59, 59), KST)
            return Window(self.first, day_end, False).halves()
        seconds = int((self.last - self.first).total_seconds())
        if seconds < 1:
            return None
        mid = self.first + timedelta(seconds=seconds // 2)
        return Window(self.first, mid, False), Window(mid + ONE_SECOND, self.last, False)


def _parse(value: Any, name: str = "date", route: Route | None = None) -> tuple[datetime, bool]:
    """A range bound as an aware datetime, and whether it was a whole day;
    `ValidationError` naming `name` when it is not a date."""
    try:
        return _parse_bound(value)
    except (ValueError, TypeError, OverflowError):
        where = f"{route.method} {route.path}" if route else None
        raise ValidationError(
            name, "must be a date (YYYY-MM-DD) or an ISO-8601 datetime", where
        ) from None


def _parse_bound(value: Any) -> tuple[datetime, bool]:
    return korea_moment(value if isinstance(value, (date, datetime)) else str(value))


def span_windows(first: datetime, last: datetime, months: int | None, whole_days: bool) -> list[Window]:
    """Consecutive windows of at most `months` calendar months covering first..last."""
    if months is None:
        return [Window(first, last, whole_days)]
    windows = []
    start = first
    step = ONE_DAY if whole_days else ONE_SECOND
    while start <= last:
        end = min(last, add_months(start, months) - step)
        windows.append(Window(start, end, whole_days))
        start = end + step
    return windows


WindowItem = tuple[tuple[str, str] | None, ListQuery, int | None]


async def date_windows(
    query: ListQuery, resume_window: tuple[str, str] | None = None
) -> AsyncGenerator[WindowItem, None]:
    """Yield `(window, query for it, count or None)` for each window of the caller's range.

    With `resume_window` (a window yielded before), start with that window and
    go on from the end of it.
    """
    route, dr = query.route, query.route.date_range
    if dr is None or query.params.get(dr.start) is None or query.params.get(dr.end) is None:
        yield None, query, None
        return
    first, first_whole = _parse(query.params[dr.start], dr.start, route)
    last, last_whole = _parse(query.params[dr.end], dr.end, route)
    whole_days = first_whole and last_whole
    if not whole_days and last_whole:
        last = last + ONE_DAY - ONE_SECOND
    if resume_window is not None:
        yield resume_window, _within(query, dr, resume_window), None
        first, whole_days, last = _after(resume_window, whole_days, last)
    if first > last:
        return
    for window in span_windows(first, last, dr.max_span_months, whole_days):
        async for item in _fit(query, dr, window):
            yield item


def _within(query: ListQuery, dr: DateRange, window: tuple[str, str]) -> ListQuery:
    return query.with_params(**{dr.start: window[0], dr.end: window[1]})


def _after(window: tuple[str, str], whole_days: bool, last: datetime) -> tuple[datetime, bool, datetime]:
    """Where the range goes on after `window`: (first, whole days, last)."""
    (_, a_whole), (b, b_whole) = _parse(window[0]), _parse(window[1])
    if a_whole and b_whole:
        return b + ONE_DAY, whole_days, last
    if whole_days:  # the rest goes on in seconds, up to the end of the last day
        return b + ONE_SECOND, False, last + ONE_DAY - ONE_SECOND
    return b + ONE_SECOND, whole_days, last


async def _fit(query: ListQuery, dr: DateRange, window: Window) -> AsyncIterator[WindowItem]:
    """`window` with its count, or its halves (recursively) when offset paging cannot
    reach every record it holds (by the documented cap, or a lower one the server shows)."""
    rendered = window.render()
    window_query = _within(query, dr, rendered)
    count = await window_query.count()
    halves = None if count is None or await reachable(window_query, count) else window.halves()
    if halves is None:
        yield rendered, window_query, count
        return
    for half in halves:
        async for item in _fit(query, dr, half):
            yield item


async def reachable(query: ListQuery, count: int) -> bool:
    """True when offset pages reach all `count` records: within the cap as known, and the
    deepest offset needed served (probed with one record unless served before)."""
    route, caps = query.route, query.requester.offset_caps
    limit = int(query.params.get("limit") or query.paging.limit_max)
    cap = caps.cap(route)
    if cap is not None and count > cap + limit:
        return False
    deepest = (count - 1) // limit * limit if count > 0 else 0
    if deepest == 0 or caps.known_served(route, deepest):
        return True
    try:
        await query.page(query.paging.limit_min, deepest)
    except UnprocessableError:
        caps.refused(route, deepest)
        return False
    caps.served(route, deepest)
    return True
