"""Date formats the Cafe24 docs use, and parsing of date query parameters.

Resources carry ISO timestamps with a +09:00 offset, token responses carry
Seoul local time without an offset and with milliseconds, and date filters
accept either a plain day (meaning the whole day in Seoul) or a full datetime.
"""

from __future__ import annotations

import calendar
import re
from datetime import date, datetime, time, timedelta, timezone

#: Asia/Seoul has no daylight saving time, so a fixed offset is exact.
KST = timezone(timedelta(hours=9), "KST")

_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_MONTH = re.compile(r"^\d{4}-\d{2}$")
_END_OF_DAY = time(23, 59, 59, 999_999)


def iso_kst(moment: datetime) -> str:
    """`2026-03-01T10:00:00+09:00`, the resource timestamp format."""
    return moment.astimezone(KST).isoformat(timespec="seconds")


def token_time(moment: datetime) -> str:
    """`2021-03-01T14:00:00.000`: Seoul local time, milliseconds, no offset."""
    local = moment.astimezone(KST)
    return f"{local:%Y-%m-%dT%H:%M:%S}.{local.microsecond // 1000:03d}"


def parse_bound(value: str, *, end: bool) -> datetime | None:
    """A date filter value as an aware datetime, or None when it is not a date.

    A day covers the whole Seoul day (`end` picks its last instant), a month
    (`2026-01`, used by monthly reports) the whole month; a datetime without an
    offset is taken as Seoul time.
    """
    value = value.strip()
    try:
        if _DAY.match(value):
            day = date.fromisoformat(value)
            return datetime.combine(day, _END_OF_DAY if end else time(), KST)
        if _MONTH.match(value):
            year, month = int(value[:4]), int(value[5:])
            if end:
                last = calendar.monthrange(year, month)[1]
                return datetime.combine(date(year, month, last), _END_OF_DAY, KST)
            return datetime(year, month, 1, tzinfo=KST)
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=KST)
    return moment


def add_months(day: date, months: int) -> date:
    """`day` moved by whole months, clamped to the end of a shorter month."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))
