"""Where a paged read stands after one page, and the page itself.

A `Cursor` is small, plain data so an export can write it into its checkpoint
and resume exactly after the last page it made durable.
"""

from __future__ import annotations

from typing import Any

import attrs


@attrs.frozen(slots=True)
class Cursor:
    """Where a paged read stands, right after one page: enough to resume there.

    `window` is the date window being read (as sent), `floor` the keyset value
    the current segment starts after, `offset` the next offset to fetch,
    `highest` the largest key seen in the segment, `seen` the records yielded
    in the window so far (a planning hint for how many pages remain).
    """

    window: tuple[str, str] | None = None
    floor: Any = None
    offset: int = 0
    highest: Any = None
    seen: int = 0

    def to_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Cursor:
        window = data.get("window")
        return cls(
            window=(str(window[0]), str(window[1])) if window else None,
            floor=data.get("floor"),
            offset=int(data.get("offset") or 0),
            highest=data.get("highest"),
            seen=int(data.get("seen") or 0),
        )


@attrs.frozen(slots=True)
class Page:
    """Records of one page (already de-duplicated) and the cursor after it."""

    records: list[Any]
    cursor: Cursor
    #: Records the current window holds, from its count (None when unknown).
    expected: int | None = None
