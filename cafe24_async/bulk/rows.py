"""Rows from a CSV or JSON Lines file, their columns named as the route's parameters.

A column names a path parameter (`product_no`) or a body field (`quantity`) of
the write route; `mapping` renames columns whose header says something else
(`{"sku": "variant_code"}`), and `ignore` drops columns that are not for the
API (a note, a description). An empty CSV cell means "do not send this field".
CSV values are text; `bulk.plan` turns whole numbers into numbers where the
route's rules allow (a code such as `00012` stays text). JSON Lines values are
sent as they are.

Everything wrong with the file is collected and raised at once as a
`BulkInputError` naming each row, before anything is sent: a file that is not
UTF-8, a missing or repeated header, a row with more or fewer cells than the
header, a line that is not a JSON object.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Collection, Iterable, Mapping
from pathlib import Path
from typing import Any

import attrs

from cafe24_async.bulk.errors import BulkInputError

FORMATS = ("csv", "jsonl")


@attrs.frozen
class InputRows:
    """The rows of one input, values by parameter name."""

    rows: list[dict[str, Any]]
    #: Where each row starts in the file (line number, from 1); for rows given in
    #: Python, their position from 1.
    lines: list[int]
    #: True for CSV: every value is text.
    text_values: bool
    #: Where the rows came from, for messages.
    source: str = "rows"


def format_of(path: str | Path, explicit: str | None = None) -> str:
    if explicit:
        if explicit not in FORMATS:
            raise BulkInputError(f"the input format must be one of {', '.join(FORMATS)}, not {explicit!r}")
        return explicit
    name = str(path).lower()
    if name.endswith(".csv"):
        return "csv"
    if name.endswith((".jsonl", ".ndjson", ".json")):
        return "jsonl"
    raise BulkInputError(f"cannot tell the format of {path}: name it .csv or .jsonl (or pass the format)")


def read_rows(
    path: str | Path,
    mapping: Mapping[str, str] | None = None,
    ignore: Collection[str] = (),
    fmt: str | None = None,
) -> InputRows:
    """The rows of a CSV or JSON Lines file (`BulkInputError` for anything wrong with it)."""
    kind = format_of(path, fmt)
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise BulkInputError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BulkInputError(f"{path} is not UTF-8 text (byte {exc.start})") from None
    mapping = dict(mapping or {})
    if kind == "csv":
        return _csv(text, str(path), mapping, set(ignore))
    return _jsonl(text, str(path), mapping, set(ignore))


def given_rows(rows: Iterable[Mapping[str, Any]]) -> InputRows:
    """Rows given in Python (each a mapping of parameter name to value)."""
    listed: list[dict[str, Any]] = []
    problems: list[tuple[int, str]] = []
    for number, row in enumerate(rows, start=1):
        if not isinstance(row, Mapping):
            problems.append((number, f"is a {type(row).__name__}, not a mapping of names to values"))
            continue
        bad = [k for k in row if not isinstance(k, str)]
        if bad:
            problems.append((number, f"has a key that is not text: {bad[0]!r}"))
            continue
        listed.append({k: v for k, v in row.items() if v is not None})
    if problems:
        raise BulkInputError("some rows are not mappings", problems)
    return InputRows(listed, list(range(1, len(listed) + 1)), text_values=False)


def _names(header: list[str], source: str, mapping: dict[str, str], ignore: set[str]) -> list[str | None]:
    """Parameter name per column (None: ignored), or `BulkInputError`."""
    unknown = sorted((set(mapping) | ignore) - set(header))
    if unknown:
        raise BulkInputError(f"{source} has no column {', '.join(repr(c) for c in unknown)} "
                             f"(its columns: {', '.join(header)})")
    names = [None if column in ignore else mapping.get(column, column) for column in header]
    kept = [n for n in names if n is not None]
    twice = sorted({n for n in kept if kept.count(n) > 1})
    if twice:
        raise BulkInputError(f"{source}: more than one column gives {', '.join(twice)}")
    if any(not n for n in kept):
        raise BulkInputError(f"{source}: a column has no name")
    return names


def _csv(text: str, source: str, mapping: dict[str, str], ignore: set[str]) -> InputRows:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise BulkInputError(f"{source} is empty: it needs a header naming the columns") from None
    except csv.Error as exc:
        raise BulkInputError(f"{source}: the header is not CSV ({exc})") from None
    header = [h.strip() for h in header]
    names = _names(header, source, mapping, ignore)
    rows: list[dict[str, Any]] = []
    lines: list[int] = []
    problems: list[tuple[int, str]] = []
    start = reader.line_num + 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            problems.append((start, f"is not CSV ({exc})"))
            break
        line, start = start, reader.line_num + 1
        if not cells or all(not c.strip() for c in cells):
            continue  # a blank line
        if len(cells) != len(header):
            problems.append((line, f"has {len(cells)} cells, the header has {len(header)}"))
            continue
        rows.append({n: cell for n, cell in zip(names, cells, strict=True) if n is not None and cell != ""})
        lines.append(line)
    if problems:
        raise BulkInputError(f"{source} has rows that cannot be read", problems)
    return InputRows(rows, lines, text_values=True, source=source)


def _jsonl(text: str, source: str, mapping: dict[str, str], ignore: set[str]) -> InputRows:
    rows: list[dict[str, Any]] = []
    lines: list[int] = []
    problems: list[tuple[int, str]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except (ValueError, RecursionError):
            problems.append((number, "is not JSON"))
            continue
        if not isinstance(value, dict):
            problems.append((number, f"is a JSON {type(value).__name__}, not an object"))
            continue
        row: dict[str, Any] = {}
        for key, item in value.items():
            if key in ignore or item is None:
                continue
            name = mapping[key] if key in mapping else str(key)
            if name in row:
                problems.append((number, f"gives {name} twice (as {key!r} and another key)"))
                break
            row[name] = item
        rows.append(row)
        lines.append(number)
    if problems:
        raise BulkInputError(f"{source} has rows that cannot be read", problems)
    return InputRows(rows, lines, text_values=False, source=source)
