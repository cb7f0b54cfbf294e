"""Counters kept per mall, readable from the client at any time (`mall.stats`).

They answer the questions an operator asks of a long export: how many calls,
how many were throttled or retried, how long calls waited for the bucket, how
full it is now.

Two figures are easy to confuse, so both are kept and named for what they are:

- `bucket_wait_wall_seconds`: wall-clock time during which at least one call
  was waiting for the bucket (at most the run's length);
- `bucket_wait_task_seconds`: the waits of every call added up (ten calls
  waiting one second together add ten).

`bucket_level` is read from the mall's Admin/Front limiter when asked, so
`mall.stats.bucket_level` and `mall.bucket_level` are the same figure.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import attrs


@attrs.define(slots=True, repr=False)
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
    #: Seconds calls spent waiting for room in a limiter, every call's wait added up.
    bucket_wait_task_seconds: float = 0.0
    #: Wall-clock seconds during which at least one call was waiting (counted as each wait ends).
    bucket_wait_wall_seconds: float = 0.0
    #: Seconds spent paused because a usage quota was exhausted.
    paused_seconds: float = 0.0
    #: Latest figures reported by the server (`X-Api-Call-Limit`: used/capacity).
    server_level: int | None = None
    server_capacity: int | None = None
    call_usage: float | None = None
    time_usage: float | None = None
    _level: Callable[[], float] | None = attrs.field(default=None, init=False, eq=False)
    _waiting: int = attrs.field(default=0, init=False, eq=False)
    _waiting_since: float = attrs.field(default=0.0, init=False, eq=False)

    # -- the bucket level -------------------------------------------------------------

    def read_level_from(self, source: Callable[[], float]) -> None:
        """Read `bucket_level` from `source` (the mall's Admin/Front limiter) from now on."""
        self._level = source

    @property
    def bucket_level(self) -> float | None:
        """How full this client reckons the mall's Admin/Front bucket is now, in calls
        (leaked up to this moment; None before the mall's first Admin/Front call)."""
        return None if self._level is None else self._level()

    # -- waiting ------------------------------------------------------------------------

    def wait_began(self, now: float) -> float:
        """A call starts waiting for a limiter at `now` (monotonic seconds); returns `now`."""
        if self._waiting == 0:
            self._waiting_since = now
        self._waiting += 1
        return now

    def wait_ended(self, began: float, now: float) -> None:
        """The call that began waiting at `began` stopped waiting (let through, or gave up)."""
        self.bucket_wait_task_seconds += max(0.0, now - began)
        self._waiting = max(0, self._waiting - 1)
        if self._waiting == 0:
            self.bucket_wait_wall_seconds += max(0.0, now - self._waiting_since)

    @property
    def bucket_wait_seconds(self) -> float:
        """The old name of `bucket_wait_task_seconds`, kept for one release."""
        return self.bucket_wait_task_seconds

    @bucket_wait_seconds.setter
    def bucket_wait_seconds(self, value: float) -> None:
        # A wait added under the old name counts as task-seconds only.
        self.bucket_wait_task_seconds = value

    # -- reading them all -----------------------------------------------------------------

    def as_dict(self) -> dict[str, Any]:
        data = {f.name: getattr(self, f.name) for f in attrs.fields(type(self)) if not f.name.startswith("_")}
        data["statuses"] = dict(self.statuses)
        data["by_route"] = dict(self.by_route)
        data["bucket_level"] = self.bucket_level
        data["bucket_wait_seconds"] = self.bucket_wait_seconds  # the old name, for one release
        return data

    def __repr__(self) -> str:
        level = "unknown" if self.bucket_level is None else f"{self.bucket_level:.1f}"
        return (
            f"MallStats(mall_id={self.mall_id!r}, requests={self.requests}, retries={self.retries}, "
            f"throttled={self.throttled}, refreshes={self.refreshes}, bucket_level={level}, "
            f"server_level={self.server_level}/{self.server_capacity}, "
            f"bucket_wait_wall_seconds={self.bucket_wait_wall_seconds:.2f}, "
            f"bucket_wait_task_seconds={self.bucket_wait_task_seconds:.2f}, "
            f"paused_seconds={self.paused_seconds:.2f}, call_usage={self.call_usage}, "
            f"time_usage={self.time_usage})"
        )
