"""The sandbox filters on update time, date types and sort for real, moves the time a record
changed on every write that changes it, and can change records on its own (`changes_per_minute`)."""

from __future__ import annotations

from datetime import datetime

import aiohttp

from cafe24_async.sandbox.drift import drift_of
from tests.conftest import ClientFactory, SandboxFactory
from tests.sync.helpers import WallClock, sandbox_and_client


def _within(value: str | None, start: str, end: str) -> bool:
    if not value:
        return False
    moment = datetime.fromisoformat(value)
    return datetime.fromisoformat(start) <= moment <= datetime.fromisoformat(end)


async def test_updated_filters_count_and_list_only_the_records_updated_in_the_range(
    make_sandbox: SandboxFactory, make_client: ClientFactory
) -> None:
    clock = WallClock()
    sandbox, api = await sandbox_and_client(make_sandbox, make_client, clock, products=3001)
    mall = api.mall("sandbox")
    start, end = "2026-10-01T00:00:00+09:00", "2026-10-31T23:59:59+09:00"
    every = sandbox.dataset().products.records
    expected = sorted(p["product_no"] for p in every if _within(p["updated_date"], start, end))
    assert 100 < len(expected) < 500  # about 246 of 3,001, not all of them
    assert await mall.admin.products.count(updated_start_date=start, updated_end_date=end) == len(expected)
    listed = [p["product_no"] async for p in mall.admin.products.iterate(updated_start_date=start,
                                                                           updated_end_date=end)]
    assert listed == expected
    # Both ranges at once: created in October and updated in October.
    both = await mall.admin.products.count(updated_start_date=start, updated_end_date=end,
                                          created_start_date=start, created_end_date=end)
    assert both == sum(1 for p in every if _within(p["updated_date"], start, end)
                       and _within(p["created_date"], start, end))


async def test_sort_orders_the_whole_match_before_the_page_is_cut(
    make_sandbox: SandboxFactory, make_client: ClientFactory
) -> None:
    clock = WallClock()
    _, api = await sandbox_and_client(make_sandbox, make_client, clock, products=300)
    products = api.mall("sandbox").admin.products
    up = await products.list(sort="updated_date", order="asc", limit=100, offset=100, fields=["updated_date"])
    down = await products.list(sort="updated_date", order="desc", limit=100, fields=["updated_date"])
    stamps = [p["updated_date"] for p in up]
    assert stamps == sorted(stamps)
    assert [p["updated_date"] for p in down] == sorted((p["updated_date"] for p in down), reverse=True)
    newest = await products.list(sort="updated_date", order="desc", limit=1, fields=["updated_date"])
    assert newest[0]["updated_date"] >= max(stamps)


async def test_date_type_picks_the_date_the_range_filters_on(
    make_sandbox: SandboxFactory, make_client: ClientFactory
) -> None:
    clock = WallClock()
    sandbox, api = await sandbox_and_client(make_sandbox, make_client, clock, products=20, orders=400,
                                            customers=200)
    mall = api.mall("sandbox")
    start, end = "2026-09-01", "2026-10-31"
    orders = sandbox.dataset().orders.records
    first, last = "2026-09-01T00:00:00+09:00", "2026-10-31T23:59:59+09:00"
    by_order = sum(1 for o in orders if _within(o["order_date"], first, last))
    by_payment = sum(1 for o in orders if _within(o["payment_date"], first, last))
    assert by_payment < by_order  # unpaid orders have no payment date
    assert await mall.admin.orders.count(start_date=start, end_date=end) == by_order
    assert await mall.admin.orders.count(start_date=start, end_date=end, date_type="pay_date") == by_payment
    assert await mall.admin.orders.count(start_date=start, end_date=end, date_type="shipend_date") == 0
    clock.advance(hours=1)
    await mall.admin.orders.shipments.update(orders[0]["order_id"], "S1", status="shipped")
    today = clock.wall.date().isoformat()
    shipped = [o async for o in mall.admin.orders.iterate(start_date=today, end_date=today,
                                                           date_type="shipend_date")]
    assert [o["order_id"] for o in shipped] == [orders[0]["order_id"]]
    members = sandbox.dataset().customersprivacy.records
    logged_in = sum(1 for m in members if _within(m["last_login_date"], first, last))
    assert await mall.admin.customersprivacy.count(start_date=start, end_date=end, date_type="login") == logged_in


async def test_every_write_that_changes_a_record_moves_its_time(
    make_sandbox: SandboxFactory, make_client: ClientFactory
) -> None:
    clock = WallClock()
    sandbox, api = await sandbox_and_client(make_sandbox, make_client, clock, products=30, orders=50)
    mall = api.mall("sandbox")
    stamp = clock.advance(hours=3).isoformat()
    created = await mall.admin.products.create(request={"product_name": "New", "supply_price": 900})
    assert created["created_date"] == created["updated_date"] == stamp
    variants = mall.admin.products.variants
    writes = (
        lambda: mall.admin.products.update(4, request={"display": "F"}),
        lambda: variants.update_by_product_no(5, "P000000E000A", quantity=3),
        lambda: variants.inventories.update(6, "P000000F000A", quantity=4),
        lambda: variants.update_many(7, requests=[{"variant_code": "P000000G000A", "quantity": 9}]),
    )
    for write in writes:
        clock.advance(minutes=1)
        await write()
    products = {p["product_no"]: p["updated_date"] async for p in mall.admin.products.iterate(fields=["updated_date"])}
    assert [products[n] > stamp for n in (4, 5, 6, 7)] == [True] * 4
    assert products[8] < stamp  # untouched
    orders = sandbox.dataset().orders.records
    one, two, three = orders[0]["order_id"], orders[1]["order_id"], orders[2]["order_id"]
    now = clock.advance(minutes=1).isoformat()
    await mall.admin.shipments.update(requests=[{"shipping_code": "S1", "order_id": one, "status": "shipping"}])
    await mall.admin.orders.return_.create(two, status="returned")
    await mall.admin.orders.update_many(requests=[{"order_id": three, "purchase_confirmation": "T"}])
    got = {o["order_id"]: o for o in await mall.admin.orders.list(order_id=[one, two, three])}
    assert got[one]["shipbegin_date"] == now and "shipend_date" not in got[one]
    assert got[two]["return_complete_date"] == now
    assert got[three]["purchaseconfirmation_date"] == now
    items = await mall.admin.orders.items.list(one)
    assert {i["order_status"] for i in items} == {"N30"}


async def test_a_mall_changes_k_records_a_minute_on_its_own(
    make_sandbox: SandboxFactory, make_client: ClientFactory
) -> None:
    clock = WallClock()
    sandbox, api = await sandbox_and_client(make_sandbox, make_client, clock, products=100, orders=100,
                                            changes_per_minute=6.0)
    mall = api.mall("sandbox")
    start = clock.wall
    assert await mall.admin.products.count() == 100  # the drift starts with the first read
    clock.advance(minutes=10)
    await mall.admin.products.count()
    applied = drift_of(sandbox.dataset()).applied
    assert len(applied) == 60
    assert {kind for kind, _, _ in applied} == {"products", "orders"}
    assert all(start < moment <= clock.wall for _, _, moment in applied)
    changed = {key for kind, key, _ in applied if kind == "products"}
    seen = [p["product_no"] async for p in mall.admin.products.iterate_changes(since=start)]
    assert sorted(seen) == sorted(changed)
    # Nothing happens while the clock stands still; half a minute later, 3 more.
    await mall.admin.products.count()
    assert len(applied) == 60
    clock.advance(seconds=30)
    await mall.admin.orders.count()
    assert len(applied) == 63


async def test_an_unknown_date_type_is_refused_and_an_unknown_sort_ignored(make_sandbox: SandboxFactory) -> None:
    sandbox = await make_sandbox(products=5, orders=5)
    token = sandbox.issue_token()
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    base = f"{sandbox.url_for()}/api/v2/admin"
    async with aiohttp.ClientSession() as http:
        query = {"start_date": "2026-01-01", "end_date": "2026-02-01", "date_type": "x"}
        async with http.get(f"{base}/orders", params=query, headers=headers) as resp:
            assert resp.status == 422, await resp.text()
        async with http.get(f"{base}/products", params={"sort": "price"}, headers=headers) as resp:
            assert resp.status == 200
            assert [p["product_no"] for p in (await resp.json())["products"]] == [1, 2, 3, 4, 5]
