"""`cafe24-async webhooks listen` as a separate process, fed by the sandbox over HTTP.

The command prints its address on stderr; the sandbox delivers to it; verified
events come out on stdout as JSON lines, refused ones are named on stderr, and
the key is printed nowhere. With `--forward-to` the events reach a local app
with the key header, as `stripe listen` forwards.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from aiohttp import web

from tests.conftest import ClientFactory, SandboxFactory
from tests.webhooks.conftest import KEY, envelope, example, post, serve_app

ADDRESS = re.compile(r"listening on (http://\S+)")


@asynccontextmanager
async def listen(*args: str, key: str | None = KEY) -> AsyncIterator[tuple[str, asyncio.subprocess.Process, list[str]]]:
    """The command running; yields its URL, the process and the stderr lines read so far."""
    env = {k: v for k, v in os.environ.items() if k != "CAFE24_WEBHOOK_KEY"}
    if key is not None:
        env["CAFE24_WEBHOOK_KEY"] = key
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "cafe24_async", "webhooks", "listen", "--port", "0", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env,
    )
    assert process.stderr is not None
    errors: list[str] = []
    try:
        line = (await asyncio.wait_for(process.stderr.readline(), 30)).decode()
        errors.append(line)
        found = ADDRESS.search(line)
        assert found, line
        yield found.group(1), process, errors
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.wait(), 30)


async def stdout_line(process: asyncio.subprocess.Process) -> dict[str, Any]:
    assert process.stdout is not None
    line = await asyncio.wait_for(process.stdout.readline(), 30)
    return dict(json.loads(line))


async def stderr_line(process: asyncio.subprocess.Process, errors: list[str]) -> str:
    assert process.stderr is not None
    line = (await asyncio.wait_for(process.stderr.readline(), 30)).decode()
    errors.append(line)
    return line


async def test_listen_prints_verified_events_as_json_lines(
    make_sandbox: SandboxFactory, make_client: ClientFactory
) -> None:
    sandbox = await make_sandbox(products=10, orders=5)
    mall = (await make_client(sandbox)).mall("sandbox")
    async with listen("--path", "/hook") as (url, process, errors):
        assert url.endswith("/hook")
        status, _, _ = await post(url, envelope(90001, example(90001)), key="wrong")
        assert status == 403
        assert "refused" in await stderr_line(process, errors)
        sandbox.webhooks.register(url, KEY)
        await mall.admin.products.update(3, request={"price": 3300})
        await sandbox.webhooks.settled()
        line = await stdout_line(process)
        assert line["event_no"] == 90002 and line["event"] == "ProductUpdated"
        assert line["mall_id"] == "sandbox" and line["resource"]["product_no"] == 3
        assert line["resource"]["price"].startswith("3300") and line["problems"] == []
        # An unknown event number is printed too, never dropped.
        assert (await post(url, envelope(90999, {"mall_id": "sandbox", "x": 1})))[0] == 200
        unknown = await stdout_line(process)
        assert (unknown["event_no"], unknown["event"]) == (90999, "UnknownEvent")
        process.send_signal(signal.SIGTERM)
        out, err = await process.communicate()
    assert process.returncode == 143
    assert KEY not in out.decode() + err.decode() + "".join(errors)
    assert sandbox.webhooks.log("sandbox")[0]["success"] == "T"


async def test_listen_forwards_to_a_local_app_with_the_key(
    make_sandbox: SandboxFactory, make_client: ClientFactory
) -> None:
    sandbox = await make_sandbox(products=10, orders=5)
    mall = (await make_client(sandbox)).mall("sandbox")
    received: list[tuple[str | None, dict[str, Any]]] = []
    arrived = asyncio.Event()

    async def local(request: web.Request) -> web.Response:
        received.append((request.headers.get("X-Api-Key"), await request.json()))
        arrived.set()
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_post("/local", local)
    async with serve_app(app) as root, listen("--forward-to", root + "/local") as (url, process, errors):
        sandbox.webhooks.register(url, KEY)
        await mall.admin.products.delete(4)
        await sandbox.webhooks.settled()
        await asyncio.wait_for(arrived.wait(), 30)
        assert "forwarded event 90003 (ProductDeleted) -> 200" in await stderr_line(process, errors)
    delivered = json.loads(sandbox.webhooks.log("sandbox")[0]["request_body"])
    assert received == [(KEY, delivered)]  # the same event, with the key header


async def test_listen_without_a_key_exits_2() -> None:
    env = {k: v for k, v in os.environ.items() if k != "CAFE24_WEBHOOK_KEY"}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "cafe24_async", "webhooks", "listen", "--port", "0",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env,
    )
    out, err = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 2 and b"CAFE24_WEBHOOK_KEY" in err and out == b""
