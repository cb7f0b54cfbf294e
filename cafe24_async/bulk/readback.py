"""Reading back the records rows wrote, and comparing them with what the rows sent.

Two things use it: settling an ambiguous call (was it applied?) and `verify`
(did the mall take what it accepted?). Both must wait out the staleness window
first (the live variant read is cached for about 5 s after a write), or a
record still shows its old values; that wait is the caller's (`bulk.apply`).

A row's record is read with the write route's read route (`WriteProfile.readback`):
one GET per record for a single-object route, one list per path (a product's
variants) for a bulk route, found by the item key. Values are compared as the
API writes them: numbers by value (`12`, `"12"` and `"12.00"` agree), the rest
as text. A field the record does not show cannot be compared; a row with none
to compare "cannot tell".
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

import attrs

from cafe24_async.bulk.plan import Row
from cafe24_async.bulk.profile import WriteProfile
from cafe24_async.errors import NotFoundError
from cafe24_async.fanout import fan_out

if TYPE_CHECKING:
    from cafe24_async.mall import Mall

#: Body fields that say where a write goes, not what it sets.
_ADDRESS = frozenset({"shop_no"})


@attrs.frozen
class Mismatch:
    field: str
    sent: Any
    shown: Any

    def text(self) -> str:
        return f"{self.field}: sent {self.sent!r}, the mall shows {self.shown!r}"


@attrs.frozen
class Check:
    """One row's record as read back, against what the row sent."""

    #: None when the record was not found.
    record: dict[str, Any] | None
    mismatches: tuple[Mismatch, ...] = ()
    #: Fields the record shows and were compared.
    compared: int = 0

    @property
    def matches(self) -> bool:
        """The record shows every field the row sent (and shows at least one)."""
        return self.record is not None and self.compared > 0 and not self.mismatches

    @property
    def differs(self) -> bool:
        """The record shows at least one field other than the row sent."""
        return self.record is not None and bool(self.mismatches)


def same(sent: Any, shown: Any) -> bool:
    """True when the mall shows the value that was sent."""
    if sent is None or shown is None:
        return sent is shown
    if isinstance(sent, bool) or isinstance(shown, bool):
        return _flag(sent) == _flag(shown)
    number_sent, number_shown = _number(sent), _number(shown)
    if number_sent is not None and number_shown is not None:
        return number_sent == number_shown
    return str(sent) == str(shown)


def _flag(value: Any) -> str:
    return ("T" if value else "F") if isinstance(value, bool) else str(value)


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, (int, float, str, Decimal)):
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def compare(profile: WriteProfile, row: Row, record: dict[str, Any] | None) -> Check:
    """`row` against its record (None: not found)."""
    if record is None:
        return Check(None)
    mismatches: list[Mismatch] = []
    compared = 0
    for name, sent in row.body.items():
        if name in _ADDRESS or name in profile.item_key or name not in record:
            continue
        compared += 1
        if not same(sent, record[name]):
            mismatches.append(Mismatch(name, sent, record[name]))
    return Check(record, tuple(mismatches), compared)


class Reader:
    """Reads the records of rows through a mall's request path (paced, retried like any read)."""

    def __init__(self, mall: Mall, profile: WriteProfile, concurrency: int = 4) -> None:
        self.mall = mall
        self.profile = profile
        self.concurrency = concurrency
        #: GET calls made.
        self.reads = 0

    @property
    def can_read(self) -> bool:
        return self.profile.readback is not None

    async def records(self, rows: Iterable[Row]) -> dict[int, dict[str, Any] | None]:
        """Each row's record (None: not found). Raises the library error of a read that failed."""
        groups: dict[tuple[str, ...], list[Row]] = {}
        listing = self.profile.readback_list
        for row in rows:
            groups.setdefault(row.group if listing else row.key, []).append(row)
        found: dict[int, dict[str, Any] | None] = {}
        async for outcome in fan_out(self._read, list(groups.values()), concurrency=self.concurrency):
            if outcome.error is not None:
                raise outcome.error
            found.update(outcome.value or {})
        return found

    async def checks(self, rows: Iterable[Row]) -> dict[int, Check]:
        listed = list(rows)
        records = await self.records(listed)
        return {row.index: compare(self.profile, row, records.get(row.index)) for row in listed}

    async def _read(self, rows: list[Row]) -> dict[int, dict[str, Any] | None]:
        route = self.profile.readback
        assert route is not None
        self.reads += 1
        try:
            value = await self.mall.execute(self.mall.prepare(route, (), dict(rows[0].path)))
        except NotFoundError:
            return dict.fromkeys((r.index for r in rows), None)
        if not self.profile.readback_list:
            record = value if isinstance(value, dict) else None
            return {row.index: record for row in rows}
        key = self.profile.item_key
        items = {
            tuple(str(item.get(k)) for k in key): item
            for item in (value if isinstance(value, list) else []) if isinstance(item, dict)
        }
        return {row.index: items.get(tuple(str(row.body.get(k)) for k in key)) for row in rows}
