"""One loop timer for the total time limit of every request in flight.

A per-request timer (what aiohttp arms for its `total` timeout) costs each
request a timer handle, a push onto the event loop's heap (compared by Python
code), a cancel, and its share of the heap's clean-ups: about 10 µs of CPU, a
tenth of a whole request. Here a request in flight is one dict entry, and one
timer, set for the earliest deadline, cancels the tasks whose requests outlive
their limit. The request then ends with a timeout (see `leave`), exactly as
`asyncio.timeout` would: a cancellation from anyone else still propagates.

    task = deadlines.enter(seconds)     # None outside a task: use a timer of its own
    try:
        ... await the request ...
    finally:
        timed_out = deadlines.leave(task)
"""

from __future__ import annotations

import asyncio
import math
from typing import Any


class Deadlines:
    """The deadlines of the requests in flight on one connection pool."""

    __slots__ = ("_expired", "_handle", "_running", "_wake_at")

    def __init__(self) -> None:
        #: task -> (deadline on the loop's clock, how often it was being cancelled on entry)
        self._running: dict[asyncio.Task[Any], tuple[float, int]] = {}
        #: Tasks this object cancelled, whose `leave` has not come yet.
        self._expired: set[asyncio.Task[Any]] = set()
        self._handle: asyncio.TimerHandle | None = None
        self._wake_at = math.inf

    def __len__(self) -> int:
        """Requests in flight."""
        return len(self._running)

    def enter(self, seconds: float) -> asyncio.Task[Any] | None:
        """Start the clock on the current task's request; its task, or None when there is
        no task to cancel or the task already has a request here (it must then be
        bounded some other way)."""
        task = asyncio.current_task()
        if task is None or task in self._running:
            return None
        loop = task.get_loop()
        deadline = loop.time() + seconds
        self._running[task] = (deadline, task.cancelling())
        if deadline < self._wake_at:
            self._arm(loop, deadline)
        return task

    def leave(self, task: asyncio.Task[Any]) -> bool:
        """The request of `task` is over (it returned or raised). True when it ran out of
        time and nothing else cancelled the task: the caller raises its timeout error in
        place of the `CancelledError` this object caused."""
        _, cancelling = self._running.pop(task)
        if not self._expired or task not in self._expired:
            return False
        self._expired.discard(task)
        return task.uncancel() <= cancelling

    def _arm(self, loop: asyncio.AbstractEventLoop, when: float) -> None:
        if self._handle is not None:
            self._handle.cancel()
        self._wake_at = when
        self._handle = loop.call_at(when, self._wake, loop)

    def _wake(self, loop: asyncio.AbstractEventLoop) -> None:
        """Cancel every request past its deadline; set the timer for the next one."""
        self._handle, self._wake_at = None, math.inf
        now, earliest = loop.time() + 0.001, math.inf  # the loop may wake a little early
        for task, (deadline, _) in self._running.items():
            if deadline > now:
                earliest = min(earliest, deadline)
            elif task not in self._expired:
                self._expired.add(task)
                task.cancel()
        if earliest < math.inf:
            self._arm(loop, earliest)
