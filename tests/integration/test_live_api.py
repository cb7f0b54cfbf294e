"""Where the live API differs from the docs, over real HTTP against the sandbox.

Each fact of `spec/overrides.json` and of the validation policy is exercised: the
call reaches the sandbox (or is refused before sending) exactly as the live API
would see it.
"""

from __future__ import annotations

import logging

import pytest

from cafe24_async import UnprocessableError, ValidationError
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
