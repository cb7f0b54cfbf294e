"""The file handling a bulk write needs: one run per journal, durable appends, atomic results.

These are the export's rules (`export.lock`, `export.checkpoint`), written again
here because the applications may not import each other:

- `JournalLock`: a non-blocking `flock` on `JOURNAL.lock` with the holder's PID
  in it, held for the whole run; a second run stops at once
  (`JournalBusyError`). The kernel releases it when the process ends in any
  way, kill -9 included, so a stale lock file never blocks a later run;
- `still_at(fd, path)`: whether a path still names the file a run has open, so
  a journal deleted or replaced during a run stops it before another write;
- `write_atomically`: a file written to a temporary name, fsynced, renamed over
  the old one, and the rename fsynced, so a reader sees the old file or the
  new one, never half of one.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import tempfile
from pathlib import Path
from types import TracebackType

from cafe24_async.bulk.errors import BulkOutputError, JournalBusyError


class JournalLock:
    """`with JournalLock(journal):` holds the journal for this run, or raises `JournalBusyError`."""

    def __init__(self, journal: Path) -> None:
        self.journal = journal
        self.path = Path(str(journal) + ".lock")
        self._fd: int | None = None

    def __enter__(self) -> JournalLock:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            while self._fd is None:
                self._fd = self._try_once()
        except OSError as exc:
            raise BulkOutputError(f"cannot lock {self.journal} ({self.path}): {exc.strerror or exc}") from exc
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        fd, self._fd = self._fd, None
        if fd is None:
            return
        with contextlib.suppress(OSError):
            self.path.unlink()  # still held: a waiting run sees the path changed
        os.close(fd)

    def _try_once(self) -> int | None:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            holder = _holder(fd)
            os.close(fd)
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise JournalBusyError(self.journal, self.path, holder) from None
            raise
        if not still_at(fd, self.path):
            os.close(fd)
            return None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
        return fd


def _holder(fd: int) -> int | None:
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def still_at(fd: int, path: Path) -> bool:
    """True when `path` still names the file `fd` has open."""
    try:
        named = path.stat()
    except FileNotFoundError:
        return False
    mine = os.fstat(fd)
    return (named.st_dev, named.st_ino) == (mine.st_dev, mine.st_ino)


def fsync_folder(folder: Path) -> None:
    """Make a file created or renamed in `folder` durable."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomically(path: Path, data: bytes) -> None:
    """Replace `path` with `data`, durably (`BulkOutputError` if it cannot)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        fsync_folder(path.parent)
    except OSError as exc:
        raise BulkOutputError(f"cannot write {path}: {exc.strerror or exc}") from exc
