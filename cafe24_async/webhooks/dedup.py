"""Handling each event once, though Cafe24 may deliver it several times.

Cafe24 resends a delivery that failed (or that it thinks failed), the delivery
log replays what was already received, and the body carries no event id. So an
event is known by up to two keys:

- its **trace id** (`t:`), when the delivery log or a configured header gives one;
- its **content** (`b:`): a hash of the mall, the event number and the resource,
  as canonical JSON (sorted keys, no blanks), so the same event read from a live
  delivery and from the log's `request_body` text gives the same key.

`claim(keys)` succeeds only when none of the keys was seen within the window,
and then records all of them, in one step; `release(keys)` forgets them again
(the dispatcher does this when every attempt of a handler failed, so that a
resend or `reconcile` can bring the event back). Two genuinely separate events
with identical content within the window count as one; resource events carry
timestamps (`updated_date`, ...), which makes that rare.

`MemoryDeduplicator` serves one process; `RedisDeduplicator`
(cafe24_async.webhooks.redis_dedup) lets N receivers share one memory.
"""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from cafe24_async.clock import Clock, SystemClock
from cafe24_async.errors import ConfigurationError
from cafe24_async.webhooks.event import WebhookEvent

#: How long a key is remembered by default: Cafe24's resends and a daily reconcile fit inside.
DEFAULT_WINDOW = 3 * 86400.0


def content_key(event: WebhookEvent) -> str:
    """`b:<sha256>` of the event's mall, number and resource as canonical JSON."""
    canonical = json.dumps(
        [event.mall_id or "", event.event_no, event.resource],
        sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str,
    )
    return "b:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def event_keys(event: WebhookEvent) -> tuple[str, ...]:
    """The keys that identify `event`: its trace id (when known), then its content."""
    content = content_key(event)
    return (f"t:{event.trace_id}", content) if event.trace_id else (content,)


@runtime_checkable
class Deduplicator(Protocol):
    async def claim(self, mall_id: str, keys: Sequence[str]) -> bool:
        """True (and the keys recorded) when none of `keys` was seen within the window."""

    async def release(self, mall_id: str, keys: Sequence[str]) -> None:
        """Forget `keys`, so the event can be claimed again."""


class MemoryDeduplicator:
    """Keys in one process's memory, each kept for `window` seconds of `clock`, at most
    `max_keys` (the oldest go first)."""

    __slots__ = ("_clock", "_seen", "max_keys", "window")

    def __init__(
        self, window: float = DEFAULT_WINDOW, *, max_keys: int = 200_000, clock: Clock | None = None
    ) -> None:
        if window <= 0 or max_keys < 1:
            raise ConfigurationError("window must be positive and max_keys at least 1")
        self.window = window
        self.max_keys = max_keys
        self._clock = clock or SystemClock()
        #: (mall, key) -> expiry, oldest first (every key lives the same window).
        self._seen: OrderedDict[tuple[str, str], float] = OrderedDict()

    def __repr__(self) -> str:
        return f"<MemoryDeduplicator keys={len(self._seen)} window={self.window:g}s>"

    def __len__(self) -> int:
        return len(self._seen)

    def _purge(self, now: float) -> None:
        seen = self._seen
        while seen and (len(seen) > self.max_keys or next(iter(seen.values())) <= now):
            seen.popitem(last=False)

    async def claim(self, mall_id: str, keys: Sequence[str]) -> bool:
        now = self._clock.monotonic()
        self._purge(now)
        if any((mall_id, key) in self._seen for key in keys):
            return False
        for key in keys:
            self._seen[(mall_id, key)] = now + self.window
        self._purge(now)
        return True

    async def release(self, mall_id: str, keys: Sequence[str]) -> None:
        for key in keys:
            self._seen.pop((mall_id, key), None)
