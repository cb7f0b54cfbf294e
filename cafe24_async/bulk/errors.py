"""Why a bulk write refused to start or stopped, as library errors a caller can tell apart.

`BulkInputError` is bad input (a route that is not a write, a missing column, rows
that break the route's rules): nothing was sent. `JournalError` is a journal that
cannot be trusted (damaged, of another job, gone while its results remain): nothing
more is sent until a person decides. `BulkOutputError` is a file that cannot be
written, or a journal another run holds. The CLI turns the first two into exit
code 2 and the last into 4.
"""

from __future__ import annotations

from pathlib import Path

from cafe24_async.errors import Cafe24Error

RESTART = (
    "run again with --restart (restart=True) to start over: rows the mall already took "
    "may then be sent again"
)


class BulkError(Cafe24Error):
    """A bulk write cannot run as asked."""


class BulkInputError(BulkError):
    """The route, the columns or some rows are not fit to send; nothing was sent.

    `problems` holds (row number, message) for rows that break a rule (row numbers
    count from 1, as a person reads the file).
    """

    def __init__(self, message: str, problems: list[tuple[int, str]] | None = None) -> None:
        self.problems = problems or []
        shown = "; ".join(f"row {row}: {text}" for row, text in self.problems[:5])
        more = f" (and {len(self.problems) - 5} more)" if len(self.problems) > 5 else ""
        super().__init__(f"{message}: {shown}{more}" if shown else message)


class JournalError(BulkError):
    """The journal cannot be trusted: damaged, of another job, or gone."""

    def __init__(self, path: Path | str, problem: str) -> None:
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"the journal {path} {problem}")


class BulkOutputError(BulkError):
    """The journal, its lock or the results file cannot be written."""


class JournalBusyError(BulkOutputError):
    """Another run is writing with the same journal (it holds the lock file)."""

    def __init__(self, journal: Path | str, lock: Path, holder: int | None) -> None:
        self.journal = Path(journal)
        self.lock = lock
        self.holder = holder
        who = f"PID {holder}" if holder is not None else "its PID not yet written"
        super().__init__(
            f"{journal} is in use by another run ({who}, holding {lock}); wait for it to finish "
            "or stop it, then run again"
        )
