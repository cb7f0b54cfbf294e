"""The sandbox as a webhook sender: events on writes, retries, drops and its delivery log.

Writes go through the client to the sandbox over HTTP; the sandbox's deliveries
go over HTTP to a receiver (or to a deliberately failing endpoint); the log is
read back through `mall.admin.webhooks.logs.list`.
"""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from cafe24_async.errors import APIError
from cafe24_async.webhooks import events as ev
from tests.conftest import ClientFactory, SandboxFactory
from tests.webhooks.conftest import KEY, running_receiver, serve_app


async def test_writes_send_the_matching_events(make_sandbox: SandboxFactory, make_client: ClientFactory) -> None:
    sandbox = await make_sandbox(products=30, orders=20)
    mall = (await make_client(sandbox)).mall("sandbox")
    orders = await mall.admin.orders.list(limit=3)
    order_ids = [o["order_id"] for o in orders]
    async with running_receiver() as (receiver, url, recorder):
        sandbox.webhooks.register(url, KEY)
        created = await mall.admin.products.create(request={"product_name": "New", "supply_price": "900"})
        await mall.admin.products.update(5, request={"price": 7700})
        await mall.admin.products.delete(6)
        variant = (await mall.admin.products.variants.list(5))[0]["variant_code"]
        await mall.admin.products.variants.inventories.update(5, variant, request={"quantity": 4})
        await mall.admin.products.variants.inventories.update(5, variant, request={"quantity": 0})
        await mall.admin.orders.update_by_order_id(order_ids[0], request={"process_status": "prepare"})
        await mall.admin.orders.update_many(requests=[{"order_id": o, "process_status": "prepare"} for o in order_ids])
        await sandbox.webhooks.settled()
        await receiver.dispatcher.join()
        await receiver.close()
    got = recorder.events
    assert [e.event_no for e in got] == [90001, 90002, 90003, 90075, 90075, 90150, 90024, 90071]
    new, updated, deleted, stock, empty, sold_out, order, bulk = got
    assert isinstance(new, ev.ProductCreated) and new.product_no == created["product_no"] and new.product_name == "New"
    assert isinstance(updated, ev.ProductUpdated) and updated.product_no == 5 and updated.price is not None
    assert updated.price.startswith("7700")
    assert isinstance(deleted, ev.ProductDeleted) and deleted.product_no == 6
    assert isinstance(stock, ev.ProductInventoryChanged) and stock.variant_code == variant and stock.status_text == ""
    assert isinstance(empty, ev.ProductInventoryChanged) and empty.status_text
    assert isinstance(sold_out, ev.ProductStockStatusChanged) and sold_out.product_no == 5
    assert sold_out.resource["product_no"] == "5"  # sent as text, as Cafe24 does
    assert isinstance(order, ev.OrderDeliveryStatusChanged) and order.order_id == order_ids[0]
    assert order.resource["wished_delivery_date"] == "0000-00-00" and order.wished_delivery_date is None
    assert order.event_code == "prepare"
    assert isinstance(bulk, ev.BulkOrderDeliveryStatusChanged) and bulk.order_id == tuple(order_ids)
    assert all(e.mall_id == "sandbox" for e in got)
    assert [e.event_shop_no for e in got] == [1, 1, 1, None, None, 1, 1, 1]  # 90075 has no shop number
    assert sandbox.webhooks.counters.delivered == 8 and receiver.stats.refused == 0


async def test_a_refused_write_sends_nothing(make_sandbox: SandboxFactory, make_client: ClientFactory) -> None:
    sandbox = await make_sandbox(products=10, orders=5)
    mall = (await make_client(sandbox)).mall("sandbox")
    async with running_receiver() as (receiver, url, recorder):
        sandbox.webhooks.register(url, KEY)
        with pytest.raises(APIError):
            await mall.admin.products.variants.inventories.update(2, "P0000XXX000Z", request={"quantity": 1})
        with pytest.raises(APIError):
            await mall.admin.products.update(9999, request={"price": 100})
        await mall.admin.orders.update_by_order_id("20990101-0000001", request={"process_status": "prepare"})
        await sandbox.webhooks.settled()
        await receiver.close()
    assert recorder.events == [] and sandbox.webhooks.counters.emitted == 0


async def test_only_registered_events_are_sent_and_nothing_without_a_receiver(
    make_sandbox: SandboxFactory, make_client: ClientFactory
) -> None:
    sandbox = await make_sandbox(products=10, orders=5)
    mall = (await make_client(sandbox)).mall("sandbox")
    await mall.admin.products.update(1, request={"price": 100})
    assert sandbox.webhooks.counters.emitted == 0 and sandbox.webhooks.log("sandbox") == []
    async with running_receiver() as (receiver, url, recorder):
        sandbox.webhooks.register(url, KEY, events={90003})
        await mall.admin.products.update(2, request={"price": 100})
        await mall.admin.products.delete(3)
        await sandbox.webhooks.settled()
        await receiver.dispatcher.join()
        await receiver.close()
    assert recorder.numbers() == [90003]


class Flaky:
    """An endpoint answering the first `failures` deliveries with `status`, then 200."""

    def __init__(self, failures: int, status: int = 500) -> None:
        self.failures = failures
        self.status = status
        self.seen: list[dict[str, Any]] = []

    async def handle(self, request: web.Request) -> web.Response:
        self.seen.append({"headers": dict(request.headers), "body": await request.json()})
        if len(self.seen) <= self.failures:
            return web.Response(status=self.status, text="try later")
        return web.json_response({"ok": True})

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/hook", self.handle)
        return app


async def test_failed_deliveries_are_retried_and_logged(make_sandbox: SandboxFactory, make_client: ClientFactory) -> None:
    sandbox = await make_sandbox(products=10, orders=5)
    mall = (await make_client(sandbox)).mall("sandbox")
    flaky = Flaky(failures=2)
    async with serve_app(flaky.app()) as root:
        sandbox.webhooks.register(root + "/hook", KEY, trace_header="X-Trace-Id")
        await mall.admin.products.update(4, request={"price": 4400})
        await sandbox.webhooks.settled()
    assert len(flaky.seen) == 3
    assert all(s["headers"]["X-Api-Key"] == KEY for s in flaky.seen)
    assert len({s["headers"]["X-Trace-Id"] for s in flaky.seen}) == 1  # one event, one trace id
    assert flaky.seen[0]["body"] == flaky.seen[2]["body"]
    log = await mall.admin.webhooks.logs.list(limit=100)
    assert [(e["log_type"], e["success"], e["response_http_code"]) for e in log] == [
        ("G", "F", 500), ("R", "F", 500), ("R", "T", 200),
    ]
    assert log[0]["response_body"] == "try later" and log[2]["response_body"] is None
    assert len({e["trace_id"] for e in log}) == 1 and log[0]["event_no"] == 90002
    counters = sandbox.webhooks.counters
    assert (counters.emitted, counters.attempts, counters.delivered, counters.failed) == (1, 3, 1, 0)


async def test_an_event_that_never_gets_a_2xx_is_logged_as_failed(
    make_sandbox: SandboxFactory, make_client: ClientFactory
) -> None:
    sandbox = await make_sandbox(products=10, orders=5)
    mall = (await make_client(sandbox)).mall("sandbox")
    flaky = Flaky(failures=99, status=503)
    async with serve_app(flaky.app()) as root:
        sandbox.webhooks.register(root + "/hook", KEY, attempts=2)
        await mall.admin.products.update(4, request={"price": 4400})
        await sandbox.webhooks.settled()
        sandbox.webhooks.register("http://127.0.0.1:9/nothing-listens", KEY, attempts=1)
        await mall.admin.products.update(5, request={"price": 4400})
        await sandbox.webhooks.settled()
    log = sandbox.webhooks.log("sandbox")
    assert [(e["success"], e["response_http_code"]) for e in log] == [("F", 503), ("F", 503), ("F", None)]
    assert log[2]["response_body"]  # the connection error is named
    assert sandbox.webhooks.counters.failed == 2


async def test_dropped_deliveries_are_logged_but_never_sent(
    make_sandbox: SandboxFactory, make_client: ClientFactory
) -> None:
    sandbox = await make_sandbox(products=40, orders=5)
    mall = (await make_client(sandbox)).mall("sandbox")
    flaky = Flaky(failures=0)
    async with serve_app(flaky.app()) as root:
        sandbox.webhooks.register(root + "/hook", KEY, drop_rate=0.5, seed=7)
        for product_no in range(1, 21):
            await mall.admin.products.update(product_no, request={"price": 1000})
        await sandbox.webhooks.settled()
    counters = sandbox.webhooks.counters
    assert counters.emitted == 20 and 0 < counters.dropped < 20
    assert len(flaky.seen) == counters.delivered == 20 - counters.dropped
    log = sandbox.webhooks.log("sandbox")
    lost = [e for e in log if e["response_http_code"] is None]
    assert len(lost) == counters.dropped and all(e["success"] == "F" and e["log_type"] == "G" for e in lost)
    sent_bodies = [s["body"] for s in flaky.seen]
    assert not any(json.loads(e["request_body"]) in sent_bodies for e in lost)


async def test_the_delivery_log_route_pages_and_filters(make_sandbox: SandboxFactory, make_client: ClientFactory) -> None:
    sandbox = await make_sandbox(products=20, orders=5)
    mall = (await make_client(sandbox)).mall("sandbox")
    flaky = Flaky(failures=1)
    async with serve_app(flaky.app()) as root:
        sandbox.webhooks.register(root + "/hook", KEY)
        for product_no in range(1, 6):
            await mall.admin.products.update(product_no, request={"price": 1000})
        await mall.admin.products.delete(10)
        await sandbox.webhooks.settled()
    everything = await mall.admin.webhooks.logs.list(limit=10000)
    assert [e["log_id"] for e in everything] == list(range(1, 8))  # 6 events, the first retried once
    first_page = await mall.admin.webhooks.logs.list(limit=3)
    rest = await mall.admin.webhooks.logs.list(limit=3, since_log_id=first_page[-1]["log_id"])
    assert [e["log_id"] for e in first_page + rest] == list(range(1, 7))
    assert [e["event_no"] for e in await mall.admin.webhooks.logs.list(event_no=90003)] == [90003]
    assert [e["log_type"] for e in await mall.admin.webhooks.logs.list(success="F")] == ["G"]
    assert len(await mall.admin.webhooks.logs.list(log_type="R")) == 1
    today = sandbox.config.now().date().isoformat()
    dated = await mall.admin.webhooks.logs.list(requested_start_date="2001-01-01", requested_end_date=today, limit=100)
    assert len(dated) == 7
    assert await mall.admin.webhooks.logs.list(requested_start_date="2001-01-01", requested_end_date="2001-01-02") == []
    assert await mall.admin.webhooks.logs.list(limit=100, since_log_id=7) == []
    # What the client refuses before sending, the sandbox refuses too.
    token = sandbox.issue_token()["access_token"]
    async with aiohttp.ClientSession() as session:
        for query in ("since_log_id=abc", "event_no=x", "limit=10001"):
            url = f"{sandbox.url_for()}/api/v2/admin/webhooks/logs?{query}"
            async with session.get(url, headers={"Authorization": f"Bearer {token}"}) as answer:
                assert answer.status == 422, query
        # Another mall of the same sandbox has its own, empty, log.
        other = sandbox.issue_token("other")["access_token"]
        url = f"{sandbox.url_for('other')}/api/v2/admin/webhooks/logs"
        async with session.get(url, headers={"Authorization": f"Bearer {other}"}) as answer:
            assert answer.status == 200 and await answer.json() == {"logs": []}
