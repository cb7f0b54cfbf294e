"""Where the live API differs from the docs, over real HTTP against the sandbox.

Each fact of `spec/overrides.json` and of the validation policy is exercised: the
call reaches the sandbox (or is refused before sending) exactly as the live API
would see it.
"""

from __future__ import annotations

import asyncio
import base64
import logging

import pytest

from cafe24_async import (
    ApiVersionError,
    ApiVersionWarning,
    Cafe24,
    ConfigurationError,
    MemoryTokenStore,
    NotFoundError,
    PermissionDeniedError,
    RetrySettings,
    ServerError,
    Token,
    UnprocessableError,
    ValidationError,
)
from cafe24_async.routes import find_route
from cafe24_async.sandbox import FaultConfig
from tests.conftest import ClientFactory, SandboxFactory


async def test_shop_no_passes_on_every_admin_route(make_sandbox: SandboxFactory, make_client: ClientFactory) -> None:
    sb = await make_sandbox(malls=("acme",))
    mall = (await make_client(sb)).mall("acme")
    await mall.admin.categories.list(shop_no=2)  # the reference's table for this route omits it
    await mall.admin.products.get(1, shop_no=2)
    sent = [r for r in sb.requests if r.path in ("/api/v2/admin/categories", "/api/v2/admin/products/{product_no}")]
    assert [(r.query.get("shop_no"), r.status) for r in sent] == [("2", 200), ("2", 200)]


async def test_variant_supply_price_follows_the_malls_setting(
    make_sandbox: SandboxFactory, make_client: ClientFactory
) -> None:
    sb = await make_sandbox(malls=("acme",))
    mall = (await make_client(sb)).mall("acme")
    code = sb.dataset("acme").variants(1).records[0]["variant_code"]
    with pytest.raises(UnprocessableError, match="Supply price by item cannot be modified"):
        await mall.admin.products.variants.update_by_product_no(1, code, supply_price=900)
    per_variant = await make_sandbox(malls=("acme",), variant_supply_price=True)
    mall = (await make_client(per_variant)).mall("acme")
    answer = await mall.admin.products.variants.update_by_product_no(1, code, supply_price=900)
    assert answer["supply_price"] == 900
    assert per_variant.requests[-1].json["request"] == {"supply_price": 900}


async def test_customersprivacy_takes_created_end_date(make_sandbox: SandboxFactory, make_client: ClientFactory) -> None:
    sb = await make_sandbox(malls=("acme",))
    mall = (await make_client(sb)).mall("acme")
    await mall.admin.customersprivacy.list(created_start_date="2026-01-01", created_end_date="2026-01-31")
    assert sb.requests[-1].query["created_end_date"] == "2026-01-31" and sb.requests[-1].status == 200


async def test_orders_take_the_date_types_public_field_code_sends(
    make_sandbox: SandboxFactory, make_client: ClientFactory
) -> None:
    """`updatereceiver_date` and `refund_date` reach the server (an overrides row adds them to the
    code list); a read of changes reads them only when asked."""
    sb = await make_sandbox(malls=("acme",), products=5, orders=50)
    mall = (await make_client(sb)).mall("acme")
    dates = {"start_date": "2026-10-01", "end_date": "2026-10-31"}
    for date_type in ("updatereceiver_date", "refund_date"):
        assert await mall.admin.orders.list(date_type=date_type, **dates) == []  # no order holds the date
        assert await mall.admin.orders.count(date_type=date_type, **dates) == 0
    sent = [(r.path, r.query["date_type"], r.status) for r in sb.requests]
    assert sent == [(path, date_type, 200) for date_type in ("updatereceiver_date", "refund_date")
                    for path in ("/api/v2/admin/orders", "/api/v2/admin/orders/count")]
    sb.clear_requests()
    [o async for o in mall.admin.orders.iterate_changes(since="2026-10-01", until="2026-10-31")]
    changes = find_route("GET", "/api/v2/admin/orders").changes
    assert changes is not None and not {"updatereceiver_date", "refund_date"} & set(changes.date_types)
    assert {r.query["date_type"] for r in sb.requests} == set(changes.date_types)
    sb.clear_requests()
    asked = mall.admin.orders.iterate_changes(since="2026-10-01", until="2026-10-31", date_types=["refund_date"])
    assert [o async for o in asked] == []
    assert {r.query["date_type"] for r in sb.requests} == {"refund_date"}


async def test_a_lone_object_for_a_documented_list_is_a_one_element_list(
    make_sandbox: SandboxFactory, make_client: ClientFactory
) -> None:
    sb = await make_sandbox(malls=("acme",))
    mall = (await make_client(sb)).mall("acme")
    dashboard = await mall.admin.dashboard.list()
    assert isinstance(dashboard, list) and len(dashboard) == 1 and dashboard[0]["shop_no"] == 1


async def test_extra_params_reach_the_server_unchecked(make_sandbox: SandboxFactory, make_client: ClientFactory) -> None:
    sb = await make_sandbox(malls=("acme",))
    mall = (await make_client(sb)).mall("acme")
    await mall.admin.products.list(limit=5, extra_params={"quantity_min": 3})
    assert sb.requests[-1].query == {"limit": "5", "quantity_min": "3"}
    code = sb.dataset("acme").variants(1).records[0]["variant_code"]
    await mall.admin.products.variants.update_by_product_no(1, code, display=True, extra_params={"memo": "x"})
    assert sb.requests[-1].json["request"] == {"display": "T", "memo": "x"}
    await mall.call("GET", "/api/v2/admin/products", limit=5, extra_params={"sort": "stock"})
    assert sb.requests[-1].query["sort"] == "stock"


async def test_typos_and_unknown_codes_are_refused_before_sending(
    make_sandbox: SandboxFactory, make_client: ClientFactory
) -> None:
    sb = await make_sandbox(malls=("acme",))
    mall = (await make_client(sb)).mall("acme")
    before = len(sb.requests)
    with pytest.raises(ValidationError, match="did you mean stock_quantity_min"):
        await mall.admin.products.list(quantity_min=1)
    with pytest.raises(ValidationError, match="sort: must be one of"):
        await mall.admin.products.list(sort="bogus")
    with pytest.raises(ValidationError, match="did you mean stock_quantity_min"):
        async for _ in mall.admin.products.iterate(quantity_min=1):
            pass
    assert len(sb.requests) == before


async def test_a_client_may_warn_instead(
    make_sandbox: SandboxFactory, make_client: ClientFactory, caplog: pytest.LogCaptureFixture
) -> None:
    sb = await make_sandbox(malls=("acme",))
    mall = (await make_client(sb, unknown_params="warn")).mall("acme")
    with caplog.at_level(logging.WARNING, logger="cafe24_async.params"):
        await mall.admin.products.list(limit=5, quantity_min=1)
    assert sb.requests[-1].query == {"limit": "5", "quantity_min": "1"}
    assert "did you mean stock_quantity_min" in caplog.text


async def test_front_calls_with_the_key_are_authenticated_and_get_the_higher_limit(
    make_sandbox: SandboxFactory, make_client: ClientFactory, caplog: pytest.LogCaptureFixture
) -> None:
    sb = await make_sandbox(malls=("acme",), front_anonymous_per_second=5)
    anonymous = (await make_client(sb)).mall("acme")
    await asyncio.gather(*(anonymous.front.categories.list() for _ in range(20)))
    refused_without_key = sb.stats("acme").statuses.get(429, 0)
    assert refused_without_key > 0  # the lower limit bit (each 429 was retried)
    key = sb.config.front_api_key
    with caplog.at_level(logging.DEBUG):
        client = await make_client(sb, front_api_key=key)
        keyed = client.mall("acme")
        await asyncio.gather(*(keyed.front.categories.list() for _ in range(20)))
    assert sb.stats("acme").statuses.get(429, 0) == refused_without_key  # no new 429
    sent = sb.requests[-1].headers["Authorization"]
    assert sent == "Basic " + base64.b64encode(f"{sb.config.client_id}:{key}".encode()).decode()
    assert key not in repr(client) + repr(client.credentials) + caplog.text


async def test_a_refused_api_version_names_the_pinned_one_and_the_servers_default(
    make_sandbox: SandboxFactory, make_client: ClientFactory
) -> None:
    sb = await make_sandbox(malls=("acme",))
    api = await make_client(sb, api_version="2026-04-01")  # not a release
    with pytest.raises(ApiVersionError) as info:
        await api.mall("acme").admin.products.count()
    assert (info.value.pinned, info.value.default) == ("2026-04-01", max(sb.config.api_versions))
    assert "2026-04-01" in str(info.value) and info.value.trace_id
    ok = await make_client(sb, api_version="2026-09-01")
    assert await ok.mall("acme").admin.products.count() >= 0
    assert sb.requests[-1].headers["X-Cafe24-Api-Version"] == "2026-09-01"


async def test_an_old_pinned_version_warns_and_an_expired_one_is_refused(
    make_sandbox: SandboxFactory, make_client: ClientFactory
) -> None:
    sb = await make_sandbox(malls=("acme",))
    with pytest.warns(ApiVersionWarning, match="older than one year"):
        api = await make_client(sb, api_version="2025-06-01")
    with pytest.raises(ApiVersionError, match="2025-06-01"):
        await api.mall("acme").admin.products.count()
    with pytest.raises(ConfigurationError, match="api_version"):
        Cafe24(client_id="x", api_version="June 2026")


async def test_errors_carry_the_trace_id_in_text_and_logs(
    make_sandbox: SandboxFactory, make_client: ClientFactory, caplog: pytest.LogCaptureFixture
) -> None:
    sb = await make_sandbox(malls=("acme",))
    mall = (await make_client(sb, retry=RetrySettings(base_delay=0.001, max_attempts=2))).mall("acme")
    with pytest.raises(NotFoundError) as info:
        await mall.admin.products.get(987654321)
    assert info.value.trace_id and f"trace_id {info.value.trace_id}" in str(info.value)
    sb.set_faults(FaultConfig(error_rate=1.0, error_statuses=(503,)))
    with caplog.at_level(logging.DEBUG, logger="cafe24_async.request"), pytest.raises(ServerError) as failed:
        await mall.admin.products.count()
    retries = [r for r in caplog.records if getattr(r, "trace_id", None)]
    assert retries and failed.value.trace_id and "trace_id" in retries[0].getMessage()


async def test_a_token_without_the_routes_scope_gets_403(make_sandbox: SandboxFactory) -> None:
    sb = await make_sandbox(malls=("acme",))
    store = MemoryTokenStore()
    await store.save("acme", Token.from_response(sb.issue_token("acme", scopes=("mall.read_product",))))
    async with Cafe24(client_id=sb.config.client_id, client_secret=sb.config.client_secret,
                      token_store=store, base_url=sb.base_url, max_per_second=None) as api:
        assert await api.mall("acme").admin.products.count() >= 0
        with pytest.raises(PermissionDeniedError, match="insufficient_scope"):
            await api.mall("acme").admin.orders.count(start_date="2026-01-01", end_date="2026-01-31")


async def test_a_lower_offset_cap_is_learned_and_orders_come_whole_in_smaller_windows(
    make_sandbox: SandboxFactory, make_client: ClientFactory
) -> None:
    sb = await make_sandbox(malls=("acme",), orders=8_000, offset_caps={"/api/v2/admin/orders": 500})
    mall = (await make_client(sb)).mall("acme")
    seen = [o["order_id"] async for o in mall.admin.orders.iterate(start_date="2025-11-01", end_date="2026-10-31")]
    expected = {o["order_id"] for o in sb.dataset("acme").orders.records}
    assert len(seen) == len(expected) == len(set(seen)) and set(seen) == expected
    refused = [r for r in sb.requests if r.status == 422]
    assert refused and all(int(r.query["offset"]) > 500 for r in refused)  # only probes were refused
    learned = mall.offset_caps.cap(find_route("GET", "/api/v2/admin/orders"))
    assert learned is not None and learned < 15_000


async def test_a_lower_offset_cap_on_a_keyset_route_goes_on_with_the_keyset(
    make_sandbox: SandboxFactory, make_client: ClientFactory
) -> None:
    sb = await make_sandbox(malls=("acme",), per_mall_products={"acme": 3_000},
                            offset_caps={"/api/v2/admin/products": 1_000})
    mall = (await make_client(sb)).mall("acme")
    seen = [p["product_no"] async for p in mall.admin.products.iterate(fields=["product_no"])]
    expected = [p["product_no"] for p in sb.dataset("acme").products.records]
    assert sorted(seen) == sorted(expected) and len(seen) == len(set(seen)) == 3_000
    assert any(r.status == 422 for r in sb.requests)


async def test_the_live_usage_quotas_are_the_sandboxs_served_defaults(make_client: ClientFactory) -> None:
    from cafe24_async.sandbox import Sandbox, SandboxConfig
    from cafe24_async.sandbox.config import LIVE_QUOTAS

    assert (LIVE_QUOTAS["call_quota"], LIVE_QUOTAS["time_quota"] / 1000, LIVE_QUOTAS["quota_window"]) == (
        3000, 600, 600)
    async with Sandbox(SandboxConfig(malls=("acme",), leak_rate=1000.0, **LIVE_QUOTAS)) as sb:
        mall = (await make_client(sb)).mall("acme")
        for _ in range(30):
            await mall.admin.products.count()
        assert mall.quota.call_usage is not None and 0.8 <= mall.quota.call_usage <= 1.0  # ~30 of 3,000
