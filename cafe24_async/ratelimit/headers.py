"""Reading the rate-limit headers the servers send."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from cafe24_async.transport import header_name

#: The Admin and Front APIs' bucket report, e.g. `3/40`.
CALL_LIMIT = header_name("X-Api-Call-Limit")


def parse_call_limit(value: str | None) -> tuple[int, int] | None:
    """`X-Api-Call-Limit: 3/40` -> (3, 40); None when absent or malformed."""
    if not value:
        return None
    used, sep, capacity = value.partition("/")
    try:
        u, c = int(used), int(capacity)  # int() allows the spaces around each number
    except ValueError:
        return None
    if not sep or c < 1 or u < 0:
        return None
    return u, c


def header_floats(headers: Mapping[str, str], names: Sequence[str]) -> list[float | None]:
    """Numeric headers in the order of `names` (a trailing `%` allowed): None for one
    absent or not a number. One pass for the several headers every answer is read for."""
    values: list[float | None] = []
    for name in names:
        raw = headers.get(name)
        if raw is not None:
            try:
                values.append(float(raw.strip().rstrip("%")))
                continue
            except ValueError:
                pass
        values.append(None)
    return values


def header_float(headers: Mapping[str, str], name: str) -> float | None:
    """A numeric header, or None when absent or not a number."""
    return header_floats(headers, (name,))[0]
