"""Seeded fault injection for API routes.

A client's retry and recovery code is only tested if the server misbehaves in
the ways Cafe24 does: 5xx answers, dropped connections, cut-off bodies, slow
answers, 429s with or without `Retry-After`. Each mall draws from its own
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


@attrs.frozen(slots=True)
class Fault:
    kind: FaultKind
    #: HTTP status for ERROR faults, else 0.
    status: int = 0


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
        return NO_FAULT


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
