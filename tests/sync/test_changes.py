"""`iterate_changes`: the records that changed in a period, over HTTP against the sandbox.

Products are read by update-time windows (split where a window holds more than
offset paging reaches), orders by the union of their status dates with each
order once; a route that cannot tell what changed is refused by name.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from cafe24_async.errors import ValidationError
from cafe24_async.routes import ROUTES
from tests.conftest import ClientFactory, SandboxFactory
from tests.sync.helpers import START, WallClock, sandbox_and_client


async def test_products_changed_since_a_moment_are_exactly_the_updated_ones(
    make_sandbox: SandboxFactory, make_client: ClientFactory
) -> None:
    clock = WallClock()
    _, api = await sandbox_and_client(make_sandbox, make_client, clock, products=400)
    mall = api.mall("sandbox")
    since = clock.advance(hours=1)
    for product_no in (3, 150, 399):
        clock.advance(minutes=5)
        await mall.admin.products.update(product_no, request={"price": 4321})
    await mall.admin.products.variants.update_by_product_no(77, "P00000BY000A", quantity=5)  # a variant moves its product
    clock.advance(minutes=5)
    before = mall.stats.requests
    changed = [p async for p in mall.admin.products.iterate_changes(since=since)]
    assert sorted(p["product_no"] for p in changed) == [3, 77, 150, 399]
    assert {p["price"] for p in changed if p["product_no"] != 77} == {"4321.00"}
    assert mall.stats.requests - before == 2  # one count, one page
    # Nothing changed in an hour before: an empty period costs its count only.
    assert [p async for p in mall.admin.products.iterate_changes(since=START, until=since)] == []
    # The lookback reads that much before `since` as well.
    late = since + timedelta(minutes=12)
    assert sorted([p["product_no"] async for p in mall.admin.products.iterate_changes(since=late)]) == [77, 399]
    around = mall.admin.products.iterate_changes(since=late, lookback=timedelta(minutes=3))
    assert sorted([p["product_no"] async for p in around]) == [77, 150, 399]


async def test_a_period_past_the_offset_cap_is_read_whole(
    make_sandbox: SandboxFactory, make_client: ClientFactory
) -> None:
    clock = WallClock()
    # The server keeps caps far below the documented ones (products 5,000, orders 15,000).
    sandbox, api = await sandbox_and_client(
        make_sandbox, make_client, clock, products=900, orders=3000,
        offset_caps={"/api/v2/admin/products": 200, "/api/v2/admin/orders": 200},
    )
    mall = api.mall("sandbox")
    # Products go past the cap with their keyset (since_product_no), as an export does.
    got = [p async for p in mall.admin.products.iterate_changes(since="2024-01-01", until="2026-11-30",
                                                                fields=["price"])]
    keys = [p["product_no"] for p in got]
    assert len(keys) == len(set(keys)) == 900
    assert all(set(p) >= {"product_no", "updated_date", "price"} for p in got)  # the key and cursor added
    assert any("since_product_no" in r.query for r in sandbox.requests)
    # Orders have no keyset: their period is cut into windows until each fits under the cap.
    sandbox.clear_requests()
    placed = [o async for o in mall.admin.orders.iterate_changes(since="2025-11-01", until="2026-10-31",
                                                                 date_types=["order_date"])]
    ids = [o["order_id"] for o in placed]
    expected = [o["order_id"] for o in sandbox.dataset().orders.records if o["order_date"] >= "2025-11-01"]
    assert len(ids) == len(set(ids)) and sorted(ids) == sorted(expected) and len(ids) > 2000
    windows = {r.query["start_date"] for r in sandbox.requests if r.path == "/api/v2/admin/orders"}
    assert len(windows) > len(ids) // 1200


async def test_orders_by_their_status_dates_each_once(
    make_sandbox: SandboxFactory, make_client: ClientFactory
) -> None:
    clock = WallClock()
    _, api = await sandbox_and_client(make_sandbox, make_client, clock, products=20, orders=300)
    mall = api.mall("sandbox")
    orders = [o["order_id"] async for o in mall.admin.orders.iterate(start_date="2026-06-01", end_date="2026-10-31")]
    shipped, delivered, cancelled, confirmed = orders[:3], orders[3:5], orders[5:6], orders[6:7]
    since = clock.advance(hours=2)
    for order_id in shipped:
        await mall.admin.orders.shipments.update(order_id, "S1", status="shipping")
    for order_id in delivered:  # shipped, then delivered: two dates in the period, one record
        await mall.admin.orders.shipments.update(order_id, "S1", status="shipping")
        clock.advance(minutes=1)
        await mall.admin.orders.shipments.update(order_id, "S1", status="shipped")
    await mall.admin.cancellation.create(requests=[{"order_id": cancelled[0], "status": "canceled"}])
    await mall.admin.orders.update_by_order_id(confirmed[0], purchase_confirmation="T")
    clock.advance(minutes=1)
    got = [o async for o in mall.admin.orders.iterate_changes(since=since)]
    ids = [o["order_id"] for o in got]
    assert len(ids) == len(set(ids))
    # Purchase confirmation is not among the default dates; the other changes are.
    assert sorted(ids) == sorted(shipped + delivered + cancelled)
    assert all(o["shipend_date"] for o in got if o["order_id"] in delivered)
    chosen = [o["order_id"] async for o in mall.admin.orders.iterate_changes(
        since=since, date_types=["purchaseconfirmation_date", "shipend_date"])]
    assert sorted(chosen) == sorted(delivered + confirmed)
    # A new order is found by its order date (the first of the date types).
    assert [o async for o in mall.admin.orders.iterate_changes(since=since, date_types=["order_date"])] == []


async def test_a_read_that_sees_records_leave_its_window_reads_it_again(
    make_sandbox: SandboxFactory, make_client: ClientFactory
) -> None:
    """The mall changes on its own while the window is read: records leave the window, the
    ones behind them move up a page; nothing that stayed in the window is missed."""
    clock = WallClock()
    _, api = await sandbox_and_client(make_sandbox, make_client, clock, products=600, orders=0,
                                            changes_per_minute=60.0)
    mall = api.mall("sandbox")
    since = clock.advance(minutes=1)
    await mall.admin.products.count()  # the drift starts here: 60 changes a minute from now on
    clock.advance(minutes=5)  # 300 changes (products only: no orders)
    until = clock.wall
    expected = await mall.admin.products.count(updated_start_date=since.isoformat(),
                                               updated_end_date=until.isoformat())
    assert 150 < expected <= 300

    stepping = _Stepping(clock)
    got: list[dict[str, Any]] = []
    async for product in mall.admin.products.iterate_changes(since=since, until=until, concurrency=1):
        got.append(product)
        stepping.step(len(got))
    keys = [p["product_no"] for p in got]
    assert len(keys) == len(set(keys))
    # Every product whose last change lies in the period was read, though many changed again.
    still = {p["product_no"] async for p in mall.admin.products.iterate(fields=["updated_date"])
             if since.isoformat() <= p["updated_date"] <= until.isoformat()}
    assert still <= set(keys)
    assert stepping.moved  # records did change during the read


class _Stepping:
    """Moves the wall clock 30 s on after every 50 records read (the sandbox then applies
    the changes due, with their own times, while the read goes on)."""

    def __init__(self, clock: WallClock) -> None:
        self.clock = clock
        self.moved = False

    def step(self, seen: int) -> None:
        if seen % 50 == 0:
            self.clock.advance(seconds=30)
            self.moved = True


async def test_a_route_that_cannot_tell_what_changed_is_refused_by_name(
    make_sandbox: SandboxFactory, make_client: ClientFactory
) -> None:
    clock = WallClock()
    sandbox, api = await sandbox_and_client(make_sandbox, make_client, clock, products=5)
    mall = api.mall("sandbox")
    with pytest.raises(ValidationError, match=r"admin\.coupons\.list cannot tell .*admin\.orders.*admin\.products"):
        mall.admin.coupons.iterate_changes(since="2026-01-01")
    with pytest.raises(ValidationError, match="since: is required"):
        mall.admin.products.iterate_changes()
    with pytest.raises(ValidationError, match="updated_start_date: is set by the read of changes"):
        mall.admin.products.iterate_changes(since="2026-01-01", updated_start_date="2026-01-01")
    with pytest.raises(ValidationError, match="date_types: 'paid' is not one; choose from order_date"):
        mall.admin.orders.iterate_changes(since="2026-01-01", date_types=["paid"])
    with pytest.raises(ValidationError, match="date_types: applies only to routes read by date type"):
        mall.admin.products.iterate_changes(since="2026-01-01", date_types=["order_date"])
    with pytest.raises(ValidationError, match="until: must not be before since"):
        mall.admin.products.iterate_changes(since="2026-03-01", until="2026-02-01")
    with pytest.raises(ValidationError, match="lookback"):
        mall.admin.products.iterate_changes(since="2026-03-01", lookback=-5)
    assert sandbox.stats("sandbox").requests == 0  # nothing was sent for any of them
    assert "iterate_changes" in dir(mall.admin.products) and "iterate_changes" in dir(mall.admin.orders)
    assert "iterate_changes" not in dir(mall.admin.coupons)


def test_every_route_that_can_tell_its_changes_has_a_primary_key() -> None:
    incremental = [r for r in ROUTES if r.changes is not None]
    assert {r.qualified_name for r in incremental} >= {
        "admin.products.list", "admin.orders.list", "admin.customersprivacy.list", "front.products.list",
        "dcollection.products.list",
    }
    assert all(r.primary_key for r in incremental if r.api != "dcollection" or r.path == "/api/products")
    keys = {r.qualified_name: r.primary_key for r in ROUTES if r.action == "list"}
    assert keys["admin.products.list"] == "product_no" and keys["admin.orders.list"] == "order_id"
    assert keys["admin.customersprivacy.list"] == "member_id"


async def test_a_list_answered_whole_is_read_in_one_call_with_the_period(
    make_sandbox: SandboxFactory, make_client: ClientFactory
) -> None:
    """Script tags page not at all: the period goes out with the one call."""
    clock = WallClock()
    sandbox, api = await sandbox_and_client(make_sandbox, make_client, clock, products=5)
    got = [s async for s in api.mall("sandbox").admin.scripttags.iterate_changes(since="2026-11-01")]
    assert got == []  # the sandbox holds no script tags
    [sent] = [r for r in sandbox.requests if r.path == "/api/v2/admin/scripttags"]
    assert sent.query["updated_start_date"] == "2026-11-01T00:00:00+09:00"
    assert sent.query["updated_end_date"] == clock.wall.isoformat()
