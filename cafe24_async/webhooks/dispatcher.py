"""Handing events to async handlers: a bounded queue, workers, retries, deduplication.

A receiver must answer Cafe24 within milliseconds, whatever the handlers do, so it
only `submit`s: the event is claimed in the deduplicator and put on a bounded
queue, and the answer goes out. Workers take events off the queue and run every
handler registered for the event's class (`on(OrderReceived, handler)`;
`on(WebhookEvent, ...)` or `on_any` for all, `UnknownEvent` for numbers the
catalogue does not know).

The policy, stated:

- **Backpressure.** The queue holds `queue_size` events. A submit waits up to its
  timeout (the receiver's is `enqueue_timeout`, 1 s by default) for room; when
  there is none, `WebhookQueueFullError` is raised and the claim is released, and
  the receiver answers 503 so Cafe24 sends the event again later. `reconcile`
  waits as long as it takes.
- **Retries.** A handler that raises is logged and run again after the delays of
  `HandlerRetry` (by default 3 attempts, 1 s then 10 s apart, on the injected
  clock). The HTTP answer went out long before: a handler's failure never turns
  into a late non-2xx.
- **Giving up.** When a handler's last attempt fails, the event's keys are
  released from the deduplicator and the failure is logged at ERROR, so Cafe24's
  resend or the next `reconcile` delivers the event again. Delivery is at least
  once: handlers that already succeeded for that event run again then, so
  handlers should be idempotent.
- **Order.** With more than one worker, events are handled concurrently and may
  finish out of order; `workers=1` keeps arrival order.

Handlers receive the event only; nothing is logged about an event but its
number, mall and trace id (payloads hold personal data).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, overload

import attrs

from cafe24_async.clock import Clock, SystemClock
from cafe24_async.errors import ConfigurationError
from cafe24_async.webhooks.dedup import Deduplicator, MemoryDeduplicator, event_keys
from cafe24_async.webhooks.errors import WebhookError, WebhookQueueFullError
from cafe24_async.webhooks.event import WebhookEvent

log = logging.getLogger("cafe24_async.webhooks")

E = TypeVar("E", bound=WebhookEvent)
Handler = Callable[[E], Awaitable[Any]]


@attrs.frozen
class HandlerRetry:
    """How often a failing handler is run, and the delays (seconds) between attempts;
    the last delay repeats when there are more attempts than delays."""

    attempts: int = 3
    delays: tuple[float, ...] = (1.0, 10.0)

    def __attrs_post_init__(self) -> None:
        if self.attempts < 1 or any(d < 0 for d in self.delays):
            raise ConfigurationError("HandlerRetry: attempts must be at least 1 and delays not negative")

    def delay(self, attempt: int) -> float:
        """The wait after failed attempt number `attempt` (1-based)."""
        if not self.delays:
            return 0.0
        return self.delays[min(attempt, len(self.delays)) - 1]


@attrs.define
class DispatchStats:
    """Counters of one dispatcher, since it was made."""

    #: Events submitted (live deliveries and replays).
    received: int = 0
    #: Submitted events whose keys were already claimed (not queued again).
    duplicates: int = 0
    #: Events every matching handler finished.
    handled: int = 0
    #: Events a handler gave up on (keys released).
    failed: int = 0
    #: Handler attempts run again after a failure.
    retries: int = 0
    #: Submits refused because the queue stayed full.
    refused: int = 0


@attrs.frozen
class Submission:
    """What became of one submitted event: a duplicate, or queued with `done`, which
    resolves to True when every handler finished and False when one gave up."""

    event: WebhookEvent
    duplicate: bool
    done: asyncio.Future[bool] | None = attrs.field(default=None, repr=False)


@attrs.frozen
class _Item:
    event: WebhookEvent
    keys: tuple[str, ...]
    done: asyncio.Future[bool]


class Dispatcher:
    """Routes events to handlers through a bounded queue (see the module docstring)."""

    def __init__(
        self,
        *,
        dedup: Deduplicator | None = None,
        queue_size: int = 1000,
        workers: int = 4,
        retry: HandlerRetry | None = None,
        enqueue_timeout: float = 1.0,
        clock: Clock | None = None,
    ) -> None:
        if queue_size < 1 or workers < 1 or enqueue_timeout < 0:
            raise ConfigurationError("queue_size and workers must be at least 1; enqueue_timeout >= 0")
        self.clock = clock or SystemClock()
        self.dedup: Deduplicator = dedup if dedup is not None else MemoryDeduplicator(clock=self.clock)
        self.queue_size = queue_size
        self.workers = workers
        self.retry = retry or HandlerRetry()
        self.enqueue_timeout = enqueue_timeout
        self.stats = DispatchStats()
        self._handlers: list[tuple[type[WebhookEvent], Handler[Any]]] = []
        self._queue: asyncio.Queue[_Item] | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._current: dict[asyncio.Task[None], _Item] = {}
        self._closed = False

    def __repr__(self) -> str:
        state = "closed" if self._closed else ("running" if self._tasks else "idle")
        return f"<Dispatcher {state} handlers={len(self._handlers)} queued={self.queued} {self.stats}>"

    # -- handlers -------------------------------------------------------------------------

    @overload
    def on(self, kind: type[E]) -> Callable[[Handler[E]], Handler[E]]: ...

    @overload
    def on(self, kind: type[E], handler: Handler[E]) -> Handler[E]: ...

    def on(self, kind: type[E], handler: Handler[E] | None = None) -> Any:
        """Run `handler` for every event of class `kind` (or a subclass); usable as a decorator."""
        if not (isinstance(kind, type) and issubclass(kind, WebhookEvent)):
            raise ConfigurationError(f"on(): {kind!r} is not a webhook event class")

        def register(function: Handler[E]) -> Handler[E]:
            self._handlers.append((kind, function))
            return function

        return register if handler is None else register(handler)

    def on_any(self, handler: Handler[WebhookEvent]) -> Handler[WebhookEvent]:
        """Run `handler` for every event."""
        return self.on(WebhookEvent, handler)

    def handlers_for(self, event: WebhookEvent) -> list[Handler[Any]]:
        return [handler for kind, handler in self._handlers if isinstance(event, kind)]

    # -- lifecycle ------------------------------------------------------------------------

    @property
    def queued(self) -> int:
        return self._queue.qsize() if self._queue is not None else 0

    async def start(self) -> None:
        """Start the workers (done by the first submit if not called)."""
        if self._closed:
            raise WebhookError("the dispatcher is closed")
        if self._queue is None:
            self._queue = asyncio.Queue(self.queue_size)
            loop = asyncio.get_running_loop()
            self._tasks = [
                loop.create_task(self._work(), name=f"webhook-worker-{n}") for n in range(self.workers)
            ]

    async def join(self) -> None:
        """Wait until every queued event is finished (handled or given up)."""
        if self._queue is not None:
            await self._queue.join()

    async def close(self, timeout: float | None = 10.0) -> None:
        """Stop taking events, give queued ones up to `timeout` seconds to finish, then stop
        the workers; unfinished events are released from the deduplicator."""
        if self._closed:
            return
        self._closed = True
        queue = self._queue
        if queue is None:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(queue.join(), timeout)
        for task in self._tasks:
            task.cancel()
        unfinished = list(self._current.values())  # taken before the cancellations land
        await asyncio.gather(*self._tasks, return_exceptions=True)
        while not queue.empty():
            unfinished.append(queue.get_nowait())
            queue.task_done()
        for item in unfinished:
            if not item.done.done():
                await self._give_back(item)
                item.done.set_result(False)

    # -- submitting -----------------------------------------------------------------------

    async def submit(self, event: WebhookEvent, *, wait: float | None = None) -> Submission:
        """Claim `event` and queue it for its handlers.

        A duplicate is answered at once. `wait` is how many seconds to wait for room
        in the queue (default: `enqueue_timeout`; `math.inf` waits as long as it
        takes); when they pass, `WebhookQueueFullError`. A deduplicator that cannot
        be reached raises its own error (`RedisUnavailableError`)."""
        if self._closed:
            raise WebhookError("the dispatcher is closed")
        await self.start()
        assert self._queue is not None
        self.stats.received += 1
        mall = event.mall_id or ""
        keys = event_keys(event)
        if not await self.dedup.claim(mall, keys):
            self.stats.duplicates += 1
            log.debug("duplicate webhook %s for mall %r (trace %s)", event.event_no, mall, event.trace_id)
            return Submission(event, True)
        item = _Item(event, keys, asyncio.get_running_loop().create_future())
        wait = self.enqueue_timeout if wait is None else wait
        try:
            if wait <= 0:
                self._queue.put_nowait(item)
            elif math.isinf(wait):
                await self._queue.put(item)
            else:
                await asyncio.wait_for(self._queue.put(item), wait)
        except (TimeoutError, asyncio.QueueFull):
            self.stats.refused += 1
            await self.dedup.release(mall, keys)
            raise WebhookQueueFullError(
                f"the handler queue is full ({self.queue_size} events); event {event.event_no} not taken"
            ) from None
        except BaseException:
            await self.dedup.release(mall, keys)
            raise
        return Submission(event, False, item.done)

    # -- working --------------------------------------------------------------------------

    async def _work(self) -> None:
        assert self._queue is not None
        queue = self._queue
        task = asyncio.current_task()
        assert task is not None
        while True:
            item = await queue.get()
            self._current[task] = item
            try:
                ok = await self._handle(item.event)
                if ok:
                    self.stats.handled += 1
                else:
                    self.stats.failed += 1
                    await self._give_back(item)
                if not item.done.done():
                    item.done.set_result(ok)
            finally:
                self._current.pop(task, None)
                queue.task_done()

    async def _handle(self, event: WebhookEvent) -> bool:
        ok = True
        for handler in self.handlers_for(event):
            ok = await self._run(handler, event) and ok
        return ok

    async def _run(self, handler: Handler[Any], event: WebhookEvent) -> bool:
        attempts = self.retry.attempts
        name = getattr(handler, "__qualname__", repr(handler))
        for attempt in range(1, attempts + 1):
            try:
                await handler(event)
                return True
            except Exception as exc:
                where = f"webhook {event.event_no} of mall {event.mall_id!r} (trace {event.trace_id})"
                if attempt < attempts:
                    delay = self.retry.delay(attempt)
                    log.warning(
                        "handler %s failed on %s, attempt %d of %d (%s: %s); again in %gs",
                        name, where, attempt, attempts, type(exc).__name__, exc, delay,
                    )
                    self.stats.retries += 1
                    await self.clock.sleep(delay)
                else:
                    log.error(
                        "handler %s gave up on %s after %d attempts (%s: %s); the event is released "
                        "for a resend or reconcile()",
                        name, where, attempts, type(exc).__name__, exc, exc_info=exc,
                    )
        return False

    async def _give_back(self, item: _Item) -> None:
        """Release an event's keys so that a resend or reconcile brings it back."""
        try:
            await self.dedup.release(item.event.mall_id or "", item.keys)
        except Exception as exc:  # the deduplicator is down: its keys expire with the window
            log.error("could not release webhook %s for redelivery: %s", item.event.event_no, exc)
