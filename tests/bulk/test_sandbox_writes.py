"""The sandbox's bulk writes, seen through plain calls: what a bulk writer has to cope with."""

from __future__ import annotations

import pytest

from cafe24_async import (
    Cafe24ConnectionError,
    ManualClock,
    MultiStatus,
    RetrySettings,
    ServerError,
    UnprocessableError,
)
from cafe24_async.sandbox import codes
from cafe24_async.sandbox.write_config import WriteConfig
from tests.conftest import ClientFactory, SandboxFactory


def objects(product_no: int, count: int, quantity: int = 7) -> list[dict[str, object]]:
    return [{"variant_code": codes.variant_code(product_no, i), "quantity": quantity} for i in range(count)]


async def test_207_422_and_the_cap(make_sandbox: SandboxFactory, make_client: ClientFactory) -> None:
    sb = await make_sandbox(malls=("acme",), products=2, variants_per_product=120,
                            writes=WriteConfig(seed=1, item_error_rate=0.5, item_error_statuses=(503, 422)))
    api = await make_client(sb)
    variants = api.mall("acme").admin.products.variants
    answer = await variants.update_many(1, requests=objects(1, 10))
    assert isinstance(answer, MultiStatus) and answer.failed and answer.succeeded
    assert {item["error"]["code"] for item in answer.failed} == {503, 422}
    assert len(sb.writes("acme").applied) == len(answer.succeeded)
    wrong = [*objects(1, 2), {"variant_code": codes.variant_code(2, 0), "quantity": 1}, {**objects(1, 4)[3], "quantity": -1}]
    with pytest.raises(UnprocessableError) as refused:
        await variants.update_many(1, requests=wrong)
    assert refused.value.more_info == {"requests": [2, 3]} and "requests[2].variant_code" in refused.value.message
    with pytest.raises(UnprocessableError, match="at most 100 objects per call, got 101"):
        await variants.update_many(1, requests=objects(1, 101))
    assert len(sb.writes("acme").applied) == len(answer.succeeded)  # a 422 applies nothing


async def test_lost_answers_stale_reads_and_ignored_stock(make_sandbox: SandboxFactory, make_client: ClientFactory) -> None:
    clock = ManualClock()
    sb = await make_sandbox(malls=("acme",), products=3, variants_per_product=2, clock=clock.monotonic, now=clock.now,
                            writes=WriteConfig(seed=2, lost_rate=1.0, stale_seconds=5.0))
    api = await make_client(sb, clock=clock)
    inventories = api.mall("acme").admin.products.variants.inventories
    code = codes.variant_code(1, 0)
    before = (await inventories.get(1, code))["quantity"]
    with pytest.raises(Cafe24ConnectionError):  # applied, then the connection dropped, every time
        await inventories.update(1, code, request={"quantity": 321})
    # The plain request path retries a PUT whose answer was lost, and each attempt is applied
    # again: why bulk_apply sends through a sender that never repeats such a call.
    assert sb.writes("acme").applied[("variant", code)] > 1
    assert (await inventories.get(1, code))["quantity"] == before  # stale: the write does not show yet
    clock.advance(5.0)
    assert (await inventories.get(1, code))["quantity"] == 321

    sb.writes("acme").configure(WriteConfig(inventory_off_rate=1.0))
    other = codes.variant_code(2, 0)
    old = (await inventories.get(2, other))["quantity"]
    answer = await inventories.update(2, other, request={"quantity": 999})
    assert answer["use_inventory"] == "F" and answer["quantity"] == old  # 200, and nothing changed
    assert sb.writes("acme").ignored[("variant", other)] == 1 and sb.writes("acme").applied[("variant", other)] == 0


async def test_the_price_settings(make_sandbox: SandboxFactory, make_client: ClientFactory) -> None:
    sb = await make_sandbox(malls=("acme",), products=2, writes=WriteConfig(tax_calculation="E"))
    api = await make_client(sb, retry=RetrySettings(max_attempts=2, base_delay=0.001, max_delay=0.01))
    mall = api.mall("acme")
    assert await mall.call("GET", "/api/v2/admin/products/setting") == {
        "shop_no": 1, "calculate_price_based_on": "A", "tax_calculation": "E"}
    await mall.admin.products.update(1, request={"price": 10000})
    assert (await mall.admin.products.get(1))["price"] == "11000.00"  # the product's 10% tax added
    sb.writes("acme").configure(WriteConfig(price_base="S", reject_rate=1.0))
    with pytest.raises(ServerError):
        await mall.admin.products.update(2, request={"price": 5000})  # refused before: nothing changed
    sb.writes("acme").configure(WriteConfig(price_base="S"))
    before = (await mall.admin.products.get(2))["price"]
    await mall.admin.products.update(2, request={"price": 5000})
    assert (await mall.admin.products.get(2))["price"] == before
    assert sb.writes("acme").ignored[("product", "2")] == 1
