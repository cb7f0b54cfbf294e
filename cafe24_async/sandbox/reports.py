"""GET handlers of the Analytics and D.Collection routes, over `sandbox.partner` data.

Both APIs page with `limit`/`offset` inside the documented bounds (the same
checks, and the same 422s, as the Admin routes; other required parameters are
the client's to check, as for the Admin routes). Analytics reports need a date
range and answer `analytics_rows` rows for it; D.Collection lists filter on any column they
hold (comma lists; names match by substring), on the creation date range and, where the
route documents them, on the update time (`updated_start_date`/`updated_end_date` on
`updated_date`, both ends included, as the Admin lists do). Before a D.Collection read the
changes due by now are made (`SandboxConfig.changes_per_minute`, `sandbox.drift`).
"""

from __future__ import annotations

from typing import Any

from cafe24_async.routes import Route
from cafe24_async.sandbox.collection import FieldFilter, Selection
from cafe24_async.sandbox.context import Handler, RequestContext
from cafe24_async.sandbox.drift import settle_partner
from cafe24_async.sandbox.encoding import wrap_list
from cafe24_async.sandbox.partner import analytics_columns, analytics_row, first_day
from cafe24_async.sandbox.validation import DATE_PAIRS, date_window, other_windows, page

#: Query names that never filter D.Collection rows.
_NOT_FILTERS = frozenset({"limit", "offset", "sort", "order", "fields"})


def _analytics(route: Route) -> Handler:
    root = route.response_root or "resources"
    columns = analytics_columns(route)

    def handle(ctx: RequestContext) -> tuple[int, Any]:
        paging = page(route, ctx.query)
        window = date_window(route, ctx.query)
        total = ctx.mall.config.analytics_rows
        start = paging.offset
        stop = total if paging.limit is None else min(total, start + paging.limit)
        first = first_day(window.start if window else None)
        last = first_day(window.end if window else None)
        days = max(1, (last - first).days + 1)
        mall_id = ctx.query.get("mall_id") or ctx.mall.mall_id
        rows = [analytics_row(mall_id, route, columns, i, first, days) for i in range(start, stop)]
        return 200, {root: rows}

    return handle


def _dcollection(route: Route) -> Handler:
    root = route.response_root or "resources"
    dates = route.date_range

    def selection(ctx: RequestContext, counting: bool) -> Selection:
        collection = ctx.mall.partner.collection(route)
        chosen = Selection()
        if not counting:
            paging = page(route, ctx.query)
            chosen.offset, chosen.limit = paging.offset, paging.limit
        window = date_window(route, ctx.query)
        if window is not None:
            chosen.date_from, chosen.date_to = window.start, window.end
        chosen.windows = other_windows(route, ctx.query)
        skip = set(_NOT_FILTERS)
        skip.update(name for pair in DATE_PAIRS for name in pair)
        if dates is not None:
            skip.update((dates.start, dates.end))
        filters = []
        for name, value in ctx.query.items():
            if name in skip or name not in collection.fields or not value:
                continue
            values = frozenset(v.strip() for v in value.split(",") if v.strip())
            filters.append(FieldFilter(name, values, contains=name.endswith("_name")))
        chosen.filters = filters
        return chosen

    def handle(ctx: RequestContext) -> tuple[int, Any]:
        settle_partner(ctx.mall.partner)  # the changes the partner's stores would have made by now
        collection = ctx.mall.partner.collection(route)
        if route.response_kind == "count":
            return 200, {"count": collection.count(selection(ctx, counting=True))}
        records = collection.page(selection(ctx, counting=False))
        return 200, wrap_list(root, [collection.encoded(r) for r in records])

    return handle


def bind_other(route: Route) -> Handler | None:
    """The handler of an Analytics or D.Collection GET route; None for other APIs."""
    if route.api == "analytics":
        return _analytics(route)
    if route.api == "dcollection":
        return _dcollection(route)
    return None
