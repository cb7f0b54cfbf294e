"""A partition: the unit of work a task runs, one (mall, resource, window).

Two kinds (`mode`): an export reads every record of the window, exactly once;
a sync reads what changed since the mall's cursor (`cafe24_async.sync`), at
least once, and has no window (`since` is where a mall's first sync starts).

A partition is small enough to redo from its checkpoint and independent of
every other: two partitions never share a mall's records (different malls, or
date windows that do not overlap), so their outputs put together hold every
record once. It travels in a task's arguments as a plain dict of names and
dates (`to_dict`); credentials never do (a worker takes them from its own
settings, see `celery.settings`).

Its output has a fixed place under the workers' shared directory,
`<run>/<resource>/<mall_id>/<since>_<until>.jsonl` (`all.jsonl` without a
window, `changes.jsonl` for a sync), so whichever worker picks the task up finds the checkpoint an earlier
attempt left there.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import PurePosixPath
from typing import Any

import attrs

from cafe24_async.client import MALL_ID
from cafe24_async.export import ExportError, ExportSpec, resolve_resource
from cafe24_async.sync import SyncSpec

#: The formats a partition may be written in (what the export writes), and their file endings.
EXTENSIONS = {"jsonl": "jsonl", "csv": "csv", "excel": "csv"}
#: A run's name: it becomes a folder, so no separators and no dots at the start.
RUN_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}")
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_FIELDS = ("mall_id", "resource", "since", "until", "params", "format", "mode")
#: What a partition does: read the window whole, or what changed since the cursor.
MODES = ("export", "sync")


def check_run(run: Any) -> str:
    """`run` if it is a usable run name, else `ExportError` saying what a name may hold."""
    if not isinstance(run, str) or not RUN_NAME.fullmatch(run):
        raise ExportError(
            f"invalid run name {run!r}: up to 100 letters, digits, '_', '-' and '.', "
            "not starting with '.' or '-'"
        )
    return run


@attrs.frozen
class Partition:
    """One mall's records of one resource, within one date window (or all of them)."""

    mall_id: str
    #: An export resource name (`products`, `orders`, `analytics.visitors.view`...).
    resource: str
    #: First and last day of the window (`YYYY-MM-DD`, both included), or None: no window.
    since: str | None = None
    until: str | None = None
    #: Further list params (filters, `fields`, `embed`, `limit`), as JSON values.
    params: Mapping[str, Any] = attrs.field(factory=dict, hash=False)
    format: str = "jsonl"
    #: "export" (the window, exactly once) or "sync" (changes since the cursor, at least once).
    mode: str = "export"

    @property
    def window(self) -> str:
        """`2025-01-01_2025-06-30`, `all` for an export without a window, `changes` for a sync."""
        if self.mode == "sync":
            return "changes"
        return f"{self.since}_{self.until}" if self.since is not None else "all"

    @property
    def key(self) -> str:
        """`orders/acme/2025-01-01_2025-06-30`: unique within a run."""
        return f"{self.resource}/{self.mall_id}/{self.window}"

    def relpath(self, run: str) -> PurePosixPath:
        """Where the output goes, under the shared directory."""
        name = f"{self.window}.{EXTENSIONS[self.format]}"
        return PurePosixPath(check_run(run), self.resource, self.mall_id, name)

    def spec(self) -> ExportSpec:
        """The export this partition runs: the window becomes the route's date-range params."""
        if self.mode == "sync":
            raise ExportError(f"{self.key} is a sync, not an export")
        params = dict(self.params)
        if self.since is not None:
            dr = resolve_resource(self.resource).date_range
            if dr is None:
                raise ExportError(f"{self.resource} has no date range, so it cannot be read in a window")
            params[dr.start], params[dr.end] = self.since, self.until
        return ExportSpec(self.resource, (self.mall_id,), params, self.format)

    def sync_spec(self) -> SyncSpec:
        """The sync this partition runs."""
        return SyncSpec(self.resource, (self.mall_id,), dict(self.params), self.format)

    def to_dict(self) -> dict[str, Any]:
        """The partition as task arguments: names, dates and params only."""
        return {
            "mall_id": self.mall_id, "resource": self.resource, "since": self.since,
            "until": self.until, "params": dict(self.params), "format": self.format, "mode": self.mode,
        }

    @classmethod
    def from_dict(cls, data: Any) -> Partition:
        """A partition from task arguments; `ExportError` when they are not one."""
        fields = set(data) if isinstance(data, Mapping) else set()
        if not isinstance(data, Mapping) or fields - set(_FIELDS) or not {"mall_id", "resource"} <= fields:
            what = sorted(map(str, data)) if isinstance(data, Mapping) else type(data).__name__
            raise ExportError(f"not a partition: {what}")
        partition = cls(
            mall_id=data["mall_id"], resource=data["resource"], since=data.get("since"),
            until=data.get("until"), params=data.get("params") or {}, format=data.get("format") or "jsonl",
            mode=data.get("mode") or "export",
        )
        partition.check()
        return partition

    def check(self) -> None:
        """Refuse a partition whose fields are not of their kind (`ExportError`)."""
        if not isinstance(self.mall_id, str) or not MALL_ID.fullmatch(self.mall_id):
            raise ExportError(f"invalid mall id {self.mall_id!r}: lowercase letters, digits, '-' and '_'")
        route = resolve_resource(self.resource)
        if self.mode not in MODES:
            raise ExportError(f"unknown partition mode {self.mode!r}: use one of {', '.join(MODES)}")
        if self.mode == "sync":
            if self.until is not None:
                raise ExportError("a sync partition has no window: since (its first run's start) only")
            if route.changes is None:
                raise ExportError(f"{self.resource} cannot be synced: the API cannot tell what changed")
        elif (self.since is None) != (self.until is None):
            raise ExportError("a partition's window needs both since and until, or neither")
        for day in (self.since, self.until):
            if day is not None and (not isinstance(day, str) or not _DAY.fullmatch(day)):
                raise ExportError(f"a window's day must be YYYY-MM-DD text, not {day!r}")
        if not isinstance(self.params, Mapping) or not all(isinstance(k, str) for k in self.params):
            raise ExportError("a partition's params must map names to values")
        if self.format not in EXTENSIONS:
            raise ExportError(f"unknown format {self.format!r}: use one of {', '.join(EXTENSIONS)}")
