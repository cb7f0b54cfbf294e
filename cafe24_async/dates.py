"""Dates as Cafe24 writes them, in one place.

- Cafe24 works in Korea time: a date or time without an offset is Korea time
  (`in_korea`, `korea_moment`); every part of the library that reads one (call
  parameters, date windows, token expiry, typed records) asks here.
- Spans are stated in months (orders: "up to 3 months"), so a window's end is
  computed by calendar months, clamped to the last day of a shorter month.
"""

from __future__ import annotations

import calendar
from datetime import date, datetime, time

from cafe24_async.clock import KST


def add_months(moment: datetime, months: int) -> datetime:
    """`moment` moved by whole calendar months (Jan 31 + 1 month = Feb 28/29)."""
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def parse_date_text(text: str) -> date | datetime:
    """`YYYY-MM-DD` as a date, anything longer as an ISO-8601 datetime; ValueError otherwise."""
    return date.fromisoformat(text) if len(text) == 10 else datetime.fromisoformat(text)


def in_korea(moment: datetime) -> datetime:
    """`moment` made aware: a naive datetime is Korea time already (Cafe24's rule)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=KST)


def korea_moment(value: date | datetime | str) -> tuple[datetime, bool]:
    """A date, a datetime or its ISO text as an aware datetime in Korea time, and
    whether it named a whole day (`YYYY-MM-DD`, or a `date`). ValueError when the
    text is not a date."""
    if isinstance(value, datetime):
        return in_korea(value).astimezone(KST), False
    if isinstance(value, date):
        return datetime.combine(value, time(0, 0), KST), True
    parsed = parse_date_text(value)
    if isinstance(parsed, datetime):
        return in_korea(parsed).astimezone(KST), False
    return datetime.combine(parsed, time(0, 0), KST), True
