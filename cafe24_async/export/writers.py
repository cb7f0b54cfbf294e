"""Writing exported records: JSON Lines or CSV, to a file or standard output.

A file writer appends to the output and can say how many bytes are safely on
disk (`durable()` flushes and fsyncs). On resume the file is cut back to the
size the checkpoint recorded, so records written after the last checkpoint are
written once more, never twice.

CSV: the columns are fixed by the first page written (or by `fields=`), and
stay the same on resume. Nested values (lists, objects) are JSON-encoded in
their cell; keys that first appear later are kept, JSON-encoded together, in the
last column `_extra`, so nothing the server sent is dropped.
"""

from __future__ import annotations

import csv
import io
import json
import os
import sys
from pathlib import Path
from typing import IO, Any, Protocol

EXTRA_COLUMN = "_extra"


#: One encoder for every value (`json.dumps` with options builds a new one per call).
#: Exported values come from decoded JSON, which cannot hold a cycle: no cycle check.
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=str, check_circular=False)


def _json(value: Any) -> str:
    return _ENCODER.encode(value)


class RecordWriter(Protocol):
    def write(self, records: list[dict[str, Any]]) -> None: ...

    def durable(self) -> int:
        """Flush to disk; return the byte size that is safely written."""

    def close(self) -> None: ...

    @property
    def columns(self) -> list[str] | None: ...


def open_output(path: str, size: int) -> tuple[IO[bytes], bool]:
    """The output opened for appending after `size` bytes (cut back to it); (file, is_stdout)."""
    if path == "-":
        return sys.stdout.buffer, True
    target = Path(path)
    if target.parent and not target.parent.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
    fh = open(target, "r+b" if target.exists() else "w+b")  # noqa: SIM115 - owned by the writer
    fh.truncate(size)
    fh.seek(size)
    return fh, False


class _FileWriter:
    """What both formats share: the open output, durability, closing."""

    def __init__(self, fh: IO[bytes], to_stdout: bool) -> None:
        self._fh = fh
        self._stdout = to_stdout

    def durable(self) -> int:
        self._fh.flush()
        if self._stdout:
            return 0
        os.fsync(self._fh.fileno())
        return self._fh.tell()

    def close(self) -> None:
        self._fh.flush()
        if not self._stdout:
            self._fh.close()


class JsonlWriter(_FileWriter):
    @property
    def columns(self) -> list[str] | None:
        return None

    def write(self, records: list[dict[str, Any]]) -> None:
        if records:
            self._fh.write("".join(_json(r) + "\n" for r in records).encode("utf-8"))


class CsvWriter(_FileWriter):
    def __init__(self, fh: IO[bytes], to_stdout: bool, columns: list[str] | None) -> None:
        super().__init__(fh, to_stdout)
        self._columns = columns

    @property
    def columns(self) -> list[str] | None:
        return self._columns

    def _cell(self, value: Any) -> str:
        if value is None:
            return ""
        if isinstance(value, (dict, list)):
            return _json(value)
        return str(value)

    def write(self, records: list[dict[str, Any]]) -> None:
        if not records:
            return
        buffer = io.StringIO()
        out = csv.writer(buffer, lineterminator="\n")
        if self._columns is None:
            names: dict[str, None] = {}
            for record in records:
                names.update(dict.fromkeys(record))
            self._columns = [*names, EXTRA_COLUMN]
            out.writerow(self._columns)
        known = set(self._columns)
        for record in records:
            extra = {k: v for k, v in record.items() if k not in known}
            row = [self._cell(record.get(c)) for c in self._columns[:-1]]
            row.append(_json(extra) if extra else "")
            out.writerow(row)
        self._fh.write(buffer.getvalue().encode("utf-8"))


def make_writer(path: str, fmt: str, size: int, columns: list[str] | None) -> RecordWriter:
    fh, to_stdout = open_output(path, size)
    if fmt == "csv":
        return CsvWriter(fh, to_stdout, columns)
    return JsonlWriter(fh, to_stdout)


def format_for(path: str, explicit: str | None) -> str:
    if explicit:
        return explicit
    return "csv" if path.lower().endswith(".csv") else "jsonl"
