"""The planner: malls x resources x date windows, as a list of partitions to enqueue.

(`plan_sync` plans syncs: one partition per mall and resource, no windows.)

`plan` checks everything a partition's export will check (the resource, the
mall ids, each route's params and date rules) before a single task is sent, so
a typo fails here and not in a thousand tasks. The partitions come out
resource by resource, then mall by mall, then window by window: a queue runs
them in that order, and a mall's windows sit side by side, so they run at the
same time and share the mall's bucket and token (through Redis) instead of
meeting it twice.

Windows split `since..until` (days, both included) into pieces of
`window_days`; without it a resource gets one window. A resource read in date
windows anyway (orders: 3 months per request) is still one export per
partition: the window here is how work is spread over tasks, and how long one
task runs (keep a task well under the broker's visibility timeout). A
resource without a date range (reviews, categories) gets one partition per
mall that holds all its records, whatever `since` and `until` say.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from cafe24_async.celery.partition import EXTENSIONS, Partition
from cafe24_async.client import Cafe24
from cafe24_async.errors import ValidationError
from cafe24_async.export import ExportError, resolve_resource
from cafe24_async.export.arguments import plan_export, typed_params
from cafe24_async.paging import check_read

__all__ = ["plan", "plan_sync"]

DateLike = date | str


def plan(
    malls: Sequence[str],
    resources: Sequence[str],
    since: DateLike | None = None,
    until: DateLike | None = None,
    *,
    window_days: int | None = None,
    params: Mapping[str, Mapping[str, Any]] | None = None,
    format: str = "jsonl",
) -> list[Partition]:
    """Every partition of exporting `resources` from `malls`, within `since..until`.

    `params` holds list params per resource (`{"products": {"fields": [...]}}`);
    the date-range params come from the windows and may not be given there.
    Raises `ExportError` or `ValidationError` for anything an export would refuse.
    """
    malls = _names("malls", malls)
    resources = _names("resources", resources)
    first, last = _range(since, until)
    if window_days is not None and (isinstance(window_days, bool) or not isinstance(window_days, int)
                                    or window_days < 1):
        raise ValidationError("window_days", "must be None or a whole number of days, at least 1", "plan")
    params = _planned_params(params, resources, format)
    checker = Cafe24("plan-check")  # builds and checks requests; never sends one
    partitions: list[Partition] = []
    for resource in resources:
        route = resolve_resource(resource)
        extra = dict(params.get(resource) or {})
        dr = route.date_range
        if dr is not None and (dr.start in extra or dr.end in extra):
            raise ExportError(f"{resource}: {dr.start} and {dr.end} come from since and until, not params")
        windows: list[tuple[str | None, str | None]] = [(None, None)]
        if dr is not None and first is not None and last is not None:
            windows = _windows(first, last, window_days)
        for start, end in windows:  # the params of each window, checked once with the first mall
            sample = Partition(malls[0], resource, start, end, extra, format)
            sample.check()
            plan_export(checker, sample.spec(), f"check.{EXTENSIONS[format]}", restart=False,
                        concurrency=None, checkpoint_interval=1.0)
        for mall_id in malls:
            for start, end in windows:
                partition = Partition(mall_id, resource, start, end, extra, format)
                partition.check()
                partitions.append(partition)
    return partitions


def plan_sync(
    malls: Sequence[str],
    resources: Sequence[str],
    since: DateLike | None = None,
    *,
    params: Mapping[str, Mapping[str, Any]] | None = None,
    format: str = "jsonl",
) -> list[Partition]:
    """One sync partition per resource and mall: what changed since the mall's cursor.

    The cursors live beside the outputs (`sync-state/<mall_id>.json` under the
    workers' shared directory), so any worker moves them. `since` is where a
    mall's first sync starts (orders: placed since then; routes with an update
    time read everything when not given). Raises `ExportError` for a resource
    that cannot tell what changed, `ValidationError` for a bad param.
    """
    malls = _names("malls", malls)
    resources = _names("resources", resources)
    first = _day("since", since).isoformat() if since is not None else None
    params = _planned_params(params, resources, format)
    checker = Cafe24("plan-check")
    partitions: list[Partition] = []
    for resource in resources:
        route = resolve_resource(resource)
        extra = dict(params.get(resource) or {})
        Partition(malls[0], resource, first, None, extra, format, "sync").check()
        typed = typed_params(route, extra)
        check_read(checker.mall(malls[0]), route, (), typed, timeout=None, concurrency=None)
        for mall_id in malls:
            partition = Partition(mall_id, resource, first, None, extra, format, "sync")
            partition.check()
            partitions.append(partition)
    return partitions


def _names(what: str, values: Any) -> list[str]:
    if isinstance(values, str) or not isinstance(values, Sequence):
        raise ExportError(f"{what} must be a list of names, e.g. ['acme'], not {type(values).__name__}")
    if not values:
        raise ExportError(f"no {what} to plan")
    twice = sorted({v for v in values if values.count(v) > 1})
    if twice:
        raise ExportError(f"{what}: {twice[0]!r} is given more than once")
    return list(values)


def _range(since: DateLike | None, until: DateLike | None) -> tuple[date | None, date | None]:
    if (since is None) != (until is None):
        raise ExportError("give both since and until, or neither")
    if since is None or until is None:
        return None, None
    first, last = _day("since", since), _day("until", until)
    if first > last:
        raise ExportError(f"since ({first}) is after until ({last})")
    return first, last


def _day(name: str, value: DateLike) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise ValidationError(name, f"must be a date or YYYY-MM-DD text, not {value!r}", "plan")


def _windows(first: date, last: date, days: int | None) -> list[tuple[str | None, str | None]]:
    """`first..last` in pieces of `days` days (the last one shorter), as YYYY-MM-DD pairs."""
    if days is None:
        return [(first.isoformat(), last.isoformat())]
    windows: list[tuple[str | None, str | None]] = []
    start = first
    while start <= last:
        end = min(start + timedelta(days=days - 1), last)
        windows.append((start.isoformat(), end.isoformat()))
        start = end + timedelta(days=1)
    return windows


def _planned_params(params: Any, resources: Sequence[str], format: str) -> dict[str, Any]:
    """The per-resource params, each for a planned resource, and a known output format."""
    planned: dict[str, Any] = dict(params or {})
    unknown = sorted(set(planned) - set(resources))
    if unknown:
        raise ExportError(f"params given for resources not planned: {', '.join(unknown)}")
    if format not in EXTENSIONS:
        raise ExportError(f"unknown format {format!r}: use one of {', '.join(EXTENSIONS)}")
    return planned
