"""The ASGI adapter: driven with real ASGI messages, and served over HTTP through a
small aiohttp-to-ASGI bridge (no ASGI server is a dependency of the project).

The bridge turns each aiohttp request into an ASGI `http` scope, feeds the body
in chunks as `http.request` messages and collects the `http.response.*`
messages, so the sandbox's deliveries reach the ASGI app over real HTTP.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web

from cafe24_async.webhooks import ASGIReceiver, Dispatcher, HandlerRetry, Receiver, WebhookEvent
from cafe24_async.webhooks import events as ev
from tests.conftest import ClientFactory, SandboxFactory
from tests.webhooks.conftest import KEY, Recorder, envelope, example, serve_app


class Messages:
    """An ASGI `receive` over given messages, and a `send` that records."""

    def __init__(self, *incoming: dict[str, Any], waiting: bool = False) -> None:
        self.incoming: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        for message in incoming:
            self.incoming.put_nowait(message)
        #: Wait for more messages instead of reporting a disconnect (the lifespan protocol).
        self.waiting = waiting
        self.sent: list[dict[str, Any]] = []

    async def receive(self) -> dict[str, Any]:
        if self.waiting:
            return await self.incoming.get()
        return self.incoming.get_nowait() if not self.incoming.empty() else {"type": "http.disconnect"}

    async def send(self, message: Any) -> None:
        self.sent.append(dict(message))

    @property
    def status(self) -> int:
        return int(next(m["status"] for m in self.sent if m["type"] == "http.response.start"))


def http_scope(headers: list[tuple[bytes, bytes]], client: tuple[str, int] = ("127.0.0.1", 5000)) -> dict[str, Any]:
    return {"type": "http", "method": "POST", "path": "/", "headers": headers, "client": client}


def chunks(body: bytes, size: int) -> list[dict[str, Any]]:
    parts = [body[i : i + size] for i in range(0, len(body), size)] or [b""]
    return [{"type": "http.request", "body": p, "more_body": i < len(parts) - 1} for i, p in enumerate(parts)]


async def test_asgi_messages_lifespan_and_chunked_body() -> None:
    recorder = Recorder()
    receiver = Receiver(KEY, max_body=8192, dispatcher=Dispatcher(retry=HandlerRetry(delays=(0.0,))))
    receiver.dispatcher.on(WebhookEvent, recorder)
    app = ASGIReceiver(receiver)

    life = Messages({"type": "lifespan.startup"}, waiting=True)
    # The startup completes, then the shutdown message is waited for: drive it in two steps.
    runner = asyncio.create_task(app({"type": "lifespan"}, life.receive, life.send))
    while not life.sent:  # let the app take the startup message
        await asyncio.sleep(0)
    assert life.sent == [{"type": "lifespan.startup.complete"}]

    body = envelope(90024, example(90024))
    good = Messages(*chunks(body, 100))
    await app(http_scope([(b"x-api-key", KEY.encode()), (b"content-type", b"application/json")]), good.receive, good.send)
    assert good.status == 200 and good.sent[-1]["body"] == b'{"status": "queued"}'

    wrong = Messages(*chunks(body, 100))
    await app(http_scope([(b"x-api-key", b"nope")]), wrong.receive, wrong.send)
    assert wrong.status == 403

    huge = Messages(*chunks(b"x" * 20_000, 1000))
    await app(http_scope([(b"x-api-key", KEY.encode())]), huge.receive, huge.send)
    assert huge.status == 413 and huge.incoming.qsize() > 0  # stopped reading past the limit

    declared = Messages(*chunks(body, 100))
    await app(http_scope([(b"x-api-key", KEY.encode()), (b"content-length", b"999999")]), declared.receive, declared.send)
    assert declared.status == 413

    socket = Messages({"type": "websocket.connect"})
    await app({"type": "websocket", "path": "/"}, socket.receive, socket.send)
    assert socket.sent[0]["type"] == "websocket.close"

    await receiver.dispatcher.join()
    assert recorder.numbers() == [90024]
    assert isinstance(recorder.events[0], ev.OrderDeliveryStatusChanged)

    life.incoming.put_nowait({"type": "lifespan.shutdown"})
    await runner
    assert life.sent[-1] == {"type": "lifespan.shutdown.complete"}


def asgi_bridge(app: ASGIReceiver) -> web.Application:
    """An aiohttp app that serves `app` (the smallest ASGI server that speaks real HTTP)."""

    async def handle(request: web.Request) -> web.StreamResponse:
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": request.method,
            "path": request.path,
            "raw_path": request.raw_path.encode(),
            "query_string": request.query_string.encode(),
            "headers": [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in request.headers.items()],
            "client": (request.remote, 0),
        }

        async def stream() -> AsyncIterator[dict[str, Any]]:
            async for chunk in request.content.iter_chunked(1024):
                yield {"type": "http.request", "body": chunk, "more_body": True}
            yield {"type": "http.request", "body": b"", "more_body": False}

        messages = stream()

        async def receive() -> dict[str, Any]:
            try:
                return await messages.__anext__()
            except StopAsyncIteration:
                return {"type": "http.disconnect"}

        sent: list[Any] = []

        async def send(message: Any) -> None:
            sent.append(message)

        await app(scope, receive, send)
        start = next(m for m in sent if m["type"] == "http.response.start")
        body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in start["headers"]}
        return web.Response(status=start["status"], body=body, headers=headers)

    bridge = web.Application()
    bridge.router.add_route("*", "/{tail:.*}", handle)
    return bridge


async def test_sandbox_deliveries_reach_the_asgi_app_over_http(
    make_sandbox: SandboxFactory, make_client: ClientFactory
) -> None:
    sandbox = await make_sandbox(products=20, orders=10)
    api = await make_client(sandbox)
    mall = api.mall("sandbox")
    recorder = Recorder()
    receiver = Receiver(KEY)
    receiver.dispatcher.on(ev.ProductUpdated, recorder)
    async with serve_app(asgi_bridge(ASGIReceiver(receiver))) as root:
        sandbox.webhooks.register(root + "/webhooks/cafe24", KEY)
        await mall.admin.products.update(7, request={"price": 5500})
        await mall.admin.products.update(8, request={"selling": "F"})
        await sandbox.webhooks.settled()
        await receiver.dispatcher.join()
        sandbox.webhooks.register(root + "/webhooks/cafe24", "not-the-key", attempts=1)
        await mall.admin.products.update(9, request={"price": 100})
        await sandbox.webhooks.settled()
    await receiver.close()
    products = sandbox.dataset().products
    assert [e.product_no for e in recorder.events] == [7, 8]
    first, second = recorder.events
    assert isinstance(first, ev.ProductUpdated) and isinstance(second, ev.ProductUpdated)
    assert first.price == products.get(7)["price"] and first.price.startswith("5500")
    assert second.selling == "F" == products.get(8)["selling"]
    log = sandbox.webhooks.log("sandbox")
    assert [(e["event_no"], e["success"], e["response_http_code"]) for e in log] == [
        (90002, "T", 200), (90002, "T", 200), (90002, "F", 403),
    ]
    assert receiver.stats.refused == 1
