"""Deprecated import path: date windows now live in `cafe24_async.paging.windows`.

Kept for one release so existing imports (and the older call form, with a mall,
a route, args and params) keep working.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

from cafe24_async.paging.protocol import Requester
from cafe24_async.paging.query import ListQuery
from cafe24_async.paging.windows import Window, span_windows
from cafe24_async.paging.windows import date_windows as _date_windows
from cafe24_async.routes.route import Route


async def date_windows(
    mall: Requester,
    route: Route,
    args: Sequence[Any],
    params: dict[str, Any],
    *,
    timeout: float | None = None,
    resume_window: tuple[str, str] | None = None,
) -> AsyncIterator[tuple[tuple[str, str] | None, dict[str, Any], int | None]]:
    """Yield `(window, params, count or None)` for each window of the range."""
    query = ListQuery(mall, route, tuple(args), dict(params), timeout)
    async for window, window_query, count in _date_windows(query, resume_window):
        yield window, dict(window_query.params), count


__all__ = ["Window", "date_windows", "span_windows"]
