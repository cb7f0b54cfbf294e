"""One delivery in, one HTTP answer out: the part of a receiver every framework shares.

`Receiver.handle` takes what any web framework can give (method, headers, the
peer's address, the declared length and a way to read the body) and returns a
`Reply`. The aiohttp and ASGI adapters (`aiohttp_adapter`, `asgi`) only translate.

In order, and answered at the first failure:

1. not a POST: 405;
2. the sender's address, when an allowlist is set: 403;
3. the API key header: 403 (compared in constant time, before the body is read);
4. a body over `max_body` (declared or actually sent): 413;
5. a body that is not a Cafe24 envelope: 400;
6. the event is claimed and queued (`Dispatcher.submit`): 200, also for a
   duplicate and for an event number the catalogue does not know; a queue that
   stays full, or a deduplicator that cannot be reached: 503, so Cafe24 sends
   the event again later.

The answer never waits for a handler. Refusals are logged at WARNING with their
reason and never with the key or the body.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any, overload

import attrs

from cafe24_async.errors import Cafe24ConnectionError, ConfigurationError
from cafe24_async.webhooks.dispatcher import Dispatcher, E, Handler
from cafe24_async.webhooks.errors import WebhookPayloadError, WebhookQueueFullError, WebhookVerificationError
from cafe24_async.webhooks.event import WebhookEvent
from cafe24_async.webhooks.parse import parse_event
from cafe24_async.webhooks.verify import DEFAULT_KEY_HEADER, Verifier

log = logging.getLogger("cafe24_async.webhooks")

#: Largest body read by default; Cafe24's payloads are a few kilobytes.
DEFAULT_MAX_BODY = 1024 * 1024
#: Seconds a 503 asks the sender to wait before trying again.
RETRY_AFTER = 30

#: Reads the request body: given a limit, returns the body, or at least `limit + 1`
#: bytes of it when it is longer (the adapter may stop reading there).
BodyReader = Callable[[int], Awaitable[bytes]]


@attrs.frozen
class Reply:
    """The HTTP answer to one delivery."""

    status: int
    body: bytes
    headers: tuple[tuple[str, str], ...] = (("Content-Type", "application/json"),)


@attrs.define
class ReceiverStats:
    """Answers given, by kind."""

    accepted: int = 0
    duplicates: int = 0
    refused: int = 0
    malformed: int = 0
    too_large: int = 0
    busy: int = 0


def _reply(status: int, outcome: str, **extra: Any) -> Reply:
    body = json.dumps({"status": outcome, **extra}).encode()
    if status == 503:
        return Reply(status, body, (("Content-Type", "application/json"), ("Retry-After", str(RETRY_AFTER))))
    return Reply(status, body)


class Receiver:
    """Verifies deliveries and hands their events to a `Dispatcher`.

    `api_key` is the app's webhook key; `header` the header carrying it (see
    cafe24_async.webhooks.verify for why `X-Api-Key`); `allowed_networks`,
    `forwarded_header` and `proxy_hops` the optional sender allowlist;
    `trace_header` a header carrying a delivery id, if your deliveries have one.
    """

    def __init__(
        self,
        api_key: str,
        *,
        dispatcher: Dispatcher | None = None,
        header: str = DEFAULT_KEY_HEADER,
        allowed_networks: Iterable[str] = (),
        forwarded_header: str | None = None,
        proxy_hops: int = 1,
        max_body: int = DEFAULT_MAX_BODY,
        trace_header: str | None = None,
    ) -> None:
        if max_body < 1:
            raise ConfigurationError("max_body must be at least 1 byte")
        self.verifier = Verifier(
            api_key, header=header, allowed_networks=allowed_networks,
            forwarded_header=forwarded_header, proxy_hops=proxy_hops,
        )
        self.dispatcher = dispatcher if dispatcher is not None else Dispatcher()
        self.max_body = max_body
        self.trace_header = trace_header
        self.stats = ReceiverStats()

    def __repr__(self) -> str:
        return f"<Receiver {self.verifier!r} max_body={self.max_body} {self.stats}>"

    @overload
    def on(self, kind: type[E]) -> Callable[[Handler[E]], Handler[E]]: ...

    @overload
    def on(self, kind: type[E], handler: Handler[E]) -> Handler[E]: ...

    def on(self, kind: type[E], handler: Handler[E] | None = None) -> Any:
        """Run `handler` for every event of class `kind`; usable as a decorator (see `Dispatcher.on`)."""
        if handler is None:
            return self.dispatcher.on(kind)
        return self.dispatcher.on(kind, handler)

    async def start(self) -> None:
        await self.dispatcher.start()

    async def close(self, timeout: float | None = 10.0) -> None:
        await self.dispatcher.close(timeout)

    async def handle(
        self,
        method: str,
        headers: Mapping[str, str],
        peer: str | None,
        content_length: int | None,
        read: BodyReader,
    ) -> Reply:
        """The answer to one request (see the module docstring for the order of checks)."""
        if method.upper() != "POST":
            return Reply(405, b'{"status": "method not allowed"}', (("Allow", "POST"),))
        try:
            self.verifier.check(peer, headers)
        except WebhookVerificationError as exc:
            self.stats.refused += 1
            log.warning("webhook from %s refused: %s", peer, exc.reason)
            return _reply(403, "forbidden")
        if content_length is not None and content_length > self.max_body:
            return self._too_large(peer)
        body = await read(self.max_body)
        if len(body) > self.max_body:
            return self._too_large(peer)
        try:
            event = parse_event(body, headers, trace_header=self.trace_header)
        except WebhookPayloadError as exc:
            self.stats.malformed += 1
            log.warning("webhook from %s is not a Cafe24 event: %s", peer, exc)
            return _reply(400, "bad request", reason=str(exc))
        return await self._submit(event)

    async def _submit(self, event: WebhookEvent) -> Reply:
        try:
            submission = await self.dispatcher.submit(event)
        except WebhookQueueFullError as exc:
            self.stats.busy += 1
            log.warning("webhook %s of mall %r answered 503: %s", event.event_no, event.mall_id, exc)
            return _reply(503, "busy")
        except Cafe24ConnectionError as exc:  # the shared deduplicator (Redis) is unreachable
            self.stats.busy += 1
            log.warning("webhook %s of mall %r answered 503: %s", event.event_no, event.mall_id, exc)
            return _reply(503, "unavailable")
        if submission.duplicate:
            self.stats.duplicates += 1
            return _reply(200, "duplicate")
        self.stats.accepted += 1
        return _reply(200, "queued")

    def _too_large(self, peer: str | None) -> Reply:
        self.stats.too_large += 1
        log.warning("webhook from %s refused: the body is over %d bytes", peer, self.max_body)
        return _reply(413, "too large")
