"""The state file of incremental syncs: up to when each (mall, resource) has been read.

One JSON file holds a cursor per mall and resource: the moment up to which
every change was read (the start of the run that read it). It is the whole
memory of a daily job, so it is handled with care:

- it is replaced atomically (a temporary file, fsynced, renamed over it, the
  folder fsynced), and only after the output it covers is durable: a run that
  dies at any point leaves the old cursors, and the next run reads that period
  again (delivery is at least once);
- a damaged file (not UTF-8, not JSON, not a state file, a cursor that is not
  a datetime) is refused with `StateError` naming it, never read as "no
  cursors", which would quietly start every mall over;
- a missing file has no cursors: each mall's next run is its first (a full read);
- updates are made under an exclusive lock on `STATE.lock`, reading the file
  again first, so runs of different resources sharing one state file keep
  each other's cursors; `run_lock` keeps a second run of the same resource
  (same state file) from starting while one is under way.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import attrs

from cafe24_async.dates import in_korea
from cafe24_async.durable import read_json, replace_file
from cafe24_async.export.errors import ExportError
from cafe24_async.export.lock import OutputLock
from cafe24_async.export.output import output_errors

FORMAT = "cafe24-async sync state"
VERSION = 1


class StateError(ExportError):
    """The state file is damaged (or cannot be read): nothing was read or written."""

    def __init__(self, path: Path, problem: str) -> None:
        self.path = path
        self.problem = problem
        super().__init__(
            f"the sync state {path} is damaged ({problem}); repair it, or move it away to read every "
            "mall in full again"
        )


@attrs.define
class Cursor:
    """Where one (mall, resource) stands: every change up to `read_until` has been read."""

    read_until: datetime
    #: Records the last run wrote, and when it ran (for people reading the file).
    records: int = 0
    last_run: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"read_until": self.read_until.isoformat(), "records": self.records, "last_run": self.last_run}


@attrs.define
class SyncState:
    """Every cursor of one state file: mall id -> resource -> cursor."""

    cursors: dict[str, dict[str, Cursor]] = attrs.field(factory=dict)

    def cursor(self, mall_id: str, resource: str) -> Cursor | None:
        return self.cursors.get(mall_id, {}).get(resource)

    def set(self, mall_id: str, resource: str, cursor: Cursor) -> None:
        self.cursors.setdefault(mall_id, {})[resource] = cursor

    def to_json(self) -> str:
        data = {
            "format": FORMAT,
            "version": VERSION,
            "cursors": {
                mall: {name: c.to_json() for name, c in sorted(by_resource.items())}
                for mall, by_resource in sorted(self.cursors.items())
            },
        }
        return json.dumps(data, ensure_ascii=False, indent=1) + "\n"

    @classmethod
    def load(cls, path: Path) -> SyncState:
        """The state at `path` (empty when there is none); `StateError` when damaged."""
        data = read_json(path, lambda problem: StateError(path, problem))
        return cls() if data is None else _parse(path, data)

    def save(self, path: Path) -> None:
        """Replace the file at `path` atomically and durably (`OutputError` if it cannot)."""
        atomic_write(path, self.to_json())


def _parse(path: Path, data: Any) -> SyncState:
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise StateError(path, f"not a {FORMAT} file")
    if data.get("version") != VERSION:
        raise StateError(path, f"version {data.get('version')!r}; this library reads version {VERSION}")
    cursors = data.get("cursors")
    if not isinstance(cursors, dict):
        raise StateError(path, "'cursors' is not an object")
    state = SyncState()
    for mall, by_resource in cursors.items():
        if not isinstance(by_resource, dict):
            raise StateError(path, f"the cursors of mall {mall!r} are not an object")
        for name, raw in by_resource.items():
            state.set(mall, name, _cursor(path, f"{mall}/{name}", raw))
    return state


def _cursor(path: Path, where: str, raw: Any) -> Cursor:
    if not isinstance(raw, dict) or not isinstance(raw.get("read_until"), str):
        raise StateError(path, f"the cursor {where} has no read_until")
    try:
        moment = in_korea(datetime.fromisoformat(raw["read_until"]))
    except ValueError:
        problem = f"the cursor {where} has read_until {raw['read_until']!r}, not a datetime"
        raise StateError(path, problem) from None
    records = raw.get("records", 0)
    last_run = raw.get("last_run")
    if isinstance(records, bool) or not isinstance(records, int) or records < 0:
        raise StateError(path, f"the cursor {where} has records {records!r}")
    if last_run is not None and not isinstance(last_run, str):
        raise StateError(path, f"the cursor {where} has last_run {last_run!r}")
    return Cursor(moment, records, last_run)


def atomic_write(path: Path, text: str) -> None:
    """`text` in place of `path`, all or nothing, durable once this returns."""
    with output_errors(f"the sync state {path}"):
        replace_file(path, text.encode("utf-8"))


@contextlib.contextmanager
def updating(path: Path) -> Iterator[SyncState]:
    """The state read afresh under the update lock; saved atomically when the block ends
    without an error. Waits for another run's update (a few milliseconds) to finish."""
    lock = path.with_name(path.name + ".lock")
    with output_errors(f"the sync state lock {lock}"):
        lock.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        with output_errors(f"the sync state lock {lock}"):
            fcntl.flock(fd, fcntl.LOCK_EX)
        state = SyncState.load(path)
        yield state
        state.save(path)
    finally:
        os.close(fd)  # releases the lock


def run_lock(path: Path, resource: str) -> OutputLock:
    """Held for a whole run of `resource` with this state file: a second such run stops
    at once (`OutputBusyError` naming the holder's PID)."""
    return OutputLock(f"{path}.{resource}")
