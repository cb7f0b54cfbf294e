"""Reading the rate-limit headers the servers send."""

from __future__ import annotations

from collections.abc import Mapping


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


def header_float(headers: Mapping[str, str], name: str) -> float | None:
    """A numeric header, or None when absent or not a number."""
    raw = headers.get(name)
    if raw is None:
        return None
    try:
        return float(raw.strip().rstrip("%"))
    except ValueError:
        return None
