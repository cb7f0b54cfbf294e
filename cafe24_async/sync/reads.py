"""How one mall is read in an incremental run: everything, or what changed since its cursor.

Shared by the sync command (`sync.job`) and the dlt source (`cafe24_async.dlt`), so
both read a mall the same way:

- **a first run** (no cursor yet, or asked to read in full): a route with an
  update-time filter is read whole (or, given `since`, by what changed since
  then); a route read by date type needs `since` and reads every record
  created since then, by the first of its date types (the one every record
  has: orders by order date), up to the run's start;
- **a later run**: what changed from the cursor, less the lookback, to the
  run's start (`paging.changes`), each record once.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import attrs

from cafe24_async.dates import korea_moment
from cafe24_async.export.errors import ExportError
from cafe24_async.paging import Page, check_read, read_pages
from cafe24_async.paging.changes import changes_of, plan_changes, read_changes
from cafe24_async.paging.cursor import Cursor as PageCursor
from cafe24_async.routes.route import Route

if TYPE_CHECKING:
    from cafe24_async.mall import Mall


@attrs.frozen
class MallRead:
    """How one mall is read in this run."""

    mall: Mall
    #: The start of the period (before the lookback); None for a read of everything.
    since: datetime | date | str | None
    #: True when the mall had no cursor (or was asked to read in full).
    first: bool
    date_types: tuple[str, ...] | None
    #: The end of the period: the run's start.
    until: datetime
    #: Seconds read again before `since` (0 on a first run).
    lookback: float

    @property
    def read_from(self) -> datetime | None:
        """Where the period starts, lookback included (None: everything)."""
        if self.since is None:
            return None
        return korea_moment(self.since)[0] - timedelta(seconds=self.lookback)


def plan_read(
    route: Route, mall: Mall, read_until: datetime | None, *, since: datetime | date | str | None,
    date_types: Sequence[str] | None, full: bool, until: datetime, lookback: float | timedelta,
) -> MallRead:
    """How `mall` is read, from its cursor (`read_until`, None when it has none)."""
    changes = changes_of(route)
    seconds = lookback.total_seconds() if isinstance(lookback, timedelta) else float(lookback)
    if read_until is not None and not full:
        chosen = tuple(date_types) if date_types is not None else None
        return MallRead(mall, read_until, False, chosen, until, seconds)
    if changes.updated is not None:
        return MallRead(mall, since, True, None, until, 0.0)
    if since is None:
        raise ExportError(
            f"mall {mall.mall_id!r} has no cursor for {route.qualified_name.removesuffix('.list')} yet: its "
            "first run reads every record created since a date; pass since (--since YYYY-MM-DD)"
        )
    return MallRead(mall, since, True, changes.date_types[:1], until, 0.0)


def check_plan(route: Route, read: MallRead, params: dict[str, Any]) -> None:
    """Refuse a mall's read with bad arguments before its first request."""
    if read.since is None and route.pagination is None:
        read.mall.prepare(route, (), dict(params))
    elif read.since is None:
        check_read(read.mall, route, (), params, timeout=None, concurrency=None)
    else:
        plan_changes(route, params, since=read.since, until=read.until, lookback=read.lookback,
                     date_types=read.date_types)


def read_mall(
    route: Route, read: MallRead, params: dict[str, Any], concurrency: int | None = None
) -> AsyncIterator[Page]:
    """The pages of one mall's read (records without `mall_id`; the caller adds it)."""
    if read.since is None and route.pagination is None:
        return _whole(route, read.mall, params)
    if read.since is None:
        return read_pages(read.mall, route, (), dict(params), concurrency=concurrency)
    return read_changes(
        read.mall, route, (), dict(params), since=read.since, until=read.until, lookback=read.lookback,
        date_types=read.date_types, concurrency=concurrency,
    )


async def _whole(route: Route, mall: Mall, params: dict[str, Any]) -> AsyncIterator[Page]:
    """A list the API answers whole, in one call (script tags)."""
    records = await mall.execute(mall.prepare(route, (), dict(params)), typed=False)
    yield Page(list(records or []), PageCursor())
