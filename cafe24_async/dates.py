"""Calendar arithmetic for date-ranged routes.

Cafe24 states spans in months (orders: "up to 3 months"), so a window's end is
computed by calendar months, clamped to the last day of a shorter month.
"""

from __future__ import annotations

import calendar
from datetime import date, datetime


def add_months(moment: datetime, months: int) -> datetime:
    """`moment` moved by whole calendar months (Jan 31 + 1 month = Feb 28/29)."""
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def parse_date_text(text: str) -> date | datetime:
    """`YYYY-MM-DD` as a date, anything longer as an ISO-8601 datetime; ValueError otherwise."""
    return date.fromisoformat(text) if len(text) == 10 else datetime.fromisoformat(text)
