"""Receiving webhooks in any ASGI framework (Starlette, FastAPI, Quart, ...).

`ASGIReceiver(receiver)` is a plain ASGI application (scope, receive, send), so
no framework becomes a dependency. Mount it where deliveries arrive:

    app.mount("/webhooks/cafe24", ASGIReceiver(receiver))     # Starlette / FastAPI

It answers every path it is mounted on. Mounted apps do not see the server's
lifespan, so the receiver's workers start with the first delivery; stop them in
your app's shutdown with `await receiver.close()`. Served on its own (e.g.
`uvicorn module:app`), it also answers the lifespan protocol: workers start on
startup and drain on shutdown.

The body is read message by message up to the receiver's `max_body`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from cafe24_async.webhooks.receiver import Receiver

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


def _headers(scope: Scope) -> dict[str, str]:
    """The request headers, lower-cased names (ASGI sends them as latin-1 byte pairs)."""
    headers: dict[str, str] = {}
    for name, value in scope.get("headers", ()):
        key = bytes(name).decode("latin-1").lower()
        text = bytes(value).decode("latin-1")
        headers[key] = f"{headers[key]}, {text}" if key in headers else text
    return headers


def _content_length(headers: dict[str, str]) -> int | None:
    raw = headers.get("content-length")
    if raw is None or not raw.strip().isdigit():
        return None
    return int(raw)


class ASGIReceiver:
    """An ASGI application answering Cafe24 deliveries through a `Receiver`."""

    def __init__(self, receiver: Receiver) -> None:
        self.receiver = receiver

    def __repr__(self) -> str:
        return f"<ASGIReceiver {self.receiver!r}>"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope.get("type")
        if kind == "lifespan":
            await self._lifespan(receive, send)
            return
        if kind == "websocket":  # not a webhook: close the socket at once
            await receive()
            await send({"type": "websocket.close", "code": 1008})
            return
        if kind != "http":
            return
        headers = _headers(scope)
        client = scope.get("client")
        peer = str(client[0]) if client else None

        async def read(limit: int) -> bytes:
            body = bytearray()
            while len(body) <= limit:
                message = await receive()
                if message.get("type") == "http.disconnect":
                    break
                body += message.get("body", b"")
                if not message.get("more_body", False):
                    break
            return bytes(body)

        method = str(scope.get("method", "GET"))
        reply = await self.receiver.handle(method, headers, peer, _content_length(headers), read)
        await send({
            "type": "http.response.start",
            "status": reply.status,
            "headers": [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in reply.headers],
        })
        await send({"type": "http.response.body", "body": reply.body})

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message.get("type") == "lifespan.startup":
                try:
                    await self.receiver.start()
                except Exception as exc:
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message.get("type") == "lifespan.shutdown":
                await self.receiver.close()
                await send({"type": "lifespan.shutdown.complete"})
                return
