"""Shared fixtures: a sandbox server per test and a client wired to it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest_asyncio

from cafe24_async import Cafe24
from cafe24_async.sandbox import Sandbox, SandboxConfig

pytest_plugins = ["cafe24_async.pytest_plugin"]

#: Fast server settings: the arithmetic of a 2/s bucket, at a pace tests can afford (and no
#: lower limit for Front calls without the front API key, unless a test asks for one).
FAST = {"leak_rate": 1000.0, "front_anonymous_per_second": 10_000}

SandboxFactory = Callable[..., Awaitable[Sandbox]]
ClientFactory = Callable[..., Awaitable[Cafe24]]


@pytest_asyncio.fixture
async def make_sandbox() -> AsyncIterator[SandboxFactory]:
    started: list[Sandbox] = []

    async def make(**settings: Any) -> Sandbox:
        sandbox = Sandbox(SandboxConfig(**{**FAST, **settings}))
        await sandbox.start()
        started.append(sandbox)
        return sandbox

    yield make
    for sandbox in started:
        await sandbox.close()


@pytest_asyncio.fixture
async def make_client() -> AsyncIterator[ClientFactory]:
    made: list[Cafe24] = []

    async def make(sandbox: Sandbox, **settings: Any) -> Cafe24:
        from cafe24_async.pytest_plugin import client_for

        settings.setdefault("max_per_second", None)
        client = await client_for(sandbox, **settings)
        made.append(client)
        return client

    yield make
    for client in made:
        await client.close()
