"""Cancellation and shutdown: nothing left behind, nothing released twice.

Calls are cancelled while in flight on slow answers, while waiting for the
bucket, and while backing off before a retry; exports are abandoned half way.
Afterwards the limiter holds nothing in flight, no task of the client is left
pending, no connection stays checked out, and the next call works. A closed
client refuses calls with `ClientClosedError`, including calls that were
already under way.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Callable, Iterator
from typing import Any

import aiohttp
import pytest

from cafe24_async import Cafe24, Cafe24Error, ClientClosedError, RetrySettings
from cafe24_async.mall import Mall
from cafe24_async.sandbox import FaultConfig, Sandbox
from tests.conftest import ClientFactory, SandboxFactory

FAST = RetrySettings(base_delay=0.001, max_delay=0.01)


async def until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    """Wait for `condition` (polled), failing the test after `timeout` seconds."""
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.002)


#: Where the tasks of the sandbox's server side run (it shares the test's event loop).
SERVER_SIDE = ("aiohttp/web_", "cafe24_async/sandbox/", "asyncio/selector_events.py")


def client_tasks() -> set[asyncio.Task[Any]]:
    """Pending tasks other than the test itself and the sandbox server's own."""
    current = asyncio.current_task()
    mine = set()
    for task in asyncio.all_tasks():
        if task is current or task.done():
            continue
        code = getattr(task.get_coro(), "cr_code", None)
        filename = code.co_filename if code is not None else ""
        if any(part in filename for part in SERVER_SIDE):
            continue
        mine.add(task)
    return mine


def checked_out_connections(api: Cafe24) -> int:
    connector = api.session.connector
    assert connector is not None
    return len(connector._acquired)  # aiohttp keeps no public count of connections in use


def in_flight(mall: Mall) -> int:
    return mall.limiter("leaky_bucket").bucket.in_flight  # type: ignore[attr-defined,no-any-return]


@contextlib.contextmanager
def loop_errors() -> Iterator[list[dict[str, Any]]]:
    """Errors the event loop reports (e.g. 'Task exception was never retrieved')."""
    loop = asyncio.get_running_loop()
    seen: list[dict[str, Any]] = []
    previous = loop.get_exception_handler()
    loop.set_exception_handler(lambda _loop, context: seen.append(context))
    try:
        yield seen
    finally:
        loop.set_exception_handler(previous)


async def test_cancelling_calls_in_flight(make_sandbox: SandboxFactory, make_client: ClientFactory) -> None:
    sb = await make_sandbox(malls=("acme",), products=20)
    api = await make_client(sb, retry=FAST)
    mall = api.mall("acme")
    await mall.admin.products.count()
    sb.set_faults(FaultConfig(slow_rate=1.0, slow_seconds=1.0))
    before = sb.stats("acme").requests
    with loop_errors() as errors:
        tasks = [asyncio.create_task(mall.admin.products.get(i)) for i in range(1, 11)]
        await until(lambda: sb.stats("acme").requests == before + 10)  # all ten are on the wire
        assert in_flight(mall) == 10 and checked_out_connections(api) == 10
        for task in tasks:
            task.cancel()
        results = await asyncio.gather(*tasks, return_exceptions=True)
        assert all(isinstance(r, asyncio.CancelledError) for r in results)
        assert in_flight(mall) == 0
        assert checked_out_connections(api) == 0
        assert client_tasks() == set()
        sb.set_faults(FaultConfig())
        assert await mall.admin.products.count() == 20
    assert errors == []


async def test_cancelling_calls_waiting_for_the_bucket(
    make_sandbox: SandboxFactory, make_client: ClientFactory
) -> None:
    sb = await make_sandbox(malls=("acme",), products=20)
    api = await make_client(sb, leak_rate=5.0, bucket_capacity=3, retry=FAST)
    mall = api.mall("acme")
    with loop_errors() as errors:
        tasks = [asyncio.create_task(mall.admin.products.get(1 + i % 20)) for i in range(30)]
        await until(lambda: sum(t.done() for t in tasks) >= 3)
        for task in tasks:
            task.cancel()
        results = await asyncio.gather(*tasks, return_exceptions=True)
        assert all(isinstance(r, (dict, asyncio.CancelledError)) for r in results)
        assert any(isinstance(r, asyncio.CancelledError) for r in results)
        assert in_flight(mall) == 0
        assert client_tasks() == set()
        bucket = mall.limiter("leaky_bucket").bucket  # type: ignore[attr-defined]
        assert len(bucket._waiters) == 0  # no cancelled waiter left queued in aiolimiter
    assert errors == []


async def test_cancelling_a_call_backing_off(make_sandbox: SandboxFactory, make_client: ClientFactory) -> None:
    sb = await make_sandbox(malls=("acme",), products=20)
    api = await make_client(sb, retry=RetrySettings(max_elapsed=1000))
    mall = api.mall("acme")
    sb.set_faults(FaultConfig(error_rate=1.0, error_statuses=(503,), retry_after=60.0))
    task = asyncio.create_task(mall.admin.products.count())
    await until(lambda: mall.stats.retries == 1)  # answered 503, now waiting 60 s
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert in_flight(mall) == 0 and client_tasks() == set()
    assert sb.stats("acme").requests == 1


async def test_random_cancellations_under_faults(make_sandbox: SandboxFactory, make_client: ClientFactory) -> None:
    """Cancel at random moments in every phase: the books still balance."""
    sb = await make_sandbox(malls=("acme",), products=100, leak_rate=400.0, bucket_capacity=10)
    api = await make_client(sb, retry=FAST)
    mall = api.mall("acme")
    sb.set_faults(FaultConfig(seed=3, error_rate=0.1, drop_rate=0.05, truncate_rate=0.05,
                              slow_rate=0.1, slow_seconds=0.05))
    rng = random.Random(7)
    with loop_errors() as errors:
        tasks = [asyncio.create_task(mall.admin.products.get(1 + i % 100)) for i in range(300)]

        async def canceller() -> None:
            for task in rng.sample(tasks, 150):
                await asyncio.sleep(rng.uniform(0, 0.002))
                task.cancel()

        await canceller()
        results = await asyncio.gather(*tasks, return_exceptions=True)
        kinds = {type(r).__name__ for r in results}
        assert kinds <= {"dict", "CancelledError", "ServerError", "Cafe24ConnectionError", "DecodeError"}, kinds
        assert "RuntimeError" not in kinds and "dict" in kinds and "CancelledError" in kinds
        assert in_flight(mall) == 0
        assert checked_out_connections(api) == 0
        assert client_tasks() == set()
        sb.set_faults(FaultConfig())
        assert await mall.admin.products.count() == 100
    assert errors == []


async def test_leaving_an_export_early_cancels_its_page_fetches(
    make_sandbox: SandboxFactory, make_client: ClientFactory
) -> None:
    sb = await make_sandbox(malls=("acme",), products=3000)
    api = await make_client(sb, retry=FAST)
    mall = api.mall("acme")
    sb.set_faults(FaultConfig(seed=1, slow_rate=0.3, slow_seconds=0.05))
    with loop_errors() as errors:
        seen = 0
        async with contextlib.aclosing(mall.admin.products.iterate(limit=50, concurrency=8)) as records:
            async for _ in records:
                seen += 1
                if seen == 120:
                    break
        assert in_flight(mall) == 0 and client_tasks() == set()
        assert checked_out_connections(api) == 0
    assert errors == []


async def test_a_closed_client_refuses_calls_clearly(make_sandbox: SandboxFactory, make_client: ClientFactory) -> None:
    sb = await make_sandbox(malls=("acme",), products=20)
    api = await make_client(sb, retry=RetrySettings(max_elapsed=1000))
    mall = api.mall("acme")
    await mall.admin.products.count()
    sb.set_faults(FaultConfig(slow_rate=1.0, slow_seconds=1.0))
    on_the_wire = asyncio.create_task(mall.admin.products.get(1))
    writing = asyncio.create_task(mall.admin.products.create(product_name="closing", supply_price=1))  # no retry
    await until(lambda: in_flight(mall) == 2 and sb.stats("acme").slowed == 2)
    sb.set_faults(FaultConfig(error_rate=1.0, error_statuses=(503,), retry_after=60.0))
    backing_off = asyncio.create_task(mall.admin.products.get(2))
    await until(lambda: mall.stats.retries == 1)
    await api.close()
    for task in (on_the_wire, writing, backing_off):
        with pytest.raises(ClientClosedError, match="closed"):
            await asyncio.wait_for(task, 5)
    with pytest.raises(ClientClosedError, match="closed"):
        await mall.admin.products.count()
    with pytest.raises(ClientClosedError):
        api.mall("other")
    assert isinstance(ClientClosedError("x"), Cafe24Error)
    assert in_flight(mall) == 0 and client_tasks() == set()


async def test_closing_twice_and_leaving_the_context(make_sandbox: SandboxFactory) -> None:
    sb = await make_sandbox(malls=("acme",), products=5)
    async with Cafe24(client_id=sb.config.client_id, base_url=sb.base_url) as api:
        assert len(await api.mall("acme").front.products.list(limit=5)) == 5
        session = api.session
    assert session.closed and api.closed
    await api.close()  # harmless
    with pytest.raises(ClientClosedError):
        async with api:
            pass
    _ = Sandbox  # the sandbox keeps running: only the client is closed


async def test_a_session_given_and_closed_by_its_owner_refuses_calls_clearly(
    make_sandbox: SandboxFactory, make_client: ClientFactory
) -> None:
    sb = await make_sandbox(malls=("acme",), products=5)
    session = aiohttp.ClientSession()
    api = await make_client(sb, session=session)
    mall = api.mall("acme")
    assert await mall.admin.products.count() == 5
    await session.close()  # the owner's session, closed under the client
    with pytest.raises(ClientClosedError, match="connection pool is closed"):
        await mall.admin.products.count()
    assert in_flight(mall) == 0
