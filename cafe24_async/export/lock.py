"""One export per output file: an exclusive lock held for the whole run.

Two exports to the same file would cut back and append to each other's bytes
and checkpoint. The run takes a non-blocking `flock` on `FILE.lock` beside the
output and writes its PID there; a second run finds the lock taken and stops at
once (`OutputBusyError`, naming that PID) before it reads or writes anything
else. The lock is released when the process ends in any way, kill -9 included,
so a stale lock file never blocks a later run.

The lock itself is `cafe24_async.pidlock.PidLock`, shared with bulk writes.
"""

from __future__ import annotations

from pathlib import Path

from cafe24_async.export.errors import OutputBusyError, OutputError
from cafe24_async.pidlock import PidLock


def lock_path(output: str) -> Path:
    return Path(output + ".lock")


class OutputLock(PidLock):
    """`with OutputLock(output):` holds the output for this run, or raises `OutputBusyError`."""

    def __init__(self, output: str) -> None:
        super().__init__(lock_path(output))
        self.output = output

    def busy(self, holder: int | None) -> Exception:
        return OutputBusyError(self.output, self.path, holder)

    def failed(self, error: OSError) -> Exception:
        return OutputError(f"cannot lock {self.output} ({self.path}): {error.strerror or error}")
