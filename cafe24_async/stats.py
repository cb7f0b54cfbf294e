"""Counters kept per mall, readable from the client at any time.

They answer the questions an operator asks of a long export: how many calls,
how many were throttled or retried, how long we waited for the bucket, how full
it is now.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import attrs


@attrs.define(slots=True)
class MallStats:
    mall_id: str
    #: Requests put on the wire (each retry counts again).
    requests: int = 0
    #: Responses by HTTP status.
    statuses: Counter[int] = attrs.field(factory=Counter)
    #: Requests by route (`admin.products.list`), retries included.
    by_route: Counter[str] = attrs.field(factory=Counter)
    retries: int = 0
    throttled: int = 0
    refreshes: int = 0
    connection_errors: int = 0
    #: Seconds spent waiting for room in the bucket (summed over tasks).
    bucket_wait_seconds: float = 0.0
    #: Seconds spent paused because a usage quota was exhausted.
    paused_seconds: float = 0.0
    #: Latest figures reported by the server.
    server_level: int | None = None
    server_capacity: int | None = None
    #: This client's own estimate of the Admin/Front bucket level, in calls
    #: (leaked up to the moment `Cafe24.stats()` was called; None before any call).
    bucket_level: float | None = None
    call_usage: float | None = None
    time_usage: float | None = None

    def as_dict(self) -> dict[str, Any]:
        data = attrs.asdict(self)
        data["statuses"] = dict(self.statuses)
        data["by_route"] = dict(self.by_route)
        return data
