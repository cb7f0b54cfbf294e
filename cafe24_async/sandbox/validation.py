"""Checks of list and count query parameters against the route table (the 422s).

`limit` must lie within the route's documented bounds, `offset` may not pass the
documented cap, a required date pair must be present and a date span may not
exceed the documented months. Messages name the parameter, e.g.
`offset: must be at most 5000`. Besides the route's own date range, a route may
document filters on another date of its records (`updated_start_date` /
`updated_end_date` on `updated_date`): `other_windows` checks those the same way
and names the record field each one filters on.
"""

from __future__ import annotations

from collections.abc import Mapping

import attrs

from cafe24_async.routes import DateRange, Route
from cafe24_async.sandbox.dates import KST, add_months, parse_bound
from cafe24_async.sandbox.errors import ApiError

DEFAULT_LIMIT = 10

#: Filter pairs on a record's date field other than the route's own date range.
DATE_PAIRS = {("updated_start_date", "updated_end_date"): "updated_date"}
#: An inclusive window on one date field of the records: (field, start, end), None for an open end.
FieldWindow = tuple[str, float | None, float | None]


@attrs.frozen(slots=True)
class Page:
    offset: int
    #: None: everything (routes the docs give no paging for).
    limit: int | None


@attrs.frozen(slots=True)
class DateWindow:
    #: Inclusive POSIX timestamps; None for an open end.
    start: float | None
    end: float | None


def _integer(name: str, raw: str) -> int:
    try:
        return int(raw)
    except ValueError:
        raise ApiError(422, f"{name}: must be an integer") from None


def page(route: Route, query: Mapping[str, str], caps: Mapping[str, int] | None = None) -> Page:
    """The offset and limit a list request asks for. `caps` holds offset caps the live
    server keeps lower than the documented ones, by route path."""
    paging = route.pagination
    raw_limit = query.get("limit")
    raw_offset = query.get("offset")
    if paging is None:
        limit = _integer("limit", raw_limit) if raw_limit else None
        offset = _integer("offset", raw_offset) if raw_offset else 0
        if limit is not None and limit < 1:
            raise ApiError(422, "limit: must be at least 1")
        if offset < 0:
            raise ApiError(422, "offset: must be at least 0")
        return Page(offset, limit)
    if raw_limit:
        limit = _integer("limit", raw_limit)
        if limit > paging.limit_max:
            raise ApiError(422, f"limit: must be at most {paging.limit_max}")
        if limit < paging.limit_min:
            raise ApiError(422, f"limit: must be at least {paging.limit_min}")
    else:
        limit = paging.limit_default or DEFAULT_LIMIT
    offset = 0
    if raw_offset and paging.has_offset:
        offset = _integer("offset", raw_offset)
        if offset < 0:
            raise ApiError(422, "offset: must be at least 0")
        cap = paging.offset_max
        if caps and route.path in caps:
            cap = caps[route.path] if cap is None else min(cap, caps[route.path])
        if cap is not None and offset > cap:
            raise ApiError(422, f"offset: must be at most {cap}")
    return Page(offset, limit)


def date_window(route: Route, query: Mapping[str, str]) -> DateWindow | None:
    """The route's date filter, validated; None when the route has none or none was sent."""
    spec = route.date_range
    if spec is None:
        return None
    raw_start = query.get(spec.start)
    raw_end = query.get(spec.end)
    if spec.required:
        for name, raw in ((spec.start, raw_start), (spec.end, raw_end)):
            if not raw:
                raise ApiError(422, f"{name}: is required")
    if not raw_start and not raw_end:
        return None
    start = parse_bound(raw_start, end=False) if raw_start else None
    end = parse_bound(raw_end, end=True) if raw_end else None
    if raw_start and start is None:
        raise ApiError(422, f"{spec.start}: must be a date (YYYY-MM-DD) or a datetime")
    if raw_end and end is None:
        raise ApiError(422, f"{spec.end}: must be a date (YYYY-MM-DD) or a datetime")
    if start is not None and end is not None:
        if end < start:
            raise ApiError(422, f"{spec.end}: must not be before {spec.start}")
        months = spec.max_span_months
        if months is not None:
            last_day = add_months(start.astimezone(KST).date(), months)
            if end.astimezone(KST).date() > last_day:
                raise ApiError(
                    422,
                    f"{spec.end}: the period may span at most {months} months from {spec.start}",
                )
    return DateWindow(
        start.timestamp() if start is not None else None,
        end.timestamp() if end is not None else None,
    )


def other_windows(route: Route, query: Mapping[str, str]) -> list[FieldWindow]:
    """Windows on the other date fields the route documents a filter pair for (`DATE_PAIRS`),
    checked as its own date range is; a pair that was not sent adds none."""
    names = {p.name for p in route.params}
    windows = []
    for (start, end), field in DATE_PAIRS.items():
        if start in names and end in names and (query.get(start) or query.get(end)):
            window = date_window(attrs.evolve(route, date_range=DateRange(start, end)), query)
            if window is not None:
                windows.append((field, window.start, window.end))
    return windows
