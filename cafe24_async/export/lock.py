"""One export per output file: an exclusive lock held for the whole run.

Two exports to the same file would cut back and append to each other's bytes
and checkpoint. The run takes a non-blocking `flock` on `FILE.lock` beside the
output and writes its PID there; a second run finds the lock taken and stops at
once (`OutputBusyError`, naming that PID) before it reads or writes anything
else. The lock is released when the process ends in any way, kill -9 included,
so a stale lock file never blocks a later run.

The holder removes the lock file while still holding the lock; a run that
opened the old file in the meantime sees that the path no longer leads to the
file it locked and tries again with the new one.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
from pathlib import Path
from types import TracebackType

from cafe24_async.export.errors import OutputBusyError, OutputError


def lock_path(output: str) -> Path:
    return Path(output + ".lock")


class OutputLock:
    """`with OutputLock(output):` holds the output for this run, or raises `OutputBusyError`."""

    def __init__(self, output: str) -> None:
        self.output = output
        self.path = lock_path(output)
        self._fd: int | None = None

    def __enter__(self) -> OutputLock:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            while self._fd is None:
                self._fd = self._try_once()
        except OSError as exc:
            raise OutputError(f"cannot lock {self.output} ({self.path}): {exc.strerror or exc}") from exc
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
                raise OutputBusyError(self.output, self.path, holder) from None
            raise
        if not _still_at(fd, self.path):
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


def _still_at(fd: int, path: Path) -> bool:
    """True when `path` still names the file `fd` has open."""
    try:
        named = path.stat()
    except FileNotFoundError:
        return False
    mine = os.fstat(fd)
    return (named.st_dev, named.st_ino) == (mine.st_dev, mine.st_ino)
