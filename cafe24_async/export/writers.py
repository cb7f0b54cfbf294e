"""Writing exported records: JSON Lines or CSV, into an `Output` (a file or standard output).

A writer turns pages of records into bytes and appends them to the output, which
keeps the running size and sha256 a checkpoint records (`durable()`); see
`export.output` for how a resume checks and cuts back the file.

CSV: the columns are fixed by the first page written (or by `fields=`), and
stay the same on resume. Nested values (lists, objects) are JSON-encoded in
their cell; keys that first appear later are kept, JSON-encoded together, in the
last column `_extra`, so nothing the server sent is dropped.

CSV for Excel (format "excel", `--excel`): the same CSV, starting with a UTF-8
byte-order mark, which is how Excel knows the file is UTF-8 (without it Korean
text opens garbled). The mark is written once, before the header.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any, Protocol

from cafe24_async.export.output import FORMATS as FORMAT_NAMES
from cafe24_async.export.output import Mark, Output

FORMATS = tuple(FORMAT_NAMES)
#: What Excel looks for at the start of a CSV file to read it as UTF-8.
BOM = "\ufeff"
EXTRA_COLUMN = "_extra"


#: One encoder for every value (`json.dumps` with options builds a new one per call).
#: Exported values come from decoded JSON, which cannot hold a cycle: no cycle check.
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=str, check_circular=False)


def _json(value: Any) -> str:
    return _ENCODER.encode(value)


class RecordWriter(Protocol):
    def write(self, records: list[dict[str, Any]]) -> None: ...

    def durable(self) -> Mark:
        """Flush to disk; the mark (size, sha256) of what is safely written."""

    @property
    def healthy(self) -> bool:
        """False once a write failed: nothing more may be made durable."""

    def close(self) -> None: ...

    @property
    def columns(self) -> list[str] | None: ...


class _Writer:
    """What both formats share: the output, durability, closing."""

    def __init__(self, output: Output) -> None:
        self._out = output

    def durable(self) -> Mark:
        return self._out.durable()

    @property
    def healthy(self) -> bool:
        return self._out.healthy

    def close(self) -> None:
        self._out.close()


class JsonlWriter(_Writer):
    @property
    def columns(self) -> list[str] | None:
        return None

    def write(self, records: list[dict[str, Any]]) -> None:
        if records:
            self._out.write("".join(_json(r) + "\n" for r in records).encode("utf-8"))


class CsvWriter(_Writer):
    def __init__(self, output: Output, columns: list[str] | None, bom: bool = False) -> None:
        super().__init__(output)
        self._columns = columns
        self._bom = bom

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
            if self._bom:
                buffer.write(BOM)
            out.writerow(self._columns)
        known = set(self._columns)
        for record in records:
            extra = {k: v for k, v in record.items() if k not in known}
            row = [self._cell(record.get(c)) for c in self._columns[:-1]]
            row.append(_json(extra) if extra else "")
            out.writerow(row)
        self._out.write(buffer.getvalue().encode("utf-8"))


def make_writer(output: Output, fmt: str, columns: list[str] | None) -> RecordWriter:
    if fmt in ("csv", "excel"):
        return CsvWriter(output, columns, bom=fmt == "excel")
    return JsonlWriter(output)

