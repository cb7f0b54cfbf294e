"""The whole loop over real HTTP: write, event, handler, hydration, and lost deliveries
recovered by reconcile.

Writes go through the client to the sandbox; the sandbox sends events to an
aiohttp receiver (a seeded fraction of them lost on the way); handlers hydrate
bulk events through the same mall; `reconcile` then reads the sandbox's delivery
log through the client and replays what was lost. Every event is handled
exactly once, and the figures are printed (run with `-s` to see them).
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from cafe24_async.mall import Mall
from cafe24_async.webhooks import (
    Dispatcher,
    HandlerRetry,
    WebhookEvent,
    content_key,
    hydrate,
    parse_event,
    reconcile,
)
from cafe24_async.webhooks import events as ev
from tests.conftest import ClientFactory, SandboxFactory
from tests.webhooks.conftest import KEY, running_receiver

BULK_PRODUCTS = 250  # three list calls of at most 100 ids


def product_list_calls(sandbox: Any) -> list[list[str]]:
    """The product_no values of each `GET /products?product_no=...` the sandbox served."""
    return [
        r.query["product_no"].split(",")
        for r in sandbox.requests
        if r.path == "/api/v2/admin/products" and r.method == "GET" and "product_no" in r.query
    ]


class Handlers:
    """What a service would register: record every event, hydrate the bulk ones."""

    def __init__(self, mall: Mall) -> None:
        self.mall = mall
        self.handled: Counter[str] = Counter()
        self.events: list[WebhookEvent] = []
        self.hydrated: dict[int, list[dict[str, Any]]] = {}

    def register(self, dispatcher: Dispatcher) -> None:
        dispatcher.on(WebhookEvent, self.any)
        dispatcher.on(ev.BulkProductUpdate, self.bulk)
        dispatcher.on(ev.BulkOrderDeliveryStatusChanged, self.bulk)

    async def any(self, event: WebhookEvent) -> None:
        self.handled[content_key(event)] += 1
        self.events.append(event)

    async def bulk(self, event: WebhookEvent) -> None:
        found = await hydrate(self.mall, event)
        assert not found.missing, found.missing
        self.hydrated[event.event_no] = found.records


async def test_write_event_handle_hydrate_and_reconcile(
    make_sandbox: SandboxFactory, make_client: ClientFactory
) -> None:
    sandbox = await make_sandbox(products=300, orders=40)
    mall = (await make_client(sandbox)).mall("sandbox")
    order_ids = [o["order_id"] for o in await mall.admin.orders.list(limit=4)]
    handlers = Handlers(mall)
    dispatcher = Dispatcher(retry=HandlerRetry(attempts=2, delays=(0.0,)))
    handlers.register(dispatcher)
    async with running_receiver(dispatcher=dispatcher) as (receiver, url, _):
        sandbox.webhooks.register(url, KEY, drop_rate=0.2, seed=11)
        for product_no in range(1, 41):
            await mall.admin.products.update(product_no, request={"price": 1000 + product_no})
        variants = await mall.admin.products.variants.list(3)
        for quantity in (9, 0):
            await mall.admin.products.variants.inventories.update(3, variants[0]["variant_code"], request={"quantity": quantity})
        await mall.admin.orders.update_many(requests=[{"order_id": o, "process_status": "prepare"} for o in order_ids])
        ids = ",".join(str(n) for n in range(1, BULK_PRODUCTS + 1))
        sandbox.webhooks.emit("sandbox", 90041, {"mall_id": "sandbox", "event_shop_no": "1", "product_no": ids, "action": "batch"})
        await sandbox.webhooks.settled()
        await dispatcher.join()

        counters = sandbox.webhooks.counters
        sent, lost = counters.emitted, counters.dropped
        assert sent == 40 + 3 + 1 + 1 and lost > 0  # 40 updates, 2 stock + 1 sold out, 1 bulk order, 1 bulk product
        assert sum(handlers.handled.values()) == sent - lost == receiver.stats.accepted

        report = await reconcile(mall, dispatcher)
        log = sandbox.webhooks.log("sandbox")
        assert report.read == len(log) == sent  # no retries were needed: one log entry per event
        assert report.replayed == lost and report.duplicates == sent - lost and report.failed == 0
        assert report.last_log_id == log[-1]["log_id"] and report.calls == 1

        # Every event the sandbox meant to send was handled exactly once.
        logged = Counter(content_key(parse_event(e["request_body"])) for e in log)
        assert handlers.handled == logged and set(handlers.handled.values()) == {1}

        # Bulk events became full records, 100 ids per call, through the client's pacing.
        products = handlers.hydrated[90041]
        assert [p["product_no"] for p in products] == list(range(1, BULK_PRODUCTS + 1))
        assert products[0]["price"].startswith("1001")  # the update made above
        calls = product_list_calls(sandbox)
        assert sorted(len(c) for c in calls) == [50, 100, 100]
        assert [o["order_id"] for o in handlers.hydrated[90071]] == order_ids

        # Run again: nothing new after the resume point, and from the start only duplicates.
        again = await reconcile(mall, dispatcher, since_log_id=report.last_log_id)
        assert (again.read, again.replayed, again.last_log_id) == (0, 0, report.last_log_id)
        full = await reconcile(mall, dispatcher, page_size=7)
        assert (full.read, full.replayed, full.duplicates) == (sent, 0, sent) and full.calls == 7
        await receiver.close()
    stats = dispatcher.stats
    print(
        f"\nwebhook loop: sent {sent}, lost {lost}, delivered {counters.delivered}, "
        f"handled {stats.handled}, deduplicated {stats.duplicates}, reconciled {report.replayed}, "
        f"hydrated {len(products)} products in {len(calls)} calls"
    )
    assert stats.handled == sent and stats.failed == 0


async def test_reconcile_resumes_before_an_entry_whose_handler_gave_up(
    make_sandbox: SandboxFactory, make_client: ClientFactory
) -> None:
    sandbox = await make_sandbox(products=20, orders=5)
    mall = (await make_client(sandbox)).mall("sandbox")
    broken = {4}
    handled: list[int] = []
    dispatcher = Dispatcher(retry=HandlerRetry(attempts=1))

    @dispatcher.on(ev.ProductUpdated)
    async def handler(event: ev.ProductUpdated) -> None:
        if event.product_no in broken:
            raise RuntimeError("cannot write product 4 yet")
        assert event.product_no is not None
        handled.append(event.product_no)

    async with running_receiver(dispatcher=dispatcher) as (receiver, url, _):
        sandbox.webhooks.register(url, KEY, drop_rate=1.0)  # the receiver is "down": everything is lost
        for product_no in range(1, 7):
            await mall.admin.products.update(product_no, request={"price": 500})
        sandbox.webhooks.emit("sandbox", 90077, {"mall_id": "sandbox", "client_id": "x"}, log_type="T")
        sandbox.webhooks.emit_raw("sandbox", 90002, '{"event_no": 90002, "resource": "damaged"')
        await sandbox.webhooks.settled()
        assert handled == [] and receiver.stats.accepted == 0

        first = await reconcile(mall, dispatcher, since_log_id=0)
        assert sorted(handled) == [1, 2, 3, 5, 6]
        assert (first.read, first.replayed, first.failed, first.skipped, first.unreadable) == (8, 5, 1, 1, 1)
        assert first.last_log_id == 3  # entry 4 (product 4) is not done: the next run starts before it

        broken.clear()
        second = await reconcile(mall, dispatcher, since_log_id=first.last_log_id)
        assert sorted(handled) == [1, 2, 3, 4, 5, 6]
        assert (second.read, second.replayed, second.duplicates, second.failed) == (5, 1, 2, 0)
        assert second.last_log_id == 8
        await receiver.close()


async def test_reconcile_replays_a_delivery_the_receiver_refused(
    make_sandbox: SandboxFactory, make_client: ClientFactory
) -> None:
    sandbox = await make_sandbox(products=10, orders=5)
    mall = (await make_client(sandbox)).mall("sandbox")
    async with running_receiver() as (receiver, url, recorder):
        sandbox.webhooks.register(url, "a-rotated-key", attempts=2)  # the app's key changed
        await mall.admin.products.update(2, request={"price": 2000})
        await sandbox.webhooks.settled()
        assert recorder.events == [] and receiver.stats.refused == 2
        log = await mall.admin.webhooks.logs.list(success="F")
        assert [(e["log_type"], e["response_http_code"]) for e in log] == [("G", 403), ("R", 403)]
        report = await reconcile(mall, receiver.dispatcher, success="F")
        assert (report.read, report.replayed, report.duplicates) == (2, 1, 1)
        await receiver.dispatcher.join()
        assert [(e.event_no, e.trace_id) for e in recorder.events] == [(90002, log[0]["trace_id"])]
        assert json.loads(log[0]["request_body"])["resource"] == dict(recorder.events[0].resource)
        await receiver.close()
