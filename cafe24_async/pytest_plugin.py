"""A pytest plugin: a running sandbox mall and a client wired to it, for any test suite.

Install the `testing` extra (`pip install 'cafe24-async[testing]'`: pytest and
pytest-asyncio) and turn the plugin on in a `conftest.py` with
`pytest_plugins = ["cafe24_async.pytest_plugin"]`. It offers two fixtures:

- `cafe24_sandbox`: a started `Sandbox` on a free loopback port;
- `cafe24_client`: a `Cafe24` pointed at it, with a valid token for every mall
  of the sandbox already in its token store.

Settings come from a marker::

    @pytest.mark.cafe24_sandbox(products=500, leak_rate=200.0)
    async def test_something(cafe24_client):
        mall = cafe24_client.mall("sandbox")
        assert await mall.admin.products.count() == 500

Async tests need no configuration: a coroutine test that asks for one of these
fixtures, or carries the `cafe24_sandbox` marker, is marked for pytest-asyncio
here, so it runs in pytest-asyncio's default "strict" mode as well as in "auto".
Other async tests of the suite are left to the suite's own settings.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from cafe24_async.auth.stores import MemoryTokenStore
from cafe24_async.auth.token import Token
from cafe24_async.client import Cafe24
from cafe24_async.sandbox import Sandbox, SandboxConfig

#: The fixtures of this plugin: a coroutine test using one runs under pytest-asyncio.
FIXTURES = frozenset({"cafe24_sandbox", "cafe24_client"})
MARKER = "cafe24_sandbox"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", f"{MARKER}(**settings): SandboxConfig fields for the cafe24_sandbox fixture"
    )


@pytest.hookimpl(tryfirst=True)
def pytest_pycollect_makeitem(collector: pytest.Collector, name: str, obj: object) -> None:
    """Mark a coroutine test that uses this plugin for pytest-asyncio, before it is collected."""
    is_test = getattr(collector, "funcnamefilter", lambda n: n.startswith("test"))
    if not (inspect.iscoroutinefunction(obj) and is_test(name)):
        return
    if _has_mark(obj, "asyncio") or not (_uses_plugin(obj) or _has_mark(collector, MARKER)):
        return
    pytest.mark.asyncio(obj)


def _uses_plugin(test: Any) -> bool:
    try:
        names = set(inspect.signature(test).parameters)
    except (TypeError, ValueError):
        return False
    return bool(names & FIXTURES) or _has_mark(test, MARKER)


def _has_mark(holder: Any, name: str) -> bool:
    """Whether a test function, or a collector (a module or class) or its parents, has the mark."""
    if isinstance(holder, pytest.Collector):
        return any(holder.iter_markers(name))
    marks = getattr(holder, "pytestmark", [])
    return any(getattr(mark, "name", None) == name for mark in marks)


async def client_for(sandbox: Sandbox, **settings: Any) -> Cafe24:
    """A client for `sandbox` holding a fresh token for each of its malls."""
    store = MemoryTokenStore()
    for mall_id in sandbox.config.malls:
        await store.save(mall_id, Token.from_response(sandbox.issue_token(mall_id)))
    options = {**sandbox.client_options(), **settings}
    return Cafe24(token_store=store, **options)


@pytest_asyncio.fixture
async def cafe24_sandbox(request: pytest.FixtureRequest) -> AsyncIterator[Sandbox]:
    marker = request.node.get_closest_marker(MARKER)
    settings = dict(marker.kwargs) if marker else {}
    async with Sandbox(SandboxConfig(**settings)) as sandbox:
        yield sandbox


@pytest_asyncio.fixture
async def cafe24_client(cafe24_sandbox: Sandbox) -> AsyncIterator[Cafe24]:
    client = await client_for(cafe24_sandbox)
    async with client:
        yield client
