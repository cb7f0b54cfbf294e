"""Smoke tests of the sandbox server, spoken to over real loopback HTTP.

They use a plain aiohttp session, never the cafe24 client, so they check the
server on its own: the leaky bucket and its header, OAuth code exchange and
refresh-token rotation, paging caps, keyset continuation, order date filters,
route matching and seeded fault injection.
"""

from __future__ import annotations

import base64
import re
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

import aiohttp
import pytest
from yarl import URL

from cafe24_async.routes import ROUTES
from cafe24_async.sandbox import FaultConfig, Sandbox, SandboxConfig
from cafe24_async.sandbox.dates import KST

PLACEHOLDER = re.compile(r"\{[^}]+\}")
TOKEN_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}$")


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class FakeNow:
    """A wall clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = datetime(2026, 3, 1, 3, 0, tzinfo=KST)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


def bearer(token: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {token['access_token']}"}


def basic(config: SandboxConfig) -> dict[str, str]:
    pair = f"{config.client_id}:{config.client_secret}".encode()
    return {"Authorization": "Basic " + base64.b64encode(pair).decode()}


async def test_bucket_throttles_and_reports_usage(session: aiohttp.ClientSession) -> None:
    clock = FakeClock()
    config = SandboxConfig(bucket_capacity=5, leak_rate=2.0, clock=clock, products=20)
    async with Sandbox(config) as sb:
        headers = bearer(sb.issue_token("acme"))
        url = sb.url_for("acme") + "/api/v2/admin/products/count"
        seen = []
        for _ in range(5):
            async with session.get(url, headers=headers) as resp:
                assert resp.status == 200
                seen.append(resp.headers["X-Api-Call-Limit"])
        assert seen == ["1/5", "2/5", "3/5", "4/5", "5/5"]

        async with session.get(url, headers=headers) as resp:
            assert resp.status == 429
            assert resp.headers["X-Api-Call-Limit"] == "5/5"
            body = await resp.json()
            assert body["error"]["code"] == 429
            assert body["error"]["more_info"] == {}

        clock.now += 1.0  # two calls leak out
        async with session.get(url, headers=headers) as resp:
            assert resp.status == 200
            assert resp.headers["X-Api-Call-Limit"] == "4/5"

        sb.drain_foreign("acme", 10)  # another app fills the bucket
        async with session.get(url, headers=headers) as resp:
            assert resp.status == 429

        stats = sb.stats("acme")
        assert stats.requests == 8
        assert stats.throttled == 2
        assert stats.ok == 6
        assert stats.max_level == 5
        assert stats.max_level <= config.bucket_capacity


async def test_front_and_admin_share_the_bucket_and_check_credentials(
    session: aiohttp.ClientSession,
) -> None:
    config = SandboxConfig(bucket_capacity=3, clock=FakeClock(), products=5)
    async with Sandbox(config) as sb:
        base = sb.url_for("shop")
        async with session.get(base + "/api/v2/admin/products/1") as resp:
            assert resp.status == 401
            assert resp.headers["X-Api-Call-Limit"] == "1/3"
        front = {"X-Cafe24-Client-Id": config.client_id}
        async with session.get(base + "/api/v2/products/1", headers=front) as resp:
            assert resp.status == 200
            assert (await resp.json())["product"]["product_no"] == 1
            assert resp.headers["X-Api-Call-Limit"] == "2/3"
        async with session.get(base + "/api/v2/products/1") as resp:
            assert resp.status == 401
        async with session.get(base + "/api/v2/products/1", headers=front) as resp:
            assert resp.status == 429


async def test_oauth_code_exchange_and_refresh_rotation(session: aiohttp.ClientSession) -> None:
    now = FakeNow()
    config = SandboxConfig(now=now, products=5)
    async with Sandbox(config) as sb:
        base = sb.url_for("acme")
        query = {
            "response_type": "code",
            "client_id": config.client_id,
            "state": "xyz",
            "redirect_uri": config.redirect_uri,
            "scope": "mall.read_product,mall.read_order",
        }
        async with session.get(base + "/api/v2/oauth/authorize", params=query, allow_redirects=False) as resp:
            assert resp.status == 302
            location = URL(resp.headers["Location"])
        assert str(location.with_query(None)) == config.redirect_uri
        assert location.query["state"] == "xyz"
        code = location.query["code"]

        token_url = base + "/api/v2/oauth/token"
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": config.redirect_uri}
        async with session.post(token_url, data=form, headers={"Authorization": "Basic bm9wZQ=="}) as resp:
            assert resp.status == 401
            assert (await resp.json())["error"] == "invalid_client"
        async with session.post(token_url, data=form, headers=basic(config)) as resp:
            assert resp.status == 200
            first = await resp.json()
        assert first["mall_id"] == "acme"
        assert first["scopes"] == ["mall.read_product", "mall.read_order"]
        assert first["issued_at"] == "2026-03-01T03:00:00.000"
        assert first["expires_at"] == "2026-03-01T05:00:00.000"
        for field in ("expires_at", "refresh_token_expires_at", "issued_at"):
            assert TOKEN_TIME.match(first[field])
        async with session.post(token_url, data=form, headers=basic(config)) as resp:
            assert resp.status == 400  # a code works once

        refresh = {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
        async with session.post(token_url, data=refresh, headers=basic(config)) as resp:
            assert resp.status == 200
            second = await resp.json()
        assert second["refresh_token"] != first["refresh_token"]
        async with session.post(token_url, data=refresh, headers=basic(config)) as resp:
            assert resp.status == 400
            assert await resp.json() == {
                "error": "invalid_grant",
                "error_description": "Validation error: refresh_token is invalid",
            }

        products = base + "/api/v2/admin/products/count"
        async with session.get(products, headers=bearer(second)) as resp:
            assert resp.status == 200
        now.now += timedelta(hours=2, seconds=1)
        async with session.get(products, headers=bearer(second)) as resp:
            assert resp.status == 401
            assert "expired" in (await resp.json())["error"]["message"]

        third = sb.issue_token("acme")
        sb.expire_access_token("acme")
        async with session.get(products, headers=bearer(third)) as resp:
            assert resp.status == 401
        async with session.get(
            sb.url_for("other") + "/api/v2/admin/products/count", headers=bearer(third)
        ) as resp:
            assert resp.status == 401  # a token belongs to its mall

        stats = sb.stats("acme")
        assert stats.refreshes == 1
        assert stats.invalid_grants == 2
        assert stats.token_requests == 5
        oauth_calls = [r for r in sb.requests if r.api == "oauth"]
        assert oauth_calls[-1].form == refresh
        assert oauth_calls[-1].path == "/api/v2/oauth/token"


async def test_paging_limits_are_enforced(session: aiohttp.ClientSession) -> None:
    async with Sandbox(SandboxConfig(leak_rate=1000.0, products=30)) as sb:
        headers = bearer(sb.issue_token())
        base = sb.url_for() + "/api/v2/admin/products"
        async with session.get(base, params={"offset": "5001"}, headers=headers) as resp:
            assert resp.status == 422
            assert (await resp.json())["error"]["message"] == "offset: must be at most 5000"
        async with session.get(base, params={"limit": "101"}, headers=headers) as resp:
            assert resp.status == 422
            assert (await resp.json())["error"]["message"] == "limit: must be at most 100"
        async with session.get(base, params={"offset": "5000", "limit": "100"}, headers=headers) as resp:
            assert resp.status == 200
            assert await resp.json() == {"products": []}
        async with session.get(base, headers=headers) as resp:
            assert [p["product_no"] for p in (await resp.json())["products"]] == list(range(1, 11))


async def test_since_product_no_continues_past_the_offset_cap(session: aiohttp.ClientSession) -> None:
    config = SandboxConfig(leak_rate=1000.0, per_mall_products={"big": 6000})
    async with Sandbox(config) as sb:
        headers = bearer(sb.issue_token("big"))
        base = sb.url_for("big") + "/api/v2/admin/products"
        params = {"since_product_no": "5990", "limit": "100", "fields": "product_no,price"}
        async with session.get(base, params=params, headers=headers) as resp:
            assert resp.status == 200
            products = (await resp.json())["products"]
        assert [p["product_no"] for p in products] == list(range(5991, 6001))
        assert set(products[0]) == {"product_no", "price"}
        async with session.get(base + "/count", headers=headers) as resp:
            assert await resp.json() == {"count": 6000}
        async with session.get(base, params={"product_no": "3,1,2"}, headers=headers) as resp:
            assert [p["product_no"] for p in (await resp.json())["products"]] == [1, 2, 3]


async def test_orders_date_filter_is_inclusive_in_seoul_time(session: aiohttp.ClientSession) -> None:
    async with Sandbox(SandboxConfig(leak_rate=1000.0)) as sb:
        headers = bearer(sb.issue_token())
        base = sb.url_for() + "/api/v2/admin/orders"
        day = "2026-06-15"
        expected = [o["order_id"] for o in sb.dataset().orders.records if o["order_date"].startswith(day)]
        assert expected, "the generated data should have orders on that day"
        params = {"start_date": day, "end_date": day, "limit": "1000", "embed": "items"}
        async with session.get(base, params=params, headers=headers) as resp:
            assert resp.status == 200
            orders = (await resp.json())["orders"]
        assert [o["order_id"] for o in orders] == expected
        assert all(o["order_date"].endswith("+09:00") for o in orders)
        assert all(1 <= len(o["items"]) <= 3 for o in orders)
        dates = [o["order_date"] for o in orders]
        assert dates == sorted(dates)

        count_params = {"start_date": f"{day}T00:00:00+09:00", "end_date": f"{day}T23:59:59+09:00"}
        async with session.get(base + "/count", params=count_params, headers=headers) as resp:
            assert await resp.json() == {"count": len(expected)}

        too_long = {"start_date": "2026-01-01", "end_date": "2026-04-02"}
        async with session.get(base, params=too_long, headers=headers) as resp:
            assert resp.status == 422
            assert "end_date" in (await resp.json())["error"]["message"]

        first = orders[0]["order_id"]
        async with session.get(f"{base}/{first}/items", headers=headers) as resp:
            items = (await resp.json())["items"]
        assert items == orders[0]["items"]


async def test_routes_requests_are_recorded_and_writes_echo(session: aiohttp.ClientSession) -> None:
    async with Sandbox(SandboxConfig(leak_rate=1000.0, products=10)) as sb:
        headers = bearer(sb.issue_token())
        base = sb.url_for()
        async with session.get(
            base + "/api/v2/admin/customersprivacy/%ED%95%9C%EA%B8%80", headers=headers
        ) as resp:
            assert resp.status == 404
            assert (await resp.json())["error"]["code"] == 404
        recorded = sb.requests[-1]
        assert recorded.path == "/api/v2/admin/customersprivacy/{member_id}"
        assert recorded.raw_path == "/sandbox/api/v2/admin/customersprivacy/%ED%95%9C%EA%B8%80"

        async with session.get(base + "/api/v2/admin/no/such/route", headers=headers) as resp:
            assert resp.status == 404
        async with session.get(base + "/api/v2/admin/themes", headers=headers) as resp:
            assert resp.status == 200
            assert await resp.json() == {"themes": []}

        body = {"shop_no": 1, "request": {"product_name": "새 상품", "price": 15000}}
        async with session.post(base + "/api/v2/admin/products", json=body, headers=headers) as resp:
            assert resp.status == 201
            created = (await resp.json())["product"]
        assert created["product_no"] == 11
        assert created["price"] == "15000.00"
        recorded = sb.requests[-1]
        assert (recorded.method, recorded.path, recorded.json) == ("POST", "/api/v2/admin/products", body)
        async with session.get(base + "/api/v2/admin/products/count", headers=headers) as resp:
            assert await resp.json() == {"count": 11}
        async with session.delete(base + "/api/v2/admin/products/11", headers=headers) as resp:
            assert await resp.json() == {"product": {"product_no": 11}}

        category = {"shop_no": 1, "request": {"category_name": "가방"}}
        async with session.put(base + "/api/v2/admin/categories/24", json=category, headers=headers) as resp:
            assert resp.status == 200
            assert await resp.json() == {"category": {"category_name": "가방", "category_no": 24}}
        async with session.put(
            base + "/api/v2/admin/categories/24", json={"oops": 1}, headers=headers
        ) as resp:
            assert resp.status == 400

        privacy = {"shop_no": 1, "request": {"name": "홍길동"}}
        korean = base + "/api/v2/admin/customersprivacy/" + quote("길동")
        async with session.put(korean, json=privacy, headers=headers) as resp:
            assert resp.status == 200
            assert await resp.json() == {"customersprivacy": {"name": "홍길동", "member_id": "길동"}}


async def test_every_documented_route_answers(session: aiohttp.ClientSession) -> None:
    config = SandboxConfig(bucket_capacity=10_000, leak_rate=1000.0, products=5, analytics_burst=100,
                           front_anonymous_per_second=10_000)
    async with Sandbox(config) as sb:
        token = sb.issue_token()
        headers = {**bearer(token), "X-Cafe24-Client-Id": config.client_id}
        statuses: dict[int, int] = {}
        for route in ROUTES:
            path = PLACEHOLDER.sub("1", route.path)
            params = {}
            if route.date_range is not None and route.date_range.required:
                monthly = route.date_range.start.endswith("month")
                params = {
                    route.date_range.start: "2026-01" if monthly else "2026-01-01",
                    route.date_range.end: "2026-02" if monthly else "2026-01-31",
                }
            body = None if route.method == "GET" else {"shop_no": 1, "request": {"memo": "x"}}
            auth = basic(config) if route.api == "dcollection" else headers
            async with session.request(
                route.method, sb.url_for() + path, params=params, json=body, headers=auth
            ) as resp:
                payload = await resp.json()
            statuses[resp.status] = statuses.get(resp.status, 0) + 1
            if resp.status < 300:
                assert route.response_root in payload or "count" in payload, route.qualified_name
            else:
                assert resp.status == 404, (route.qualified_name, payload)
                assert payload["error"]["code"] == 404
        assert sum(statuses.values()) == len(ROUTES)
        assert statuses.get(404, 0) < 20  # only lookups of records that do not exist


async def _outcomes(config: SandboxConfig, count: int) -> tuple[list[str], list[int | None]]:
    """What the client saw, and the statuses the server answered (None: dropped)."""
    outcomes = []
    async with Sandbox(config) as sb, aiohttp.ClientSession() as client:
        headers = bearer(sb.issue_token())
        url = sb.url_for() + "/api/v2/admin/products"
        for _ in range(count):
            try:
                async with client.get(url, headers=headers) as resp:
                    text = await resp.text()
                    try:
                        await resp.json()
                        outcomes.append(str(resp.status))
                    except ValueError:
                        outcomes.append(f"cut:{len(text)}")
            except aiohttp.ClientConnectionError:
                outcomes.append("drop")
        served = [r.status for r in sb.requests]
        stats = sb.stats()
        assert stats.errors_injected == sum(s in (500, 503, 504) for s in served)
        # aiohttp retries an idempotent request once when the server hangs up,
        # so the server sees more drops than the client reports.
        assert stats.dropped == served.count(None) >= outcomes.count("drop")
        assert stats.truncated == sum(o.startswith("cut:") for o in outcomes)
    return outcomes, served


async def test_faults_are_deterministic_for_a_seed() -> None:
    faults = FaultConfig(seed=7, error_rate=0.3, drop_rate=0.1, truncate_rate=0.1)
    config = SandboxConfig(leak_rate=1000.0, products=20, faults=faults)
    first = await _outcomes(config, 40)
    second = await _outcomes(config, 40)
    assert first == second
    outcomes, served = first
    assert None in served
    assert any(o.startswith("cut:") for o in outcomes)
    assert {"500", "503", "504"} & set(outcomes)
    assert "200" in outcomes
    reseeded = SandboxConfig(
        leak_rate=1000.0,
        products=20,
        faults=FaultConfig(seed=8, error_rate=0.3, drop_rate=0.1, truncate_rate=0.1),
    )
    assert (await _outcomes(reseeded, 40)) != first
