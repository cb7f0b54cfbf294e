"""Turning the values Cafe24 puts in a webhook into the types the event classes declare.

Cafe24's payloads are loose (see spec/webhooks.json, "notes"): the same field is an
integer in one event and a string in another, bulk events join ids with commas
(`"17652,17394"`, or `"a, b"` for members), dates come with and without an offset
and with `"0000-00-00"` for "not set", and a few samples are plainly malformed
(`"2019-01-01T12: 00: 00+09: 00"`). Each function here takes one raw value and
returns the normalised value, or raises `ValueError` naming what did not fit; the
parser then records the problem on the event and keeps the raw value in
`resource`, so nothing is ever lost.

Kinds (as the generated event classes name them):

- `str`: text; a number becomes its decimal text;
- `int`: an integer, or digits as text; `""` is None;
- `date`: `YYYY-MM-DD`; `""` and `0000-00-00` are None;
- `datetime`: ISO 8601, with or without seconds or an offset (no offset means
  Korea time); `""` and `0000-00-00 ...` are None; blanks after colons are
  removed first;
- `int_ids` / `str_ids`: a bulk id list, comma-joined text or a JSON list, as a
  tuple (`""` is the empty tuple);
- `int_list` / `str_list` / `object_list`: a JSON list, as a tuple;
- `object`: a JSON object, as a dict.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from cafe24_async.dates import in_korea

_UNSET_DATE = re.compile(r"^0000-00-00")
_COLON_BLANKS = re.compile(r"\s*:\s*")
_INTEGER = re.compile(r"^[+-]?\d+$")


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def to_str(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise ValueError(f"expected text, got {type(value).__name__}")


def to_int(value: Any) -> int | None:
    if _blank(value):
        return None
    if isinstance(value, bool):
        raise ValueError("expected an integer, got a boolean")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and _INTEGER.match(value.strip()):
        return int(value.strip())
    raise ValueError(f"expected an integer, got {_show(value)}")


def to_date(value: Any) -> date | None:
    if _blank(value):
        return None
    if not isinstance(value, str):
        raise ValueError(f"expected a date, got {type(value).__name__}")
    text = value.strip()
    if _UNSET_DATE.match(text):
        return None
    try:
        if len(text) == 10:
            return date.fromisoformat(text)
        return _datetime_text(text).date()
    except ValueError:
        raise ValueError(f"expected a date, got {_show(value)}") from None


def to_datetime(value: Any) -> datetime | None:
    if _blank(value):
        return None
    if not isinstance(value, str):
        raise ValueError(f"expected a date and time, got {type(value).__name__}")
    text = value.strip()
    if _UNSET_DATE.match(text):
        return None
    try:
        return _datetime_text(text)
    except ValueError:
        raise ValueError(f"expected a date and time, got {_show(value)}") from None


def _datetime_text(text: str) -> datetime:
    """ISO text as an aware datetime; blanks around colons dropped, no offset read as Korea time."""
    text = _COLON_BLANKS.sub(":", text)
    return in_korea(datetime.fromisoformat(text))


def _id_parts(value: Any) -> list[Any]:
    if _blank(value):
        return []
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, list | tuple):
        return list(value)
    return [value]


def to_int_ids(value: Any) -> tuple[int, ...]:
    ids = []
    for part in _id_parts(value):
        number = to_int(part)
        if number is None:
            raise ValueError(f"expected integer ids, got {_show(value)}")
        ids.append(number)
    return tuple(ids)


def to_str_ids(value: Any) -> tuple[str, ...]:
    ids = []
    for part in _id_parts(value):
        text = to_str(part)
        if text is None:
            raise ValueError(f"expected ids, got {_show(value)}")
        ids.append(text.strip())
    return tuple(ids)


def _list_of(item: Callable[[Any], Any]) -> Callable[[Any], tuple[Any, ...] | None]:
    def convert(value: Any) -> tuple[Any, ...] | None:
        if value is None:
            return None
        if not isinstance(value, list):
            raise ValueError(f"expected a list, got {type(value).__name__}")
        return tuple(item(v) for v in value)

    return convert


def _object_item(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValueError(f"expected an object, got {type(value).__name__}")
    return dict(value)


def to_object(value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    return _object_item(value)


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


#: Kind name (as the generated classes write it) -> converter.
CONVERTERS: dict[str, Callable[[Any], Any]] = {
    "str": to_str,
    "int": to_int,
    "date": to_date,
    "datetime": to_datetime,
    "int_ids": to_int_ids,
    "str_ids": to_str_ids,
    "int_list": _list_of(to_int),
    "str_list": _list_of(to_str),
    "object_list": _list_of(_object_item),
    "object": to_object,
}

#: What an unconvertible value of each kind becomes on the event (the raw value stays in `resource`).
EMPTY: dict[str, Any] = {"int_ids": (), "str_ids": ()}
