"""An indexed, ordered set of records that answers list, count and get quickly.

Records are kept sorted in the collection's default order with a dict index by
key, so a get is a dict lookup and an unfiltered list page is a slice. Keyset
continuation (`since_product_no`) and date windows on date-ordered collections
narrow the slice with a binary search; only field filters scan. A window on
another date field (`updated_date`, an order's `payment_date`) scans the
timestamps of that field, kept per record until it changes; `sort` orders the
matching records by a field before the page is cut.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

import attrs

from cafe24_async.sandbox.dates import KST
from cafe24_async.sandbox.encoding import dump_json

Record = dict[str, Any]


@attrs.define(slots=True)
class FieldFilter:
    """`field=a,b`: the record's value is one of the values (or, for names, contains one)."""

    field: str
    values: frozenset[str]
    contains: bool = False

    def matches(self, record: Mapping[str, Any]) -> bool:
        value = record.get(self.field)
        if value is None:
            return False
        text = str(value)
        if self.contains:
            lowered = text.lower()
            return any(v.lower() in lowered for v in self.values)
        return text in self.values


@attrs.define(slots=True)
class Selection:
    """Which records a list or count asks for."""

    #: Keyset continuation: only records whose key is greater than this.
    after_key: Any = None
    #: Only these keys (a comma list on the key field).
    keys: Sequence[Any] | None = None
    #: Inclusive POSIX-timestamp window on the collection's date field.
    date_from: float | None = None
    date_to: float | None = None
    filters: Sequence[FieldFilter] = ()
    offset: int = 0
    #: None means all.
    limit: int | None = None
    #: The field `date_from`/`date_to` apply to, when not the collection's date field.
    date_field: str | None = None
    #: Inclusive windows on other date fields: (field, from, to), None for an open end.
    windows: Sequence[tuple[str, float | None, float | None]] = ()
    #: Order the matching records by this field (then by key) instead of the default order.
    sort: str | None = None
    descending: bool = False


class Collection:
    """Records of one kind, e.g. the products of a mall."""

    def __init__(
        self,
        name: str,
        key: str,
        records: Sequence[Record],
        *,
        order: Callable[[Record], Any] | None = None,
        date_field: str | None = None,
        date_of: Callable[[Record], float] | None = None,
    ) -> None:
        self.name = name
        self.key = key
        self.date_field = date_field
        self._order = order or (lambda record: record[key])
        self._date_of = date_of
        #: True when the default order is the key itself (keyset continuation works).
        self.ordered_by_key = order is None
        self.records: list[Record] = sorted(records, key=self._order)
        self._order_values: list[Any] = [self._order(r) for r in self.records]
        self.index: dict[Any, Record] = {r[key]: r for r in self.records}
        self.key_type: type = type(self.records[0][key]) if self.records else int
        self.fields: set[str] = set()
        for record in self.records[:50]:
            self.fields.update(record)
        self._encoded: dict[Any, bytes] = {}
        self._timestamps: dict[Any, float] = {}
        if date_of is not None:
            self._timestamps = {r[key]: date_of(r) for r in self.records}
        #: True while the default order is also date order (date windows use bisect).
        self.date_sorted = False
        self._dates: list[float] = []
        #: Timestamps of other date fields, by field and key (made on first use).
        self._field_stamps: dict[str, dict[Any, float]] = {}

    def sort_by_date(self) -> None:
        """Declare that the default order is date order (orders)."""
        self.date_sorted = True
        self._dates = [self._timestamps[r[self.key]] for r in self.records]

    # -- lookups -------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.records)

    def get(self, key: Any) -> Record | None:
        return self.index.get(key)

    def encoded(self, record: Record) -> bytes:
        """The record as JSON, encoded once and kept until the record changes."""
        key = record[self.key]
        data = self._encoded.get(key)
        if data is None:
            data = dump_json(record)
            self._encoded[key] = data
        return data

    def coerce_key(self, raw: str) -> Any:
        """A key from its text form, or None when it cannot be one."""
        if self.key_type is int:
            try:
                return int(raw)
            except ValueError:
                return None
        return raw

    def next_key(self) -> int:
        """The next free integer key (max + 1)."""
        return (max(self.index) if self.index else 0) + 1

    # -- queries ---------------------------------------------------------------

    def stamps(self, field: str) -> dict[Any, float]:
        """POSIX timestamps of `field` by key, for the records where it holds a date."""
        found = self._field_stamps.get(field)
        if found is None:
            found = {}
            for record in self.records:
                stamp = _stamp(record.get(field))
                if stamp is not None:
                    found[record[self.key]] = stamp
            self._field_stamps[field] = found
        return found

    def _own_dates(self, selection: Selection) -> bool:
        """True when the main window is on the collection's own date field."""
        return selection.date_field is None or selection.date_field == self.date_field

    def _window(self, selection: Selection) -> tuple[int, int]:
        low, high = 0, len(self.records)
        if selection.after_key is not None and self.ordered_by_key:
            low = bisect.bisect_right(self._order_values, selection.after_key)
        if self.date_sorted and self._own_dates(selection):
            if selection.date_from is not None:
                low = max(low, bisect.bisect_left(self._dates, selection.date_from))
            if selection.date_to is not None:
                high = min(high, bisect.bisect_right(self._dates, selection.date_to))
        return low, high

    def _predicate(self, selection: Selection) -> Callable[[Record], bool] | None:
        checks: list[Callable[[Record], bool]] = [f.matches for f in selection.filters]
        if selection.after_key is not None and not self.ordered_by_key:
            after = selection.after_key
            checks.append(lambda r: r[self.key] > after)
        needs_dates = selection.date_from is not None or selection.date_to is not None
        windows = list(selection.windows)
        if needs_dates and not self._own_dates(selection):
            assert selection.date_field is not None
            windows.append((selection.date_field, selection.date_from, selection.date_to))
        for field, first, last in windows:
            checks.append(_within(self.stamps(field), self.key, first, last))
        if needs_dates and self._own_dates(selection) and not self.date_sorted and self._date_of is not None:
            low = selection.date_from if selection.date_from is not None else float("-inf")
            high = selection.date_to if selection.date_to is not None else float("inf")
            stamps = self._timestamps
            checks.append(lambda r: low <= stamps.get(r[self.key], low - 1) <= high)
        if not checks:
            return None
        if len(checks) == 1:
            return checks[0]
        return lambda r: all(check(r) for check in checks)

    def _candidates(self, selection: Selection) -> tuple[Iterator[Record] | None, int, int]:
        """Either an iterator over key-selected records or a window over `records`."""
        low, high = self._window(selection)
        if selection.keys is None:
            return None, low, high
        hits = [self.index[k] for k in dict.fromkeys(selection.keys) if k in self.index]
        hits.sort(key=self._order)
        if self.ordered_by_key and selection.after_key is not None:
            hits = [r for r in hits if r[self.key] > selection.after_key]
        if self.date_sorted and self._own_dates(selection):
            stamps = self._timestamps
            start = selection.date_from if selection.date_from is not None else float("-inf")
            end = selection.date_to if selection.date_to is not None else float("inf")
            hits = [r for r in hits if start <= stamps[r[self.key]] <= end]
        return iter(hits), 0, 0

    def page(self, selection: Selection) -> list[Record]:
        """The records of one list page, in default order (or by `selection.sort`)."""
        offset = selection.offset
        limit = selection.limit
        predicate = self._predicate(selection)
        iterator, low, high = self._candidates(selection)
        if selection.sort is not None:
            candidates = iterator if iterator is not None else iter(self.records[low:high])
            matching = [r for r in candidates if predicate is None or predicate(r)]
            matching.sort(key=_sorter(selection.sort, self.key), reverse=selection.descending)
            return matching[offset:] if limit is None else matching[offset:offset + limit]
        if iterator is None and predicate is None:
            start = low + offset
            stop = high if limit is None else min(high, start + limit)
            return self.records[start:stop] if start < stop else []
        source: Iterator[Record] = iterator if iterator is not None else iter(self.records[low:high])
        result: list[Record] = []
        skipped = 0
        for record in source:
            if predicate is not None and not predicate(record):
                continue
            if skipped < offset:
                skipped += 1
                continue
            result.append(record)
            if limit is not None and len(result) >= limit:
                break
        return result

    def count(self, selection: Selection) -> int:
        """How many records match, ignoring offset and limit."""
        predicate = self._predicate(selection)
        iterator, low, high = self._candidates(selection)
        if iterator is None and predicate is None:
            return max(0, high - low)
        source: Iterator[Record] = iterator if iterator is not None else iter(self.records[low:high])
        if predicate is None:
            return sum(1 for _ in source)
        return sum(1 for record in source if predicate(record))

    # -- changes ---------------------------------------------------------------

    def put(self, record: Record) -> None:
        """Insert or replace a record, keeping the default order."""
        key = record[self.key]
        if key in self.index:
            self.remove(key)
        self._encoded.pop(key, None)
        value = self._order(record)
        position = bisect.bisect_right(self._order_values, value)
        self.records.insert(position, record)
        self._order_values.insert(position, value)
        self.index[key] = record
        self.fields.update(record)
        if self._date_of is not None:
            self._timestamps[key] = self._date_of(record)
        for field, stamps in self._field_stamps.items():
            stamp = _stamp(record.get(field))
            if stamp is None:
                stamps.pop(key, None)
            else:
                stamps[key] = stamp
        self.date_sorted = False
        self._dates = []

    def remove(self, key: Any) -> Record | None:
        record = self.index.pop(key, None)
        self._encoded.pop(key, None)
        if record is None:
            return None
        value = self._order(record)
        position = bisect.bisect_left(self._order_values, value)
        while self.records[position] is not record:
            position += 1
        del self.records[position]
        del self._order_values[position]
        self._timestamps.pop(key, None)
        for stamps in self._field_stamps.values():
            stamps.pop(key, None)
        self.date_sorted = False
        self._dates = []
        return record


def _stamp(value: Any) -> float | None:
    """The POSIX timestamp of an ISO date or datetime text (None when it holds none)."""
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return (moment if moment.tzinfo is not None else moment.replace(tzinfo=KST)).timestamp()


def _within(stamps: Mapping[Any, float], key: str, first: float | None, last: float | None) -> Callable[
        [Record], bool]:
    low = first if first is not None else float("-inf")
    high = last if last is not None else float("inf")

    def check(record: Record) -> bool:
        stamp = stamps.get(record[key])
        return stamp is not None and low <= stamp <= high

    return check


def _sorter(field: str, key: str) -> Callable[[Record], tuple[bool, str, Any]]:
    """Sort by `field` (records without it last), then by key."""

    def sort_key(record: Record) -> tuple[bool, str, Any]:
        value = record.get(field)
        return (value is None, "" if value is None else str(value), record[key])

    return sort_key
