"""Why an export refused to run or stopped, as library errors a caller can tell apart.

`ExportError` is bad input (a resource, mall list or checkpoint that does not fit
the call); `OutputError` is the output itself: it cannot be written, or another
run owns it. The CLI turns the first into exit code 2 and the second into 4.
"""

from __future__ import annotations

from pathlib import Path

from cafe24_async.errors import Cafe24Error

RESTART = "run again with --restart (restart=True) to start over"


class ExportError(Cafe24Error):
    """An export cannot run as asked (unknown resource, bad range, checkpoint mismatch)."""


class CheckpointError(ExportError):
    """The checkpoint beside the output is damaged: not JSON, or not a checkpoint."""

    def __init__(self, path: Path, problem: str) -> None:
        self.path = path
        self.problem = problem
        super().__init__(f"the checkpoint {path} is damaged ({problem}); {RESTART}")


class ResumeError(ExportError):
    """The checkpoint does not fit this export or its output (another job, a changed file)."""


class OutputError(ExportError):
    """The output (or its checkpoint or lock file) cannot be written."""


class OutputBusyError(OutputError):
    """Another export is writing the same output (it holds the lock file)."""

    def __init__(self, output: str, lock: Path, holder: int | None) -> None:
        self.output = output
        self.lock = lock
        self.holder = holder
        who = f"PID {holder}" if holder is not None else "its PID not yet written"
        super().__init__(
            f"{output} is being written by another export ({who}, holding {lock}); "
            "wait for it to finish or stop it, then run again"
        )
