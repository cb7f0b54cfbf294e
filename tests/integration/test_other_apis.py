"""The Analytics API (token bucket) and the D.Collection API (Basic auth, fixed window),
against the sandbox over real HTTP.

Both go through the same request path as the Admin API: the route table names
the API, the API definition names the auth and the limiter. The sandbox plays
the throttles with short, settable periods, so pacing is checked by counting
the server's 429s, not by timing.
"""

from __future__ import annotations

import asyncio
import base64
from typing import Any

import aiohttp
import pytest

from cafe24_async import ConfigurationError, MemoryTokenStore
from cafe24_async.client import Cafe24
from cafe24_async.ratelimit.limiter import RateLimitSettings, TokenBucketLimiter
from cafe24_async.routes import APIS, ROUTES, Route
from tests.client.test_route_table import resolve
from tests.conftest import ClientFactory, SandboxFactory

DATES = {"start_date": "2026-03-01", "end_date": "2026-03-07"}
#: These tests read no shop data: keep the generated mall small.
SMALL: dict[str, Any] = {"malls": ("acme",), "products": 10, "customers": 10, "orders": 20, "reviews": 10}


def required_args(route: Route) -> dict[str, Any]:
    """The smallest valid call of an Analytics or D.Collection route."""
    if route.api == "analytics":
        return dict(DATES)
    kwargs: dict[str, Any] = {}
    for param in route.params:
        if param.required and param.name == "dcollection_product_category":
            kwargs[param.name] = ["C200802"]
        elif param.required and param.name == "store_id":
            kwargs[param.name] = ["store002"]
    return kwargs


def basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


async def test_every_analytics_and_dcollection_route_is_callable(
    make_sandbox: SandboxFactory, make_client: ClientFactory
) -> None:
    sb = await make_sandbox(**SMALL, analytics_refill=200.0)
    api = await make_client(sb, rate_limit=RateLimitSettings(analytics_refill_per_second=200.0))
    mall = api.mall("acme")
    expected_basic = basic(sb.config.client_id, sb.config.client_secret)
    called = {"analytics": 0, "dcollection": 0}
    for route in ROUTES:
        if route.api not in called:
            continue
        before = len(sb.requests)
        result = await resolve(mall, route, api)(**required_args(route))
        assert len(sb.requests) == before + 1, route.qualified_name
        req = sb.requests[-1]
        assert (req.method, req.path, req.api, req.status) == ("GET", route.path, route.api, 200)
        assert req.raw_path == route.path  # served at the API's own root, not under a mall
        if route.api == "analytics":
            assert req.headers["Authorization"].startswith("Bearer ")
            assert req.query["mall_id"] == "acme"
            assert (req.query["start_date"], req.query["end_date"]) == ("2026-03-01", "2026-03-07")
            assert isinstance(result, list) and result
        else:
            assert req.headers["Authorization"] == expected_basic
            assert "mall_id" not in req.query
            if route.response_kind == "count":
                assert isinstance(result, int) and result > 0
            else:
                assert isinstance(result, list) and result
        called[route.api] += 1
    assert called == {"analytics": 24, "dcollection": 5}
    assert sb.stats("acme").throttled == 0 and sb.partner_stats().throttled == 0


async def test_the_limiter_and_auth_kinds_come_from_the_api_definitions(
    make_sandbox: SandboxFactory, make_client: ClientFactory
) -> None:
    assert (APIS["analytics"].auth, APIS["analytics"].limiter) == ("bearer", "token_bucket")
    assert (APIS["dcollection"].auth, APIS["dcollection"].limiter) == ("basic", "fixed_window")
    sb = await make_sandbox(**SMALL)
    api = await make_client(sb)
    await api.mall("acme").analytics.visitors.view.list(**DATES)
    await api.dcollection.products.standardtags.list()
    assert isinstance(api.mall("acme").limiter("token_bucket"), TokenBucketLimiter)
    assert api.mall("acme").limiter("token_bucket") is not api.mall("acme").limiter("leaky_bucket")


async def test_analytics_pacing_follows_the_server_bucket(
    make_sandbox: SandboxFactory, make_client: ClientFactory
) -> None:
    """50 concurrent calls, burst 10, refill 100/s: zero 429s. The client is set to a far
    faster refill; the X-RateLimit-Replenish-Rate header brings it down to the server's."""
    sb = await make_sandbox(**SMALL, analytics_refill=100.0)
    api = await make_client(sb, rate_limit=RateLimitSettings(analytics_refill_per_second=5000.0))
    mall = api.mall("acme")
    rows = await asyncio.gather(*(mall.analytics.visitors.pageview.list(**DATES) for _ in range(50)))
    assert len(rows) == 50 and all(len(r) == 100 for r in rows)
    assert sb.stats("acme").throttled == 0
    limiter = mall.limiter("token_bucket")
    assert isinstance(limiter, TokenBucketLimiter)
    assert limiter.bucket.leak_rate == 100.0 and limiter.bucket.capacity == 10
    last = sb.requests[-1]
    assert last.status == 200


async def test_analytics_429_is_absorbed(make_sandbox: SandboxFactory, make_client: ClientFactory) -> None:
    sb = await make_sandbox(**SMALL, analytics_refill=100.0)
    api = await make_client(sb, rate_limit=RateLimitSettings(analytics_refill_per_second=100.0))
    mall = api.mall("acme")
    await mall.analytics.visitors.view.list(**DATES)
    sb.drain_analytics("acme")  # another app took every token: the client does not know yet
    assert len(await mall.analytics.visitors.view.list(**DATES)) == 100
    assert sb.stats("acme").throttled == 1
    assert mall.stats.throttled == 1 and mall.stats.statuses[429] == 1


async def test_analytics_pages_of_100_by_offset(make_sandbox: SandboxFactory, make_client: ClientFactory) -> None:
    sb = await make_sandbox(**SMALL, analytics_rows=250)
    api = await make_client(sb)
    mall = api.mall("acme")
    rows = [r async for r in mall.analytics.visitors.view.iterate(**DATES, limit=100)]
    assert len(rows) == 250
    assert {r["date"] for r in rows} == {f"2026-03-0{d}" for d in range(1, 8)}
    pages = [r for r in sb.requests if r.path == "/visitors/view"]
    assert [(int(r.query.get("offset", 0)), r.query["limit"]) for r in pages] == [
        (0, "100"), (100, "100"), (200, "100")
    ]
    assert all(r.query["mall_id"] == "acme" for r in pages)
    # Without a limit, the largest documented page (1000) is asked for: one call.
    sb.clear_requests()
    assert len([r async for r in mall.analytics.visitors.view.iterate(**DATES)]) == 250
    assert [r.query["limit"] for r in sb.requests] == ["1000"]


async def test_dcollection_window_paces_concurrent_calls(
    make_sandbox: SandboxFactory, make_client: ClientFactory
) -> None:
    """15 concurrent calls through a window of 5 per 0.15 s: zero 429s."""
    sb = await make_sandbox(**SMALL, dcollection_limit=5, dcollection_window=0.15)
    api = await make_client(sb, rate_limit=RateLimitSettings(dcollection_limit=5, dcollection_window=0.15))
    pages = await asyncio.gather(*(api.dcollection.shops.list(limit=10) for _ in range(15)))
    assert all(len(p) == 10 for p in pages)
    stats = sb.partner_stats()
    assert stats.requests == 15 and stats.throttled == 0
    arrivals = sorted(r.at for r in sb.requests)
    assert arrivals[-1] - arrivals[0] >= 0.3  # 15 calls at 5 per window took three windows


async def test_dcollection_429_waits_for_the_window(
    make_sandbox: SandboxFactory, make_client: ClientFactory
) -> None:
    sb = await make_sandbox(**SMALL, dcollection_limit=5, dcollection_window=0.3)
    api = await make_client(sb, rate_limit=RateLimitSettings(dcollection_limit=5, dcollection_window=0.3))
    assert await api.dcollection.products.count(dcollection_product_category=["C200801"]) == 60
    sb.use_up_dcollection_window()  # another process behind the same IP
    assert len(await api.dcollection.shops.list(limit=5)) == 5
    statuses = [r.status for r in sb.requests]
    assert statuses == [200, 429, 200]
    refused, retried = sb.requests[1], sb.requests[2]
    assert retried.at - refused.at >= 0.2  # waited for the window (Retry-After), no hammering
    assert api.stats() == {}  # D.Collection calls are partner-wide, not a mall's


async def test_dcollection_iterate_filters_and_pages(
    make_sandbox: SandboxFactory, make_client: ClientFactory
) -> None:
    sb = await make_sandbox(**SMALL, dcollection_products=500)
    api = await make_client(sb)
    products = [p async for p in api.dcollection.products.iterate(
        dcollection_product_category=["C200803"], limit=30
    )]
    assert len(products) == 100 and {p["dcollection_product_category"] for p in products} == {"C200803"}
    assert len({p["product_ukey"] for p in products}) == 100
    lists = [r for r in sb.requests if r.path == "/api/products"]
    assert sorted(int(r.query.get("offset", 0)) for r in lists) == [0, 30, 60, 90]  # count said 100
    shops = [s async for s in api.dcollection.shops.iterate(limit=25)]
    assert len(shops) == 60
    store = [p async for p in api.dcollection.storeproducts.iterate(store_id=["store007"])]
    assert store and {p["store_id"] for p in store} == {"store007"}
    assert sb.partner_stats().throttled == 0


async def test_dcollection_needs_partner_credentials(make_sandbox: SandboxFactory) -> None:
    sb = await make_sandbox(**SMALL)
    async with Cafe24(client_id=sb.config.client_id, token_store=MemoryTokenStore(),
                      dcollection_base_url=sb.root_url) as api:
        with pytest.raises(ConfigurationError, match="dcollection_credentials"):
            await api.dcollection.shops.list()
    assert len(sb.requests) == 0
    wrong = basic(sb.config.client_id, "not-the-secret")
    async with aiohttp.ClientSession() as session, session.get(
        sb.root_url + "/api/shops", headers={"Authorization": wrong}
    ) as resp:
        assert resp.status == 401


async def test_the_sandbox_checks_analytics_credentials_and_mall_id(make_sandbox: SandboxFactory) -> None:
    sb = await make_sandbox(**{**SMALL, "malls": ("acme", "beta")})
    bearer = {"Authorization": "Bearer " + sb.issue_token("acme")["access_token"]}
    url = sb.root_url + "/visitors/view"
    cases = [
        ({**DATES, "mall_id": "acme"}, bearer, 200),
        (DATES, bearer, 422),  # mall_id is required
        ({**DATES, "mall_id": "beta"}, bearer, 401),  # acme's token, beta's data
        ({**DATES, "mall_id": "acme"}, {}, 401),
    ]
    async with aiohttp.ClientSession() as session:
        for query, headers, status in cases:
            async with session.get(url, params=query, headers=headers) as resp:
                assert resp.status == status, (query, headers)
                assert resp.headers["X-RateLimit-Burst-Capacity"] == "10"
                assert resp.headers["X-RateLimit-Replenish-Rate"] == "0.5"
                assert "X-Cafe24-Call-Usage" not in resp.headers  # usage quotas are off by default
