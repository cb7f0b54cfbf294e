"""Reading what changed in a period, instead of every record again.

A daily job wants the records that changed since its last run. What a list
route can tell is route data (`Route.changes`, from spec/incremental.json):

- a filter on the time a record last changed (products: `updated_start_date` /
  `updated_end_date`): one read of the period. Where the route has a keyset
  (`since_product_no`) the read goes past the offset cap with it, as a full
  export does; elsewhere the period is read in windows of that time: the
  windows every dated read uses (`paging.windows`), run on the update-time pair
  instead of the route's creation-time pair, so a period that holds more
  records than offset paging reaches is split until each window fits;
- no such filter, but a choice of which date the date range filters on
  (orders: `date_type` = order_date, pay_date, shipbegin_date, ...): the union
  of one read per date type a change sets. An order paid and shipped in the
  period is found twice and yielded once: every record is known by the route's
  primary key, and a key already yielded in this read is skipped.

The period is `[since - lookback, until]`, both ends included. The lookback
re-reads a margin before `since`: a change made just before the last read but
not yet visible to it, or a clock that runs ahead of the server's, is read
again instead of lost. Across reads delivery is therefore at least once (a
record may come again in the next period); within one read, once.

A record that changes again while its window is read leaves the window (its
new time is after `until`), and the records behind it move up one place, so one
of them could fall between two pages already planned. A window whose read saw
fewer records than its count is therefore read again (the records already
yielded are skipped), so nothing that stayed in the window is missed; the
record that left is read in the next period.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Sequence
from datetime import date, datetime, timedelta
from typing import Any

import attrs

from cafe24_async.checks import check_count, check_seconds
from cafe24_async.clock import KST
from cafe24_async.dates import korea_moment
from cafe24_async.errors import ValidationError
from cafe24_async.paging.cursor import Cursor, Page
from cafe24_async.paging.keyset import with_key_field
from cafe24_async.paging.protocol import Requester
from cafe24_async.paging.query import ListQuery
from cafe24_async.paging.reader import WindowRead
from cafe24_async.paging.windows import WindowItem, date_windows
from cafe24_async.pipeline.build import render_datetime
from cafe24_async.routes import ROUTES
from cafe24_async.routes.route import Changes, DateRange, Route

#: Times a window whose read came out short of its count is read again.
WINDOW_REREADS = 3

DateLike = date | datetime | str


def incremental_routes() -> list[Route]:
    """Every current list route that can tell what changed in a period."""
    return [r for r in ROUTES if r.changes is not None and not r.legacy]


def changes_of(route: Route) -> Changes:
    """The route's change cursor; `ValidationError` naming the routes that have one."""
    if route.changes is not None:
        return route.changes
    names = ", ".join(r.qualified_name.removesuffix(".list") for r in incremental_routes())
    raise ValidationError(
        "iterate_changes",
        f"{route.qualified_name} cannot tell which records changed (the API offers no filter on an "
        f"update time or a status date there); read it whole with iterate(). Routes that can: {names}",
        f"{route.method} {route.path}",
    )


@attrs.frozen(slots=True)
class Pass:
    """One read of the period: the route as windowed, and the params it adds."""

    route: Route
    params: dict[str, Any]


@attrs.frozen(slots=True)
class ChangeRead:
    """A checked read of changes: the period and the passes whose union is every change."""

    route: Route
    first: datetime
    last: datetime
    passes: tuple[Pass, ...]
    params: dict[str, Any]


def plan_changes(
    route: Route,
    params: dict[str, Any],
    *,
    since: DateLike,
    until: DateLike,
    lookback: float | timedelta = 0.0,
    date_types: Sequence[str] | None = None,
) -> ChangeRead:
    """Check a read of changes before its first request (`ValidationError` naming the problem)."""
    where = f"{route.method} {route.path}"
    changes = changes_of(route)
    first = _moment("since", since, where, end=False) - timedelta(seconds=_lookback(lookback, where))
    last = _moment("until", until, where, end=True)
    if last < first:
        raise ValidationError("until", "must not be before since (less the lookback)", where)
    taken = cursor_params(route)
    given = sorted(n for n in taken if params.get(n) is not None)
    if given:
        raise ValidationError(given[0], "is set by the read of changes from since/until; leave it out", where)
    params = dict(params)
    if params.get("fields") and route.primary_key:
        keep = [k for k in (route.primary_key, changes.field) if k]
        for key in keep:
            params["fields"] = with_key_field(params["fields"], key)
    return ChangeRead(route, first, last, _passes(route, changes, date_types, where), params)


def cursor_params(route: Route) -> list[str]:
    """The params a read of changes sets itself (the period, and the date type)."""
    changes = route.changes
    if changes is None:
        return []
    if changes.updated is not None:
        return list(changes.updated)
    dr = route.date_range
    return [n for n in (dr.start if dr else None, dr.end if dr else None, changes.date_type) if n]


def _passes(route: Route, changes: Changes, date_types: Sequence[str] | None, where: str) -> tuple[Pass, ...]:
    if changes.updated is not None:
        if date_types is not None:
            raise ValidationError("date_types", "applies only to routes read by date type (orders)", where)
        start, end = changes.updated
        windowed = attrs.evolve(route, date_range=DateRange(start, end))
        return (Pass(windowed, {}),)
    assert changes.date_type is not None
    if date_types is None:
        chosen: Sequence[str] = changes.date_types
    elif isinstance(date_types, str) or not isinstance(date_types, (list, tuple)):
        raise ValidationError("date_types", "must be a list of date types, e.g. ['pay_date']", where)
    else:
        chosen = list(dict.fromkeys(date_types))
    param = next(p for p in route.params if p.name == changes.date_type)
    unknown = [t for t in chosen if t not in param.enum]
    if unknown or not chosen:
        what = f"{unknown[0]!r} is not one" if unknown else "none given"
        raise ValidationError("date_types", f"{what}; choose from {', '.join(param.enum)}", where)
    return tuple(Pass(route, {changes.date_type: t}) for t in chosen)


def _lookback(value: Any, where: str) -> float:
    """Seconds of lookback: 0 or more (a number or a `timedelta`)."""
    seconds = value.total_seconds() if isinstance(value, timedelta) else value
    if seconds == 0 and not isinstance(seconds, bool):
        return 0.0
    return check_seconds("lookback", seconds, where)


def _moment(name: str, value: Any, where: str, *, end: bool) -> datetime:
    """A bound as an aware datetime; a whole day `until` means its last second."""
    if not isinstance(value, (date, datetime, str)) or isinstance(value, bool):
        raise ValidationError(name, "must be a date or datetime (or its ISO-8601 text)", where)
    try:
        moment, whole_day = korea_moment(value)
    except (ValueError, OverflowError):
        raise ValidationError(name, "must be a date (YYYY-MM-DD) or an ISO-8601 datetime", where) from None
    if whole_day and end:
        moment += timedelta(days=1, seconds=-1)
    return moment.astimezone(KST)


async def read_changes(
    requester: Requester,
    route: Route,
    args: Sequence[Any],
    params: dict[str, Any],
    *,
    since: DateLike,
    until: DateLike,
    lookback: float | timedelta = 0.0,
    date_types: Sequence[str] | None = None,
    timeout: float | None = None,
    concurrency: int | None = None,
) -> AsyncGenerator[Page, None]:
    """Yield pages of the records of `route` that changed in `[since - lookback, until]`,
    each record once (by the route's primary key). See the module docstring."""
    plan = plan_changes(route, params, since=since, until=until, lookback=lookback, date_types=date_types)
    where = f"{route.method} {route.path}"
    if timeout is not None:
        check_seconds("timeout", timeout, where)
    if concurrency is not None:
        check_count("concurrency", concurrency, where)
    seen = SeenKeys(route.primary_key)
    bounds = (render_datetime(plan.first), render_datetime(plan.last))
    for one in plan.passes:
        start, end = _bounds_names(one.route)
        query_params = {**plan.params, **one.params, start: bounds[0], end: bounds[1]}
        requester.prepare(one.route, args, dict(query_params), whole_range=True)  # checked before sending
        if one.route.pagination is None:  # a list the API answers whole (script tags)
            prepared = requester.prepare(one.route, args, query_params)
            records = await requester.execute(prepared, typed=False, timeout=timeout)
            fresh = seen.fresh(list(records or []))
            if fresh:
                yield Page(fresh, Cursor(window=bounds, seen=len(fresh)), len(fresh))
            continue
        query = ListQuery(requester, one.route, tuple(args), query_params, timeout)
        windows = _whole_period(query, bounds) if one.route.pagination.keyset else date_windows(query)
        async with contextlib.aclosing(windows):
            async for window, window_query, count in windows:
                pages = _window_pages(window, window_query, count, concurrency, seen)
                async with contextlib.aclosing(pages):
                    async for page in pages:
                        yield page


async def _whole_period(query: ListQuery, bounds: tuple[str, str]) -> AsyncGenerator[WindowItem, None]:
    """The period as one window: a route with a keyset goes past the offset cap with it,
    which costs no count or probe per window (products)."""
    yield bounds, query, None


def _bounds_names(route: Route) -> tuple[str, str]:
    assert route.date_range is not None  # every route with changes filters on a date pair
    return route.date_range.start, route.date_range.end


async def _window_pages(
    window: tuple[str, str] | None, query: ListQuery, count: int | None, concurrency: int | None,
    seen: SeenKeys,
) -> AsyncGenerator[Page, None]:
    """The pages of one window, read again while a read saw fewer records than its count."""
    for attempt in range(WINDOW_REREADS + 1):
        total = count if attempt == 0 else None  # a new count for each read again
        read = WindowRead(query, Cursor(window=window), concurrency)
        last_seen, expected = 0, total
        pages = read.pages(total)
        async with contextlib.aclosing(pages):
            async for page in pages:
                last_seen, expected = page.cursor.seen, page.expected
                fresh = seen.fresh(page.records)
                if fresh:
                    yield Page(fresh, page.cursor, page.expected)
        if expected is None or last_seen >= expected:
            return


class SeenKeys:
    """The primary keys yielded so far in one read of changes."""

    __slots__ = ("_keys", "key")

    def __init__(self, key: str | None) -> None:
        self.key = key
        self._keys: set[Any] = set()

    def fresh(self, records: list[Any]) -> list[Any]:
        """The records of `records` not yielded before (all of them when there is no key)."""
        if self.key is None:
            return records
        fresh = []
        for record in records:
            value = record.get(self.key) if isinstance(record, dict) else None
            if value is None:
                fresh.append(record)
                continue
            if value in self._keys:
                continue
            self._keys.add(value)
            fresh.append(record)
        return fresh


async def iterate_changes(
    requester: Requester,
    route: Route,
    args: Sequence[Any],
    params: dict[str, Any],
    *,
    since: DateLike,
    until: DateLike,
    lookback: float | timedelta = 0.0,
    date_types: Sequence[str] | None = None,
    structure: Callable[[Any], Any] | None = None,
    timeout: float | None = None,
    concurrency: int | None = None,
) -> AsyncIterator[Any]:
    """Yield every record of `route` that changed in the period, each once, passed
    through `structure` if given."""
    pages = read_changes(requester, route, args, params, since=since, until=until, lookback=lookback,
                         date_types=date_types, timeout=timeout, concurrency=concurrency)
    async with contextlib.aclosing(pages):
        async for page in pages:
            for record in page.records:
                yield structure(record) if structure is not None else record
