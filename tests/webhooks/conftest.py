"""Receivers on real loopback ports, and the sandbox sending them webhooks.

`serve_app` runs any aiohttp application on a free port. `Recorder` is a handler
that keeps every event it gets. `post` sends one request with `aiohttp` and
returns status, body and headers. Tests wait for deliveries with
`sandbox.webhooks.settled()` and for handlers with `dispatcher.join()`, never by
sleeping.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator, Mapping
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from cafe24_async.webhooks import Dispatcher, HandlerRetry, Receiver, WebhookEvent, aiohttp_app

KEY = "whk-test-7f3a9c1e5b"
SPEC = Path(__file__).resolve().parents[2] / "spec" / "webhooks.json"
SPEC_EVENTS: list[dict[str, Any]] = json.loads(SPEC.read_text("utf-8"))["events"]


def example(event_no: int) -> dict[str, Any]:
    """The documented sample resource of an event (a copy)."""
    found = next(e for e in SPEC_EVENTS if e["event_no"] == event_no)
    return json.loads(json.dumps(found["example"]))


def envelope(event_no: int | str, resource: Mapping[str, Any]) -> bytes:
    return json.dumps({"event_no": event_no, "resource": dict(resource)}, ensure_ascii=False).encode()


@contextlib.asynccontextmanager
async def serve_app(app: web.Application) -> AsyncIterator[str]:
    """`app` on a free loopback port; yields its root URL."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        address: Any = runner.addresses[0]
        yield f"http://127.0.0.1:{address[1]}"
    finally:
        await runner.cleanup()


class Recorder:
    """A handler keeping the events it was given."""

    def __init__(self) -> None:
        self.events: list[WebhookEvent] = []

    async def __call__(self, event: WebhookEvent) -> None:
        self.events.append(event)

    def numbers(self) -> list[int]:
        return [e.event_no for e in self.events]


@contextlib.asynccontextmanager
async def running_receiver(
    *, dispatcher: Dispatcher | None = None, path: str = "/hooks/cafe24", **options: Any
) -> AsyncIterator[tuple[Receiver, str, Recorder]]:
    """A `Receiver` (key `KEY`, no retry delays) behind aiohttp on a free port, recording
    every event; yields the receiver, the delivery URL and the recorder."""
    dispatcher = dispatcher or Dispatcher(retry=HandlerRetry(attempts=3, delays=(0.0,)))
    receiver = Receiver(KEY, dispatcher=dispatcher, **options)
    recorder = Recorder()
    receiver.dispatcher.on(WebhookEvent, recorder)
    async with serve_app(aiohttp_app(receiver, path)) as root:
        yield receiver, root + path, recorder


async def post(
    url: str, body: bytes, headers: Mapping[str, str] | None = None, *, method: str = "POST", key: str | None = KEY
) -> tuple[int, dict[str, Any], Mapping[str, str]]:
    sent = {"Content-Type": "application/json", **(headers or {})}
    if key is not None:
        sent.setdefault("X-Api-Key", key)
    async with aiohttp.ClientSession() as session, session.request(method, url, data=body, headers=sent) as answer:
        text = await answer.text()
        try:
            decoded = json.loads(text) if text else {}
        except ValueError:
            decoded = {"text": text}
        return answer.status, decoded, dict(answer.headers)


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed (Debian package redis-server; .ci/run installs it)")
    from benchmarks.bench_redis import redis_server

    with redis_server() as url:
        yield url


@pytest.fixture
def prefix() -> str:
    return f"test-{uuid.uuid4().hex[:10]}"
