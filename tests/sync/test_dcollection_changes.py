"""D.Collection products and store products carry `updated_date`, filter on it and tell what
changed, over real HTTP against the sandbox.

`updated_start_date`/`updated_end_date` keep the products whose `updated_date` lies between
them, both ends included (a plain day covers the whole Seoul day), and the count agrees with
the list. The partner's products change on their own (`changes_per_minute`); a read of
changes since a moment then finds exactly the products that changed after it, each once.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from cafe24_async import Cafe24
from cafe24_async.ratelimit.limiter import RateLimitSettings
from cafe24_async.sandbox import Sandbox
from cafe24_async.sandbox.drift import partner_drift_of
from cafe24_async.sandbox.partner import CATEGORIES
from tests.conftest import ClientFactory, SandboxFactory
from tests.sync.helpers import WallClock

#: Every D.Collection product category, so a products read covers every product.
ALL = list(CATEGORIES)
#: A D.Collection window that never fills during a test (the client paces to it as well).
WINDOW = 1000
#: The documented datetime format: `2022-09-05T08:34:18+09:00`.
DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+09:00$")


async def _sandbox_and_client(
    make_sandbox: SandboxFactory, make_client: ClientFactory, clock: WallClock, **settings: Any
) -> tuple[Sandbox, Cafe24]:
    """A sandbox on the test's wall clock with a small shop (no Admin data is read) and a
    client on the same clock."""
    sandbox = await make_sandbox(now=clock.now, products=5, orders=5, customers=5, reviews=5,
                                 dcollection_limit=WINDOW, **settings)
    api = await make_client(sandbox, clock=clock, rate_limit=RateLimitSettings(dcollection_limit=WINDOW))
    return sandbox, api


def _within(value: str, start: str, end: str) -> bool:
    return datetime.fromisoformat(start) <= datetime.fromisoformat(value) <= datetime.fromisoformat(end)


def _keys(records: list[dict[str, Any]]) -> list[str]:
    return [r["product_ukey"] for r in records]


async def test_updated_filters_list_and_count_only_the_products_updated_in_the_range(
    make_sandbox: SandboxFactory, make_client: ClientFactory
) -> None:
    sandbox, api = await _sandbox_and_client(make_sandbox, make_client, WallClock())
    products = api.dcollection.products
    every = sandbox.partner_data().products.records
    assert all(DATETIME.match(p["updated_date"]) and p["updated_date"] >= p["created_date"] for p in every)
    # Plain days: from the first instant of the first day to the last of the last day.
    start, end = "2026-10-01", "2026-10-15"
    expected = sorted(p["product_ukey"] for p in every
                      if _within(p["updated_date"], f"{start}T00:00:00+09:00", f"{end}T23:59:59+09:00"))
    assert 10 < len(expected) < len(every) // 3  # a real filter: some products, far from all
    window: dict[str, Any] = {"updated_start_date": start, "updated_end_date": end}
    assert await products.count(dcollection_product_category=ALL, **window) == len(expected)
    listed = [p async for p in products.iterate(dcollection_product_category=ALL, limit=7, **window)]
    assert sorted(_keys(listed)) == expected and len(listed) == len(expected)
    assert all(DATETIME.match(p["updated_date"]) for p in listed)
    # With another filter: one category, updated in the range.
    category = {p["product_ukey"]: p["dcollection_product_category"] for p in every}
    in_category = [k for k in expected if category[k] == CATEGORIES[2]]
    assert 0 < len(in_category) < len(expected)
    assert await products.count(dcollection_product_category=[CATEGORIES[2]], **window) == len(in_category)
    # Only a start, or only an end: a range open at the other end.
    moment = "2026-10-20T12:00:00+09:00"
    later = sum(1 for p in every if p["updated_date"] >= moment)
    earlier = sum(1 for p in every if p["updated_date"] <= moment)
    assert 0 < later < len(every) and 0 < earlier < len(every)
    assert await products.count(dcollection_product_category=ALL, updated_start_date=moment) == later
    assert await products.count(dcollection_product_category=ALL, updated_end_date=moment) == earlier


async def test_both_ends_of_the_range_are_included_to_the_second(
    make_sandbox: SandboxFactory, make_client: ClientFactory
) -> None:
    sandbox, api = await _sandbox_and_client(make_sandbox, make_client, WallClock())
    every = sandbox.partner_data().products.records
    stamp = every[7]["updated_date"]
    same = sorted(p["product_ukey"] for p in every if p["updated_date"] == stamp)
    exact = await api.dcollection.products.list(dcollection_product_category=ALL, updated_start_date=stamp,
                                                updated_end_date=stamp)
    assert sorted(_keys(exact)) == same
    after = (datetime.fromisoformat(stamp) + timedelta(seconds=1)).isoformat()
    assert all(p["updated_date"] != stamp for p in await api.dcollection.products.list(
        dcollection_product_category=ALL, updated_start_date=after, updated_end_date="2026-11-30", limit=100))


async def test_store_products_filter_on_the_update_time_too(
    make_sandbox: SandboxFactory, make_client: ClientFactory
) -> None:
    sandbox, api = await _sandbox_and_client(make_sandbox, make_client, WallClock())
    every = sandbox.partner_data().products.records
    stores = sorted({p["store_id"] for p in every})[:12]
    start, end = "2026-09-01", "2026-10-31"
    expected = sorted(p["product_ukey"] for p in every if p["store_id"] in stores
                      and _within(p["updated_date"], f"{start}T00:00:00+09:00", f"{end}T23:59:59+09:00"))
    in_stores = sum(1 for p in every if p["store_id"] in stores)
    assert 0 < len(expected) < in_stores
    got = [p async for p in api.dcollection.storeproducts.iterate(store_id=stores, updated_start_date=start,
                                                                  updated_end_date=end, limit=5)]
    assert sorted(_keys(got)) == expected and len(got) == len(expected)


async def test_products_changed_since_a_moment_are_exactly_the_changed_ones_each_once(
    make_sandbox: SandboxFactory, make_client: ClientFactory
) -> None:
    clock = WallClock()
    sandbox, api = await _sandbox_and_client(make_sandbox, make_client, clock, changes_per_minute=6.0)
    products = api.dcollection.products
    start = clock.wall
    assert await products.count(dcollection_product_category=ALL) == 300  # the drift starts with the first read
    clock.advance(minutes=5)  # 30 changes are due at the next read
    first = [p async for p in products.iterate_changes(since=start, dcollection_product_category=ALL)]
    applied = partner_drift_of(sandbox.partner_data()).applied
    assert len(applied) == 30
    assert len(_keys(first)) == len(set(_keys(first)))
    assert set(_keys(first)) == {key for _, key, _ in applied}
    assert all(start.isoformat() < p["updated_date"] <= clock.wall.isoformat() for p in first)
    sent = [r for r in sandbox.requests if r.path == "/api/products" and "updated_start_date" in r.query]
    assert sent and all(r.query["updated_start_date"] == start.isoformat() for r in sent)
    # A second read, of the next period, finds only the products that changed in it.
    last = clock.wall
    clock.advance(minutes=2)
    second = [p async for p in products.iterate_changes(since=last + timedelta(seconds=1),
                                                        dcollection_product_category=ALL)]
    assert len(applied) == 42
    changed = {key for _, key, moment in applied if moment > last}
    assert sorted(_keys(second)) == sorted(changed)
    # Nothing changes while the clock stands still.
    assert [p async for p in products.iterate_changes(since=clock.wall + timedelta(seconds=1),
                                                      until=clock.wall + timedelta(minutes=1),
                                                      dcollection_product_category=ALL)] == []


async def test_store_products_changed_since_a_moment_are_the_changed_ones_of_those_stores(
    make_sandbox: SandboxFactory, make_client: ClientFactory
) -> None:
    clock = WallClock()
    sandbox, api = await _sandbox_and_client(make_sandbox, make_client, clock, changes_per_minute=12.0)
    start = clock.wall
    await api.dcollection.shops.list(limit=1)  # the drift starts with the first read
    clock.advance(minutes=5)  # 60 changes are due at the next read
    await api.dcollection.shops.list(limit=1)
    partner = sandbox.partner_data()
    changed = {key for _, key, _ in partner_drift_of(partner).applied}
    store_of = {p["product_ukey"]: p["store_id"] for p in partner.products.records}
    stores_changed = sorted({store_of[k] for k in changed})
    quiet = sorted(set(store_of.values()) - set(stores_changed))
    stores = stores_changed[: len(stores_changed) // 2] + quiet[:2]
    expected = sorted(k for k in changed if store_of[k] in stores)
    assert 0 < len(expected) < len(changed)
    got = [p async for p in api.dcollection.storeproducts.iterate_changes(since=start, store_id=stores)]
    assert sorted(_keys(got)) == expected and len(got) == len(expected)
    assert {p["store_id"] for p in got} <= set(stores)
