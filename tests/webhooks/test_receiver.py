"""The receiver over real HTTP: verification, hostile requests, fast answers, backpressure,
retries and deduplication.

Handlers are held with asyncio events to show that the answer does not wait for
them; nothing here sleeps to prove timing.
"""

from __future__ import annotations

import asyncio
import logging

import aiohttp
import pytest
from multidict import CIMultiDict

from cafe24_async.errors import Cafe24Error, ConfigurationError
from cafe24_async.webhooks import (
    Dispatcher,
    HandlerRetry,
    MemoryDeduplicator,
    Receiver,
    Verifier,
    WebhookEvent,
    WebhookQueueFullError,
)
from cafe24_async.webhooks import events as ev
from tests.webhooks.conftest import KEY, envelope, example, post, running_receiver

ORDER = envelope(90023, example(90023))


# -- verification -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {},  # no key at all
        {"X-Api-Key": "wrong-key"},
        {"X-Api-Key": KEY[:-1]},  # a prefix of the key
        {"X-Api-Key": KEY + "x"},
        {"Authorization": KEY},  # the right key in the wrong header
    ],
)
async def test_a_wrong_or_missing_key_is_answered_403(headers: dict[str, str], caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="cafe24_async")
    async with running_receiver() as (receiver, url, recorder):
        status, answer, _ = await post(url, ORDER, headers, key=None)
        assert status == 403 and answer == {"status": "forbidden"}
        await receiver.dispatcher.join()
        assert recorder.events == [] and receiver.stats.refused == 1
        await receiver.close()
    assert "refused" in caplog.text
    assert KEY not in caplog.text and KEY[:-1] not in caplog.text


async def test_the_key_header_is_a_setting_and_case_does_not_matter() -> None:
    async with running_receiver(header="X-Cafe24-Webhook-Key") as (receiver, url, recorder):
        status, _, _ = await post(url, ORDER, key=None)
        assert status == 403
        status, _, _ = await post(url, ORDER, {"x-cafe24-webhook-key": KEY}, key=None)
        assert status == 200
        await receiver.dispatcher.join()
        assert recorder.numbers() == [90023]
        await receiver.close()


def test_the_key_never_shows_in_a_repr() -> None:
    receiver = Receiver(KEY)
    assert KEY not in repr(receiver) and KEY not in repr(receiver.verifier)
    assert "<hidden>" in repr(receiver.verifier)
    with pytest.raises(ConfigurationError):
        Receiver("   ")
    with pytest.raises(ConfigurationError):
        Verifier(KEY, allowed_networks=["not-an-ip"])


async def test_a_sender_outside_the_allowlist_is_answered_403() -> None:
    async with running_receiver(allowed_networks=["203.0.113.0/24"]) as (receiver, url, recorder):
        status, _, _ = await post(url, ORDER)  # from 127.0.0.1, with the right key
        assert status == 403
        await receiver.dispatcher.join()
        assert recorder.events == []
        await receiver.close()
    async with running_receiver(allowed_networks=["127.0.0.0/8"]) as (receiver, url, recorder):
        status, _, _ = await post(url, ORDER)
        assert status == 200
        await receiver.close()


async def test_the_forwarded_header_is_honoured_only_when_configured() -> None:
    options = {"allowed_networks": ["203.0.113.7"], "forwarded_header": "X-Forwarded-For"}
    async with running_receiver(**options) as (receiver, url, recorder):
        # The proxy appended the real sender (rightmost); what the sender claims before it is ignored.
        status, _, _ = await post(url, ORDER, {"X-Forwarded-For": "10.0.0.1, 203.0.113.7"})
        assert status == 200
        status, _, _ = await post(url, envelope(90001, example(90001)), {"X-Forwarded-For": "203.0.113.7, 10.9.9.9"})
        assert status == 403  # a spoofed left entry does not pass
        status, _, _ = await post(url, ORDER)  # no header: the sender is unknown
        assert status == 403
        # The header sent on two lines is read whole: the proxy's line comes last.
        lines = CIMultiDict([("X-Api-Key", KEY), ("X-Forwarded-For", "10.0.0.1"), ("X-Forwarded-For", "203.0.113.7")])
        other = envelope(90002, example(90002))
        async with aiohttp.ClientSession() as session, session.post(url, data=other, headers=lines) as answer:
            assert answer.status == 200
        await receiver.dispatcher.join()
        assert recorder.numbers() == [90023, 90002]
        await receiver.close()
    async with running_receiver(allowed_networks=["203.0.113.7"]) as (receiver, url, _):
        status, _, _ = await post(url, ORDER, {"X-Forwarded-For": "203.0.113.7"})
        assert status == 403  # not configured: the header is not believed
        await receiver.close()


# -- hostile requests ---------------------------------------------------------------------------


async def test_a_huge_body_is_answered_413_declared_or_streamed() -> None:
    async with running_receiver(max_body=4096) as (receiver, url, recorder):
        big = envelope(90001, example(90001) | {"description": "x" * 10_000})
        status, _, _ = await post(url, big)
        assert status == 413

        async def chunks():  # no Content-Length: the receiver stops reading past the limit
            for _ in range(64):
                yield b"x" * 1024

        async with (
            aiohttp.ClientSession() as session,
            session.post(url, data=chunks(), headers={"X-Api-Key": KEY}) as answer,
        ):
            assert answer.status == 413
        status, _, _ = await post(url, ORDER)  # a normal one still goes through
        assert status == 200
        await receiver.dispatcher.join()
        assert recorder.numbers() == [90023] and receiver.stats.too_large == 2
        await receiver.close()


async def test_a_huge_body_without_the_key_is_refused_before_it_is_read() -> None:
    async with running_receiver(max_body=1024) as (receiver, url, _):
        status, _, _ = await post(url, b"x" * 100_000, key="wrong")
        assert status == 403 and receiver.stats.too_large == 0
        await receiver.close()


async def test_other_methods_are_answered_405() -> None:
    async with running_receiver() as (receiver, url, _):
        status, _, headers = await post(url, b"", method="GET")
        assert status == 405 and headers.get("Allow") == "POST"
        await receiver.close()


# -- answering fast, backpressure -----------------------------------------------------------------


async def test_the_answer_does_not_wait_for_the_handler() -> None:
    release = asyncio.Event()
    started = asyncio.Event()
    finished: list[int] = []
    dispatcher = Dispatcher(workers=1)

    @dispatcher.on(ev.OrderReceived)
    async def slow(event: ev.OrderReceived) -> None:
        started.set()
        await release.wait()
        finished.append(event.event_no)

    async with running_receiver(dispatcher=dispatcher) as (receiver, url, _):
        status, answer, _ = await post(url, ORDER)
        assert (status, answer) == (200, {"status": "queued"})
        await started.wait()
        assert finished == []  # answered while the handler is still running
        release.set()
        await receiver.dispatcher.join()
        assert finished == [90023]
        await receiver.close()


async def test_a_full_queue_is_answered_503_and_a_freed_slot_admits_again() -> None:
    release = asyncio.Event()
    busy = asyncio.Event()
    dispatcher = Dispatcher(workers=1, queue_size=1, enqueue_timeout=0)
    handled: list[int] = []

    @dispatcher.on(WebhookEvent)
    async def blocking(event: WebhookEvent) -> None:
        busy.set()
        await release.wait()
        handled.append(event.event_no)

    async with running_receiver(dispatcher=dispatcher) as (receiver, url, _):
        assert (await post(url, envelope(90001, example(90001))))[0] == 200
        await busy.wait()  # the worker holds the first event
        assert (await post(url, envelope(90002, example(90002))))[0] == 200  # fills the queue
        status, answer, headers = await post(url, envelope(90003, example(90003)))
        assert (status, answer) == (503, {"status": "busy"}) and headers.get("Retry-After")
        assert receiver.stats.busy == 1 and dispatcher.stats.refused == 1
        release.set()
        await receiver.dispatcher.join()
        # The refused event was not claimed: Cafe24's resend is taken.
        assert (await post(url, envelope(90003, example(90003))))[0] == 200
        await receiver.dispatcher.join()
        assert handled == [90001, 90002, 90003]
        await receiver.close()


async def test_a_waiting_submit_is_admitted_when_room_frees() -> None:
    release = asyncio.Event()
    busy = asyncio.Event()
    dispatcher = Dispatcher(workers=1, queue_size=1, enqueue_timeout=30)

    @dispatcher.on(WebhookEvent)
    async def blocking(event: WebhookEvent) -> None:
        busy.set()
        await release.wait()

    async with running_receiver(dispatcher=dispatcher) as (receiver, url, recorder):
        assert (await post(url, envelope(90001, example(90001))))[0] == 200
        await busy.wait()
        assert (await post(url, envelope(90002, example(90002))))[0] == 200
        third = asyncio.create_task(post(url, envelope(90003, example(90003))))
        while dispatcher.stats.received < 3:  # the third request is waiting for room
            await asyncio.sleep(0)
        assert not third.done()
        release.set()
        assert (await third)[0] == 200
        await receiver.dispatcher.join()
        assert sorted(recorder.numbers()) == [90001, 90002, 90003]
        await receiver.close()


# -- handler failures ---------------------------------------------------------------------------


async def test_a_failing_handler_is_retried_and_the_answer_stays_200(caplog: pytest.LogCaptureFixture) -> None:
    dispatcher = Dispatcher(retry=HandlerRetry(attempts=3, delays=(0.0,)))
    calls: list[int] = []

    @dispatcher.on(ev.OrderReceived)
    async def flaky(event: ev.OrderReceived) -> None:
        calls.append(event.event_no)
        if len(calls) < 3:
            raise RuntimeError("database is restarting")

    async with running_receiver(dispatcher=dispatcher) as (receiver, url, _):
        assert (await post(url, ORDER))[0] == 200
        await receiver.dispatcher.join()
        assert calls == [90023] * 3
        assert dispatcher.stats.retries == 2 and dispatcher.stats.handled == 1 and dispatcher.stats.failed == 0
        # Handled: a resend of the same event is a duplicate.
        assert (await post(url, ORDER))[1] == {"status": "duplicate"}
        await receiver.close()
    assert "attempt 1 of 3" in caplog.text and "database is restarting" in caplog.text


async def test_a_handler_that_gives_up_releases_the_event_for_redelivery(caplog: pytest.LogCaptureFixture) -> None:
    dispatcher = Dispatcher(retry=HandlerRetry(attempts=2, delays=(0.0,)))
    broken = True
    done: list[int] = []

    @dispatcher.on(ev.OrderReceived)
    async def handler(event: ev.OrderReceived) -> None:
        if broken:
            raise ValueError("bad row")
        done.append(event.event_no)

    async with running_receiver(dispatcher=dispatcher) as (receiver, url, _):
        status, _, _ = await post(url, ORDER)
        assert status == 200  # never a late non-2xx
        await receiver.dispatcher.join()
        assert dispatcher.stats.failed == 1 and done == []
        assert "gave up" in caplog.text
        broken = False
        status, answer, _ = await post(url, ORDER)  # Cafe24's resend is not a duplicate now
        assert (status, answer) == (200, {"status": "queued"})
        await receiver.dispatcher.join()
        assert done == [90023]
        await receiver.close()


# -- deduplication --------------------------------------------------------------------------------


async def test_the_same_delivery_twice_is_handled_once() -> None:
    async with running_receiver() as (receiver, url, recorder):
        first = await post(url, ORDER)
        again = await post(url, ORDER.replace(b'", "', b'",  "'))  # the same JSON, other blanks
        other = await post(url, envelope(90023, example(90023) | {"order_id": "20200717-9999999"}))
        assert [first[1], again[1], other[1]] == [{"status": "queued"}, {"status": "duplicate"}, {"status": "queued"}]
        await receiver.dispatcher.join()
        assert recorder.numbers() == [90023, 90023]
        assert receiver.stats.duplicates == 1 and receiver.dispatcher.stats.duplicates == 1
        await receiver.close()


async def test_a_configured_trace_header_identifies_deliveries() -> None:
    async with running_receiver(trace_header="X-Trace-Id") as (receiver, url, recorder):
        assert (await post(url, ORDER, {"X-Trace-Id": "t-1"}))[1]["status"] == "queued"
        assert (await post(url, ORDER, {"X-Trace-Id": "t-1"}))[1]["status"] == "duplicate"
        other = envelope(90001, example(90001))
        assert (await post(url, other, {"X-Trace-Id": "t-1"}))[1]["status"] == "duplicate"  # same trace id
        await receiver.dispatcher.join()
        assert [e.trace_id for e in recorder.events] == ["t-1"]
        await receiver.close()


async def test_memory_dedup_forgets_after_its_window() -> None:
    from cafe24_async.clock import ManualClock

    clock = ManualClock()
    dedup = MemoryDeduplicator(window=60.0, clock=clock)
    assert await dedup.claim("acme", ["b:1"])
    assert not await dedup.claim("acme", ["t:x", "b:1"])  # any key seen: a duplicate, nothing recorded
    assert await dedup.claim("beta", ["b:1"])  # per mall
    assert await dedup.claim("acme", ["t:x"])
    clock.advance(61.0)
    assert await dedup.claim("acme", ["b:1"])
    small = MemoryDeduplicator(max_keys=2, clock=clock)
    for key in ("a", "b", "c"):
        assert await small.claim("m", [key])
    assert len(small) == 2 and await small.claim("m", ["a"])  # the oldest went first


async def test_only_library_errors_leave_the_dispatcher() -> None:
    dispatcher = Dispatcher(queue_size=1, workers=1, enqueue_timeout=0)
    gate = asyncio.Event()

    @dispatcher.on(WebhookEvent)
    async def hold(event: WebhookEvent) -> None:
        await gate.wait()

    from cafe24_async.webhooks import parse_event

    first = await dispatcher.submit(parse_event(envelope(90001, example(90001))))
    assert first.done is not None
    while dispatcher.queued:  # the worker took it
        await asyncio.sleep(0)
    await dispatcher.submit(parse_event(envelope(90002, example(90002))))
    with pytest.raises(WebhookQueueFullError) as caught:
        await dispatcher.submit(parse_event(envelope(90003, example(90003))))
    assert isinstance(caught.value, Cafe24Error)
    gate.set()
    assert await first.done is True
    await dispatcher.close()
    with pytest.raises(Cafe24Error):
        await dispatcher.submit(parse_event(ORDER))


async def test_closing_releases_unfinished_events() -> None:
    from cafe24_async.webhooks import event_keys, parse_event

    dedup = MemoryDeduplicator()
    dispatcher = Dispatcher(dedup=dedup, queue_size=5, workers=1)
    stuck = asyncio.Event()

    @dispatcher.on(WebhookEvent)
    async def never_done(event: WebhookEvent) -> None:
        stuck.set()
        await asyncio.Event().wait()

    first, second = parse_event(envelope(90001, example(90001))), parse_event(envelope(90002, example(90002)))
    taken = await dispatcher.submit(first)
    waiting = await dispatcher.submit(second)
    await stuck.wait()
    await dispatcher.close(timeout=0)
    assert taken.done is not None and waiting.done is not None
    assert (await taken.done, await waiting.done) == (False, False)
    await asyncio.wait_for(dispatcher.join(), 10)  # nothing left behind
    for event in (first, second):  # both can be delivered again
        assert await dedup.claim(event.mall_id or "", event_keys(event))
