"""Continuing past the offset cap with a keyset parameter (`since_product_no`).

Offset paging stops at the documented cap. Where the route has a keyset, the
next segment asks for records after the highest key seen and starts at offset
0 again. Records at or below that floor are dropped, so a record is never
yielded twice even when the server's order shifts between segments.

Keyset continuation assumes the list is ordered by its key, ascending, which is
the server's default order for the routes that document a keyset.
"""

from __future__ import annotations

from typing import Any

from cafe24_async.routes.route import Pagination


def keyset_field(pagination: Pagination) -> str | None:
    """`since_product_no` -> `product_no`."""
    keyset = pagination.keyset
    return keyset.removeprefix("since_") if keyset else None


def with_key_field(fields: Any, key: str) -> list[str]:
    """`fields=` as a list that asks for the key the keyset continues from."""
    if isinstance(fields, str):
        names = fields.split(",")
    elif isinstance(fields, (list, tuple, set, frozenset)):
        names = list(fields)
    else:
        names = [fields]
    names = [str(n).strip() for n in names if str(n).strip()]
    return names if key in names else [*names, key]


class KeysetState:
    """The floor the current segment starts after, and the highest key seen in it."""

    __slots__ = ("floor", "highest", "key")

    def __init__(self, key: str | None, floor: Any, highest: Any) -> None:
        self.key = key
        self.floor = floor
        self.highest = highest if highest is not None else floor

    def fresh(self, page: list[Any]) -> list[Any]:
        """The records of `page` not yielded before; moves `highest` on."""
        key, floor = self.key, self.floor
        if key is None:
            return page
        fresh = []
        for record in page:
            value = record.get(key) if isinstance(record, dict) else None
            if floor is not None and value is not None and value <= floor:
                continue  # already yielded before the keyset moved on
            if value is not None and (self.highest is None or value > self.highest):
                self.highest = value
            fresh.append(record)
        return fresh

    def advance(self) -> bool:
        """Start the next segment after the highest key; False when that is no progress."""
        if self.highest is None or self.highest == self.floor:
            return False
        self.floor = self.highest
        return True
