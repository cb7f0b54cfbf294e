"""Observability: per-mall stats from the client, logs that name the mall and route,
and aiohttp trace configs passed through to the connection pool."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from types import SimpleNamespace

import aiohttp
import pytest

from cafe24_async import RetrySettings
from cafe24_async.sandbox import FaultConfig
from tests.conftest import ClientFactory, SandboxFactory

FAST = RetrySettings(base_delay=0.001, max_delay=0.01)


async def test_stats_match_what_the_server_saw(make_sandbox: SandboxFactory, make_client: ClientFactory) -> None:
    sb = await make_sandbox(malls=("acme", "beta"), products=50, leak_rate=200.0)
    api = await make_client(sb, leak_rate=200.0, bucket_capacity=10, retry=FAST)
    acme, beta = api.mall("acme"), api.mall("beta")
    assert api.stats()["acme"].bucket_level is None  # nothing sent yet
    await asyncio.gather(*(acme.admin.products.get(1 + i % 50) for i in range(60)))
    stats = api.stats()
    assert stats["acme"].bucket_level is not None and stats["acme"].bucket_level > 0  # just filled by a burst
    assert stats["acme"].bucket_wait_seconds > 0  # 60 calls into a bucket of 10 had to wait
    sb.set_faults(FaultConfig(seed=1, error_rate=0.2, throttle_rate=0.1))
    sb.expire_access_token("beta")
    for i in range(1, 31):
        await beta.admin.products.get(i)
    stats = api.stats()
    server = sb.stats("beta")
    mine = stats["beta"]
    assert mine.requests == server.requests
    assert mine.throttled == server.throttled > 0
    assert mine.retries == server.errors_injected + server.throttled > 0
    assert mine.refreshes == server.refreshes == 1
    assert mine.statuses == Counter(server.statuses)
    assert stats["acme"].requests == sb.stats("acme").requests == 60
    assert set(mine.as_dict()) >= {"requests", "retries", "throttled", "refreshes", "bucket_level",
                                   "bucket_wait_seconds", "server_level"}


async def test_logs_name_the_mall_and_route(
    make_sandbox: SandboxFactory, make_client: ClientFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="cafe24_async")
    sb = await make_sandbox(malls=("acme",), products=20)
    api = await make_client(sb, retry=RetrySettings(max_attempts=20, budget=1000.0, base_delay=0.001, max_delay=0.01))
    mall = api.mall("acme")
    sb.set_faults(FaultConfig(seed=2, error_rate=0.3, drop_rate=0.1, truncate_rate=0.1))
    for i in range(1, 21):
        await mall.admin.products.get(i)
    retries = [r for r in caplog.records if r.getMessage().startswith("retrying")]
    assert len(retries) == mall.stats.retries > 0
    for record in retries:
        assert record.levelno == logging.DEBUG and record.name == "cafe24_async.request"
        assert record.mall_id == "acme" and record.route == "admin.products.get"  # type: ignore[attr-defined]
        assert "acme" in record.getMessage() and "admin.products.get" in record.getMessage()
        assert record.attempt >= 1 and record.delay >= 0  # type: ignore[attr-defined]
    reasons = Counter(r.error for r in retries)  # type: ignore[attr-defined]
    assert "Cafe24ConnectionError" in reasons and any(k.startswith("HTTP 5") for k in reasons)
    assert any(k.startswith("DecodeError (HTTP 200") for k in reasons)
    answers = [r for r in caplog.records if getattr(r, "route", None) and not r.getMessage().startswith("retrying")]
    assert len(answers) == sb.stats("acme").requests - sb.stats("acme").dropped
    assert all(r.mall_id == "acme" for r in answers)  # type: ignore[attr-defined]


async def test_trace_configs_are_passed_through(make_sandbox: SandboxFactory, make_client: ClientFactory) -> None:
    sb = await make_sandbox(malls=("acme",), products=20)
    seen: Counter[str] = Counter()

    async def on_start(session: aiohttp.ClientSession, ctx: SimpleNamespace,
                       params: aiohttp.TraceRequestStartParams) -> None:
        seen[params.method] += 1

    async def on_end(session: aiohttp.ClientSession, ctx: SimpleNamespace,
                     params: aiohttp.TraceRequestEndParams) -> None:
        seen[f"status {params.response.status}"] += 1

    trace = aiohttp.TraceConfig()
    trace.on_request_start.append(on_start)
    trace.on_request_end.append(on_end)
    api = await make_client(sb, trace_configs=[trace])
    mall = api.mall("acme")
    sb.expire_access_token("acme")
    await mall.admin.products.count()
    await mall.admin.products.create(product_name="traced", supply_price=1)
    assert seen == Counter({"GET": 2, "POST": 2, "status 401": 1, "status 200": 2, "status 201": 1})
    assert len(sb.requests) == 4  # the 401, the token refresh, the retried count, the create
