"""The write journal: what was about to be sent, and what came of it, on disk first.

An append-only file of JSON lines, each with a checksum of itself:

    {"t": "job", "v": 1, "job": {...}}                 the job it belongs to (route, mall, rows' sha256)
    {"t": "send", "chunk": 7, "rows": [..], "fp": ..}  intent: written and fsynced BEFORE the call goes out
    {"t": "done", "chunk": 7, "rows": {"12": ["ok"], "13": ["retry", "503 ..."]}, "why": "answer"}

The "done" line is written and fsynced after the answer, or after an ambiguous
call was settled by re-reading the records (`"why": "reread"`). Row outcomes are
"ok", "failed", "unchanged", "unknown" (final) or "retry" (back to pending). So
after Ctrl-C, SIGTERM, a crash or kill -9 the journal says, for every row,
either what became of it, or that a call carrying it went out and its answer
was never recorded: such a row is ambiguous, and the next run re-reads its
record before it decides to send it again (`bulk.apply`). A row without any
line is pending. Nothing is applied twice, nothing is skipped.

The checksum tells a torn last line (the process died while writing it: it is
cut off, since its call had not gone out yet, or its answer is re-read) from a
damaged journal (a bad line before the last: `JournalError`). A journal of
another job, one deleted while its results file remains, or one deleted or
replaced during a run is a `JournalError` too: the run stops before it sends
anything more.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections import Counter
from pathlib import Path
from typing import Any, Literal

import attrs

from cafe24_async.bulk.errors import RESTART, BulkOutputError, JournalError
from cafe24_async.bulk.files import fsync_folder, still_at

VERSION = 1
Status = Literal["ok", "failed", "retry", "unknown", "unchanged"]
FINAL: frozenset[str] = frozenset({"ok", "failed", "unknown", "unchanged"})
STATUSES: frozenset[str] = FINAL | {"retry"}


@attrs.frozen
class Outcome:
    """What became of one row: final, or "retry" (send it again)."""

    status: Status
    error: str | None = None

    @property
    def final(self) -> bool:
        return self.status in FINAL

    def to_json(self) -> list[str]:
        return [self.status] if self.error is None else [self.status, self.error]


OK = Outcome("ok")


@attrs.define
class OpenChunk:
    """A call whose intent is in the journal and some of whose rows have no outcome yet."""

    number: int
    rows: set[int]
    fingerprint: str
    #: The call's rows in the order it carried them.
    order: list[int]


@attrs.define
class JournalState:
    """What an existing journal says (empty for a new one)."""

    job: dict[str, Any]
    outcomes: dict[int, Outcome] = attrs.field(factory=dict)
    #: Calls that carried each row.
    attempts: Counter[int] = attrs.field(factory=Counter)
    last_error: dict[int, str] = attrs.field(factory=dict)
    open: dict[int, OpenChunk] = attrs.field(factory=dict)
    last_chunk: int = 0
    #: True when the journal had lines beyond its header.
    resumed: bool = False

    def take(self, line: dict[str, Any]) -> None:
        """Replay one line."""
        kind = line["t"]
        if kind == "send":
            number, rows = line["chunk"], line["rows"]
            self.open[number] = OpenChunk(number, set(rows), line["fp"], list(rows))
            self.attempts.update(rows)
            self.last_chunk = max(self.last_chunk, number)
            return
        number = line.get("chunk")
        for key, (status, *error) in line["rows"].items():
            index = int(key)
            chunk = self.open.get(number) if isinstance(number, int) else None
            if chunk is not None:
                chunk.rows.discard(index)
                if not chunk.rows:
                    del self.open[chunk.number]
            if status in FINAL:
                self.outcomes[index] = Outcome(status, error[0] if error else None)
            else:
                self.outcomes.pop(index, None)
                if error:
                    self.last_error[index] = error[0]


def _seal(line: dict[str, Any]) -> bytes:
    text = json.dumps(line, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    check = hashlib.sha256(text.encode()).hexdigest()[:16]
    sealed = json.dumps({**line, "c": check}, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return sealed.encode() + b"\n"


def _unseal(raw: bytes) -> dict[str, Any] | None:
    """The line, or None when it is not one this journal wrote whole."""
    try:
        line = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    if not isinstance(line, dict) or not isinstance(line.get("c"), str):
        return None
    check = line.pop("c")
    text = json.dumps(line, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return line if hashlib.sha256(text.encode()).hexdigest()[:16] == check else None


def _well_formed(line: dict[str, Any]) -> bool:
    kind = line.get("t")
    if kind == "send":
        return (
            isinstance(line.get("chunk"), int) and isinstance(line.get("fp"), str)
            and isinstance(line.get("rows"), list) and all(isinstance(r, int) for r in line["rows"])
        )
    if kind == "done":
        rows = line.get("rows")
        return (
            (line.get("chunk") is None or isinstance(line.get("chunk"), int)) and isinstance(rows, dict)
            and all(
                k.isdigit() and isinstance(v, list) and 1 <= len(v) <= 2 and v[0] in STATUSES
                and all(isinstance(x, str) for x in v)
                for k, v in rows.items()
            )
        )
    return False


class Journal:
    """The journal of one run (in memory only when `path` is None)."""

    def __init__(self, path: Path | None, fd: int | None) -> None:
        self.path = path
        self._fd = fd
        #: Lines appended by this run.
        self.appended = 0

    @classmethod
    def memory(cls, job: dict[str, Any]) -> tuple[Journal, JournalState]:
        return cls(None, None), JournalState(job)

    @classmethod
    def open(
        cls, path: Path, job: dict[str, Any], *, restart: bool = False, results: Path | None = None
    ) -> tuple[Journal, JournalState]:
        """The journal at `path` for `job`: created, or read back and checked (see the module)."""
        try:
            if restart:
                path.unlink(missing_ok=True)
            exists = path.exists()
        except OSError as exc:
            raise BulkOutputError(f"cannot use the journal {path}: {exc.strerror or exc}") from exc
        if not exists and not restart and results is not None and results.exists():
            raise JournalError(
                path, f"is missing, but {results} holds the results of a run that used it: the rows that "
                f"run sent would be sent again; {RESTART}"
            )
        state = _read(path, job) if exists else None
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o644)
        except OSError as exc:
            raise BulkOutputError(f"cannot write the journal {path}: {exc.strerror or exc}") from exc
        journal = cls(path, fd)
        if state is None:
            state = JournalState(job)
            try:
                os.ftruncate(fd, 0)
                journal._write(_seal({"t": "job", "v": VERSION, "job": job}))
                fsync_folder(path.parent)
            except BaseException:
                journal.close()
                raise
        return journal, state

    def intent(self, number: int, rows: list[int], fingerprint: str) -> None:
        """Record, durably, that the call `number` carrying `rows` is about to go out."""
        self._append({"t": "send", "chunk": number, "rows": rows, "fp": fingerprint})

    def outcome(self, number: int | None, outcomes: dict[int, Outcome], why: str) -> None:
        """Record, durably, what became of rows (of call `number`, or of none)."""
        if outcomes:
            rows = {str(i): o.to_json() for i, o in sorted(outcomes.items())}
            self._append({"t": "done", "chunk": number, "rows": rows, "why": why})

    def close(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            with contextlib.suppress(OSError):
                os.close(fd)

    def _append(self, line: dict[str, Any]) -> None:
        if self.path is None:
            self.appended += 1
            return
        if self._fd is None:
            raise JournalError(self.path, "is closed")
        if not still_at(self._fd, self.path):
            raise JournalError(self.path, "was deleted or replaced during the run; nothing more is sent")
        self._write(_seal(line))
        self.appended += 1

    def _write(self, data: bytes) -> None:
        assert self._fd is not None and self.path is not None
        try:
            written = os.write(self._fd, data)
            if written != len(data):
                raise OSError(f"short write ({written} of {len(data)} bytes)")
            os.fsync(self._fd)
        except OSError as exc:
            raise BulkOutputError(f"cannot write the journal {self.path}: {exc.strerror or exc}") from exc


def _read(path: Path, job: dict[str, Any]) -> JournalState | None:
    """Replay the journal at `path` (None when it is empty: it never got its header)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise BulkOutputError(f"cannot read the journal {path}: {exc.strerror or exc}") from exc
    if not data:
        return None
    pieces = data.split(b"\n")
    whole, tail = pieces[:-1], pieces[-1]  # `tail` is what follows the last newline
    lines: list[dict[str, Any]] = []
    good_end = 0
    for number, raw in enumerate(whole, start=1):
        line = _unseal(raw)
        if line is None:
            if number == len(whole) and not tail:
                break  # the last line, torn or cut: its call never went out, or is re-read
            raise JournalError(path, f"is damaged at line {number}; {RESTART}")
        lines.append(line)
        good_end += len(raw) + 1
    if good_end != len(data):
        _cut(path, good_end)
    if not lines:
        return None
    header = lines[0]
    if header.get("t") != "job" or not isinstance(header.get("job"), dict):
        raise JournalError(path, f"does not start with its job, so it is not a journal; {RESTART}")
    if header.get("v") != VERSION:
        raise JournalError(path, f"is of version {header.get('v')!r}, this library writes {VERSION}")
    if header["job"] != job:
        theirs = header["job"]
        raise JournalError(
            path, f"belongs to another job ({theirs.get('route')} on mall {theirs.get('mall')!r}, "
            f"{theirs.get('rows')} rows, rows sha256 {str(theirs.get('sha256'))[:12]}...; this job: "
            f"{job['route']} on mall {job['mall']!r}, {job['rows']} rows, sha256 {job['sha256'][:12]}...); "
            f"{RESTART}"
        )
    state = JournalState(job, resumed=len(lines) > 1)
    for number, line in enumerate(lines[1:], start=2):
        if not _well_formed(line):
            raise JournalError(path, f"is damaged at line {number} (not a journal line); {RESTART}")
        state.take(line)
    return state


def _cut(path: Path, size: int) -> None:
    """Cut off a torn last line, so that appends go on from a whole line."""
    try:
        with open(path, "r+b") as fh:
            fh.truncate(size)
            fh.flush()
            os.fsync(fh.fileno())
    except OSError as exc:
        raise BulkOutputError(f"cannot repair the journal {path}: {exc.strerror or exc}") from exc
