"""Every documented event, and every payload quirk, delivered over real HTTP to a receiver.

Each test posts bodies to a running aiohttp receiver and checks the typed event
its handler got: the class of the event number, the quirks normalised (comma-joined
ids, ids as text, naive Korea-time dates, "0000-00-00", malformed offsets, a
nested mall id, huge coupon numbers), unknown numbers and misfit values kept.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from cafe24_async.webhooks import EVENT_CLASSES, UnknownEvent, WebhookEvent, parse_event
from cafe24_async.webhooks import events as ev
from tests.webhooks.conftest import SPEC_EVENTS, envelope, example, post, running_receiver

KST = timezone(timedelta(hours=9))


async def deliver_all(*bodies: bytes) -> list[WebhookEvent]:
    async with running_receiver() as (receiver, url, recorder):
        for body in bodies:
            status, answer, _ = await post(url, body)
            assert status == 200, answer
        await receiver.dispatcher.join()
        await receiver.close()
        return recorder.events


async def deliver(event_no: int | str, resource: dict[str, object]) -> WebhookEvent:
    (event,) = await deliver_all(envelope(event_no, resource))
    return event


async def test_every_documented_event_arrives_as_its_class() -> None:
    assert len(SPEC_EVENTS) == len(EVENT_CLASSES) == 83
    assert min(EVENT_CLASSES) == 90001 and max(EVENT_CLASSES) == 90169
    bodies = [envelope(e["event_no"], e["example"]) for e in SPEC_EVENTS]
    got = await deliver_all(*bodies)
    assert sorted(e.event_no for e in got) == sorted(EVENT_CLASSES)
    for event in got:
        assert type(event) is EVENT_CLASSES[event.event_no]
        assert event.known and event.problems == (), (event.event_no, event.problems)
        assert event.mall_id  # the mall is found for every sample, 90167's nested one too
    named = {type(e).NAME for e in got}
    assert {"OnOrderReceived", "OnAppDeleted", "OnStoreDeleted", "OnStoreBlocked"} <= named


async def test_bulk_product_numbers_become_a_tuple_of_ints() -> None:
    event = await deliver(90041, example(90041))
    assert isinstance(event, ev.BulkProductUpdate)
    assert event.product_no == (17652, 17394, 17293, 16807, 16118)
    assert event.ids() == event.product_no and event.BULK_FIELDS == ("product_no",)


async def test_bulk_order_ids_and_member_ids_are_split() -> None:
    orders, members = await deliver_all(envelope(90071, example(90071)), envelope(90145, example(90145)))
    assert isinstance(orders, ev.BulkOrderDeliveryStatusChanged)
    assert orders.order_id[0] == "20200717-0001242" and len(orders.order_id) == 5
    assert isinstance(members, ev.MemberBecameDormant)
    assert members.member_id == ("sampleid1", "sampleid2", "sampleid3")  # joined with ", "


async def test_product_no_is_an_int_whether_sent_as_number_or_text() -> None:
    created, stock = await deliver_all(envelope(90001, example(90001)), envelope(90150, example(90150)))
    assert isinstance(created, ev.ProductCreated) and created.product_no == 36518
    assert isinstance(stock, ev.ProductStockStatusChanged)
    assert example(90150)["product_no"] == "1" and stock.product_no == 1
    assert stock.sold_out == {"1": "T", "2": "F", "3": "F"}
    assert created.event_shop_no == 1  # "1" in the payload


async def test_event_no_as_text_and_coupon_numbers_above_2_53() -> None:
    event = await deliver("90154", example(90154))
    assert isinstance(event, ev.CouponIssuanceStatusChanged)
    assert event.coupon_no == 6072120804600000001  # exact, not rounded through a float
    assert event.event_shop_no == 1  # an integer in this event's sample


async def test_naive_dates_are_korea_time() -> None:
    note, coupon = await deliver_all(envelope(90066, example(90066)), envelope(90154, example(90154)))
    assert isinstance(note, ev.AdminNoteAddedToOrder)
    assert example(90066)["requested_date"].count("+") == 0
    assert note.requested_date is not None and note.requested_date.utcoffset() == timedelta(hours=9)
    assert isinstance(coupon, ev.CouponIssuanceStatusChanged)
    assert coupon.start_date == datetime(2022, 1, 1, 14, 39, tzinfo=KST)  # "2022-01-01 14:39"
    assert coupon.start_date.astimezone(UTC).hour == 5


async def test_placeholder_dates_are_none() -> None:
    resource = example(90023)
    assert resource["wished_delivery_date"] == "0000-00-00"
    event = await deliver(90023, resource)
    assert isinstance(event, ev.OrderReceived)
    assert event.wished_delivery_date is None and event.problems == ()
    product = example(90001) | {"made_date": "", "release_date": "2020-07-10"}
    created = await deliver(90001, product)
    assert isinstance(created, ev.ProductCreated)
    assert created.made_date is None and created.release_date == date(2020, 7, 10)


async def test_blanks_inside_a_malformed_offset_are_tolerated() -> None:
    event = await deliver(90047, example(90047))
    assert isinstance(event, ev.StoreBenefitAdded)
    assert example(90047)["benefit_start_date"] == "2019-01-01T12: 00: 00+09: 00"
    assert event.benefit_start_date == datetime(2019, 1, 1, 12, 0, tzinfo=KST)


async def test_mall_id_nested_in_sample() -> None:
    event = await deliver(90167, example(90167))
    assert isinstance(event, ev.StoreDormanted)
    assert event.mall_id == "cafe24bestshop" and event.event_shop_no == 1


async def test_an_unknown_event_number_is_handled_not_dropped() -> None:
    resource = {"mall_id": "acme", "event_shop_no": "2", "thing": {"deep": [1, 2]}}
    event = await deliver(90999, resource)
    assert isinstance(event, UnknownEvent) and not event.known
    assert event.event_no == 90999 and event.mall_id == "acme" and event.event_shop_no == 2
    assert event.resource == resource


async def test_a_value_that_does_not_fit_is_kept_raw_and_named() -> None:
    resource = example(90001) | {"product_no": "abc", "created_date": "yesterday", "new_key": "kept"}
    event = await deliver(90001, resource)
    assert isinstance(event, ev.ProductCreated)
    assert event.product_no is None and event.created_date is None
    assert {p.split(":")[0] for p in event.problems} == {"product_no", "created_date"}
    assert event.resource["product_no"] == "abc" and event.resource["new_key"] == "kept"
    assert event.price == "24680.00"  # the rest is typed as usual


@pytest.mark.parametrize(
    "body, reason",
    [
        (b"{not json", "not JSON"),
        (b"\xff\xfe\x00", "not UTF-8"),
        (b"[1, 2]", "not an object"),
        (b'{"resource": {}}', "event_no"),
        (b'{"event_no": "abc", "resource": {}}', "event_no"),
        (b'{"event_no": 90001, "resource": "x"}', "resource"),
        (b'{"event_no": 90001, "resource": ' + b"[" * 200_000 + b"]" * 200_000 + b"}", "deeply"),
        (b'{"event_no": 9' + b"9" * 5000 + b', "resource": {}}', "not JSON"),  # digits past int parsing
    ],
)
async def test_a_body_that_is_not_an_envelope_is_refused_with_400(body: bytes, reason: str) -> None:
    async with running_receiver() as (receiver, url, recorder):
        status, answer, _ = await post(url, body)
        assert status == 400 and reason in answer["reason"]
        assert receiver.stats.malformed == 1 and recorder.events == []
        await receiver.close()


def test_parse_event_reads_the_trace_header_only_when_named() -> None:
    body = json.dumps({"event_no": 90077, "resource": example(90077)})
    headers = {"x-delivery-trace": "abc123"}
    assert parse_event(body, headers).trace_id is None
    event = parse_event(body, headers, trace_header="X-Delivery-Trace")
    assert isinstance(event, ev.AppDeleted) and event.trace_id == "abc123"
    assert event.deleted_date == datetime(2020, 7, 1, 12, 30, 15, tzinfo=KST)
