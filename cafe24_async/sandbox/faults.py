"""Seeded fault injection for API routes.

A client's retry and recovery code is only tested if the server misbehaves in
the ways Cafe24 does: 5xx answers, dropped connections, cut-off bodies, slow
answers, 429s with or without `Retry-After`, and 200s that are not what the
route documents (no root key, a short page, a bad count, an HTML page). Each mall draws from its own
generator seeded with the fault seed and the mall id, exactly two numbers per
request, so a given sequence of requests to a mall always meets the same faults
whatever other malls are doing.
"""

from __future__ import annotations

import enum
import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import attrs

from cafe24_async.sandbox.config import FaultConfig


class FaultKind(enum.Enum):
    NONE = "none"
    ERROR = "error"
    DROP = "drop"
    TRUNCATE = "truncate"
    SLOW = "slow"
    THROTTLE = "throttle"
    MISSING_ROOT = "missing_root"
    SHORT_PAGE = "short_page"
    BAD_COUNT = "bad_count"
    HTML = "html"


@attrs.frozen(slots=True)
class Fault:
    kind: FaultKind
    #: HTTP status for ERROR faults, else 0.
    status: int = 0
    #: Which form a hostile answer takes (0-2), for the kinds that have several.
    variant: int = 0


NO_FAULT = Fault(FaultKind.NONE)


class FaultInjector:
    """Decides the fault, if any, of each API request to one mall."""

    __slots__ = ("_config", "_random")

    def __init__(self, config: FaultConfig, mall_id: str) -> None:
        self._config = config
        self._random = random.Random(f"{config.seed}:{mall_id}")

    def next(self) -> Fault:
        config = self._config
        if not config.enabled:
            return NO_FAULT
        draw = self._random.random()
        pick = self._random.random()
        threshold = config.error_rate
        if draw < threshold:
            statuses = config.error_statuses
            return Fault(FaultKind.ERROR, statuses[int(pick * len(statuses))])
        threshold += config.drop_rate
        if draw < threshold:
            return Fault(FaultKind.DROP)
        threshold += config.truncate_rate
        if draw < threshold:
            return Fault(FaultKind.TRUNCATE)
        threshold += config.slow_rate
        if draw < threshold:
            return Fault(FaultKind.SLOW)
        threshold += config.throttle_rate
        if draw < threshold:
            return Fault(FaultKind.THROTTLE, 429)
        for kind, rate in (
            (FaultKind.MISSING_ROOT, config.missing_root_rate),
            (FaultKind.SHORT_PAGE, config.short_page_rate),
            (FaultKind.BAD_COUNT, config.bad_count_rate),
            (FaultKind.HTML, config.html_rate),
        ):
            threshold += rate
            if draw < threshold:
                return Fault(kind, variant=int(pick * 3))
        return NO_FAULT


#: What a hostile answer puts where the documented root should be (by `Fault.variant`).
MISSING_ROOT_BODIES: tuple[dict[str, object], ...] = (
    {},
    {"items": []},
    {"result": "ok", "data": {"note": "unexpected shape"}},
)
#: Counts that are not a non-negative integer (by `Fault.variant`).
BAD_COUNTS: tuple[object, ...] = (-5, "many", 12.5)
HTML_PAGE = (
    b"<!DOCTYPE html><html><head><title>Service Unavailable</title></head>"
    b"<body><h1>The server is busy. Please try again later.</h1></body></html>"
)


def hostile_payload(fault: Fault, root: str | None, kind: str, payload: object) -> object | None:
    """The JSON a hostile 200 carries instead of `payload`, or None when the fault does
    not apply to this answer (a short page needs a list of two or more records, a bad
    count a count route)."""
    if fault.kind is FaultKind.MISSING_ROOT:
        return dict(MISSING_ROOT_BODIES[fault.variant])
    if not isinstance(payload, dict) or root is None:
        return None
    value = payload.get(root)
    if fault.kind is FaultKind.SHORT_PAGE and kind == "list" and isinstance(value, list) and len(value) > 1:
        return {**payload, root: value[: len(value) // 2]}
    if fault.kind is FaultKind.BAD_COUNT and kind == "count":
        return {**payload, root: BAD_COUNTS[fault.variant]}
    return None


#: Answers that may carry `Retry-After`.
RETRY_AFTER_STATUSES = frozenset({429, 503})


def retry_after_header(config: FaultConfig, status: int, now: datetime) -> str | None:
    """The `Retry-After` value for an answer of `status`, or None when none is sent."""
    seconds = config.retry_after
    if seconds is None or status not in RETRY_AFTER_STATUSES:
        return None
    if not config.retry_after_http_date:
        return f"{seconds:g}"
    when = now.astimezone(UTC) + timedelta(seconds=seconds)
    if when.microsecond:
        when = when.replace(microsecond=0) + timedelta(seconds=1)
    return format_datetime(when, usegmt=True)
