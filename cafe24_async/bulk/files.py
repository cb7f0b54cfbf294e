"""The file handling a bulk write needs: one run per journal, durable appends, atomic results.

The applications may not import each other, so what the export also needs lives
below them:

- `JournalLock`: the shared one-run-per-file lock (`cafe24_async.pidlock`) on
  `JOURNAL.lock`; a second run stops at once (`JournalBusyError`);
- `still_at(fd, path)` (from `pidlock`): whether a path still names the file a
  run has open, so a journal deleted or replaced during a run stops it;
- `write_atomically`: a file written to a temporary name, fsynced, renamed over
  the old one, and the rename fsynced, so a reader sees the old file or the
  new one, never half of one.
"""

from __future__ import annotations

from pathlib import Path

from cafe24_async.bulk.errors import BulkOutputError, JournalBusyError
from cafe24_async.durable import fsync_folder, replace_file
from cafe24_async.pidlock import PidLock, still_at

__all__ = ["JournalLock", "fsync_folder", "still_at", "write_atomically"]


class JournalLock(PidLock):
    """`with JournalLock(journal):` holds the journal for this run, or raises `JournalBusyError`."""

    def __init__(self, journal: Path) -> None:
        super().__init__(Path(str(journal) + ".lock"))
        self.journal = journal

    def busy(self, holder: int | None) -> Exception:
        return JournalBusyError(self.journal, self.path, holder)

    def failed(self, error: OSError) -> Exception:
        return BulkOutputError(f"cannot lock {self.journal} ({self.path}): {error.strerror or error}")


def write_atomically(path: Path, data: bytes) -> None:
    """Replace `path` with `data`, durably (`BulkOutputError` if it cannot)."""
    try:
        replace_file(path, data)
    except OSError as exc:
        raise BulkOutputError(f"cannot write {path}: {exc.strerror or exc}") from exc
