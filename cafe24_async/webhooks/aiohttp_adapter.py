"""Receiving webhooks in an aiohttp.web application.

    receiver = Receiver(api_key)
    app.router.add_post("/webhooks/cafe24", aiohttp_handler(receiver))
    app.cleanup_ctx.append(receiver_context(receiver))      # start and stop the workers

or, for a receiver alone, `aiohttp_app(receiver, path)`. The body is read from the
request stream up to the receiver's `max_body`, so a huge body is refused
without being held in memory.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

from aiohttp import web

from cafe24_async.webhooks.receiver import Receiver

AiohttpHandler = Callable[[web.Request], Awaitable[web.StreamResponse]]


async def read_limited(request: web.Request, limit: int) -> bytes:
    """The body, or its first `limit + 1` bytes when it is longer."""
    chunks: list[bytes] = []
    size = 0
    while size <= limit:
        chunk = await request.content.read(min(65536, limit + 1 - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def joined_headers(request: web.Request) -> dict[str, str]:
    """The headers by lower-cased name, repeated ones joined with ", " (as HTTP allows),
    so that a forwarded-for header sent on several lines is read whole."""
    headers: dict[str, str] = {}
    for name, value in request.headers.items():
        key = name.lower()
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    return headers


def aiohttp_handler(receiver: Receiver) -> AiohttpHandler:
    """An aiohttp handler answering deliveries through `receiver`."""

    async def handle(request: web.Request) -> web.StreamResponse:
        reply = await receiver.handle(
            request.method,
            joined_headers(request),
            request.remote,
            request.content_length,
            lambda limit: read_limited(request, limit),
        )
        return web.Response(status=reply.status, body=reply.body, headers=dict(reply.headers))

    return handle


def receiver_context(receiver: Receiver) -> Callable[[web.Application], AsyncIterator[None]]:
    """For `app.cleanup_ctx`: start the receiver's workers with the app, close them after."""

    async def context(app: web.Application) -> AsyncIterator[None]:
        await receiver.start()
        yield
        await receiver.close()

    return context


def aiohttp_app(receiver: Receiver, path: str = "/") -> web.Application:
    """An application that answers deliveries at `path` (POST) and runs the receiver's workers."""
    app = web.Application()
    app.router.add_route("*", path, aiohttp_handler(receiver))
    app.cleanup_ctx.append(receiver_context(receiver))
    return app
