"""A pytest plugin: a running sandbox mall and a client wired to it, for any test suite.

Turn it on in a `conftest.py` with `pytest_plugins = ["cafe24_async.pytest_plugin"]`
(it needs pytest-asyncio). It offers two fixtures:

- `cafe24_sandbox`: a started `Sandbox` on a free loopback port;
- `cafe24_client`: a `Cafe24` pointed at it, with a valid token for every mall
  of the sandbox already in its token store.

Settings come from a marker::

    @pytest.mark.cafe24_sandbox(products=500, leak_rate=200.0)
    async def test_something(cafe24_client):
        mall = cafe24_client.mall("sandbox")
        assert await mall.admin.products.count() == 500
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from cafe24_async.auth.stores import MemoryTokenStore
from cafe24_async.auth.token import Token
from cafe24_async.client import Cafe24
from cafe24_async.sandbox import Sandbox, SandboxConfig


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "cafe24_sandbox(**settings): SandboxConfig fields for the cafe24_sandbox fixture"
    )


async def client_for(sandbox: Sandbox, **settings: Any) -> Cafe24:
    """A client for `sandbox` holding a fresh token for each of its malls."""
    store = MemoryTokenStore()
    for mall_id in sandbox.config.malls:
        await store.save(mall_id, Token.from_response(sandbox.issue_token(mall_id)))
    options: dict[str, Any] = {
        "base_url": sandbox.base_url,
        "analytics_base_url": sandbox.root_url,
        "dcollection_base_url": sandbox.root_url,
        "dcollection_credentials": (sandbox.config.client_id, sandbox.config.client_secret),
        "leak_rate": sandbox.config.leak_rate,
        "bucket_capacity": sandbox.config.bucket_capacity,
    }
    options.update(settings)
    return Cafe24(
        client_id=sandbox.config.client_id,
        client_secret=sandbox.config.client_secret,
        token_store=store,
        **options,
    )


@pytest_asyncio.fixture
async def cafe24_sandbox(request: pytest.FixtureRequest) -> AsyncIterator[Sandbox]:
    marker = request.node.get_closest_marker("cafe24_sandbox")
    settings = dict(marker.kwargs) if marker else {}
    async with Sandbox(SandboxConfig(**settings)) as sandbox:
        yield sandbox


@pytest_asyncio.fixture
async def cafe24_client(cafe24_sandbox: Sandbox) -> AsyncIterator[Cafe24]:
    client = await client_for(cafe24_sandbox)
    async with client:
        yield client
