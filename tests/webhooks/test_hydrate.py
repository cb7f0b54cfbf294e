"""Hydration against the sandbox over HTTP: ids to full records, 100 ids a list call,
missing ids named, and the calls counted by the mall like any other call."""

from __future__ import annotations

import pytest

from cafe24_async.errors import ConfigurationError
from cafe24_async.webhooks import hydrate, parse_event
from cafe24_async.webhooks.hydrate import ids_of
from tests.conftest import ClientFactory, SandboxFactory
from tests.webhooks.conftest import envelope, example


async def test_bulk_products_are_read_in_batches_and_missing_ones_named(
    make_sandbox: SandboxFactory, make_client: ClientFactory
) -> None:
    sandbox = await make_sandbox(products=120)
    mall = (await make_client(sandbox)).mall("sandbox")
    await mall.admin.products.delete(50)
    ids = [*range(1, 121), 9999]  # 50 was deleted, 9999 never existed
    event = parse_event(envelope(90041, {"mall_id": "sandbox", "product_no": ",".join(map(str, ids))}))
    before = mall.stats.requests
    sandbox.clear_requests()
    found = await hydrate(mall, event, batch_size=40, fields=["product_no", "price"])
    assert found.field == "product_no" and found.calls == 4 and mall.stats.requests - before == 4
    assert [r["product_no"] for r in found.records] == [n for n in ids if n not in (50, 9999)]
    assert set(found.records[0]) == {"product_no", "price"}
    assert found.missing == (50, 9999)
    sent = [r.query["product_no"].split(",") for r in sandbox.requests if r.path == "/api/v2/admin/products"]
    assert [len(s) for s in sent] == [40, 40, 40, 1]
    with pytest.raises(ConfigurationError):
        await hydrate(mall, event, batch_size=101)


async def test_single_events_and_other_resources(make_sandbox: SandboxFactory, make_client: ClientFactory) -> None:
    sandbox = await make_sandbox(products=10, orders=10, suppliers=3, customers=20)
    mall = (await make_client(sandbox)).mall("sandbox")
    order = (await mall.admin.orders.list(limit=1))[0]
    received = parse_event(envelope(90023, example(90023) | {"order_id": order["order_id"]}))
    assert ids_of(received) == ("order_id", (order["order_id"],))
    found = await hydrate(mall, received)
    assert [r["order_id"] for r in found.records] == [order["order_id"]] and found.calls == 1
    suppliers = await mall.admin.suppliers.list(limit=3)
    codes = [s["supplier_code"] for s in suppliers]
    bulk = parse_event(envelope(90092, {"mall_id": "sandbox", "supplier_code": ",".join(codes)}))
    assert [r["supplier_code"] for r in (await hydrate(mall, bulk)).records] == codes
    app_deleted = parse_event(envelope(90077, example(90077)))
    nothing = await hydrate(mall, app_deleted)
    assert (nothing.field, nothing.records, nothing.calls) == (None, [], 0)
