"""One run per file: an exclusive lock, held for a whole run, that names its holder.

The export (per output), bulk writes (per journal) and others take the same kind
of lock: a non-blocking `flock` on a lock file beside the file they own, with the
holder's PID written in it. A second run finds the lock taken and stops at once,
naming that PID. The kernel releases the lock when the process ends in any way,
kill -9 included, so a stale lock file never blocks a later run.

The holder removes the lock file while still holding the lock; a run that opened
the old file in the meantime sees that the path no longer leads to the file it
locked (`still_at`) and tries again with the new one.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
from pathlib import Path
from types import TracebackType
from typing import Self


class PidLock:
    """`with Lock(...):` holds `path` for this run; subclasses say what a busy lock or a
    failing file system raises (`busy`, `failed`)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def busy(self, holder: int | None) -> Exception:
        """The error for a lock another process holds (`holder`: its PID, if written yet)."""
        return BlockingIOError(errno.EWOULDBLOCK, f"{self.path} is held by PID {holder}")

    def failed(self, error: OSError) -> Exception:
        """The error for a lock file that cannot be made or locked."""
        return error

    def __enter__(self) -> Self:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            while self._fd is None:
                self._fd = self._try_once()
        except OSError as exc:
            raise self.failed(exc) from exc
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
        """The locked file's descriptor, None when the file was replaced under us."""
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            holder = _holder(fd)
            os.close(fd)
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise self.busy(holder) from None
            raise
        if not still_at(fd, self.path):
            os.close(fd)
            return None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
        return fd


def _holder(fd: int) -> int | None:
    """The PID the holder wrote into the lock file, if it did yet."""
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
