"""Deduplication shared by several receivers through a real redis-server.

Two receivers (two dispatchers, one Redis) get the same sandbox deliveries as a
load balancer would spread them, and the event is handled once; keys expire with
the window; an unreachable Redis makes the receiver answer 503 so Cafe24 resends.
"""

from __future__ import annotations

import asyncio

import pytest

from benchmarks.bench_redis import free_port
from cafe24_async.redis_support import RedisUnavailableError, connect
from cafe24_async.webhooks import Dispatcher, HandlerRetry, RedisDeduplicator, parse_event
from tests.webhooks.conftest import envelope, example, post, running_receiver

pytest.importorskip("redis")


async def test_two_receivers_sharing_redis_handle_an_event_once(redis_url: str, prefix: str) -> None:
    redis = connect(redis_url)
    first = RedisDeduplicator(redis, prefix=prefix)
    second = RedisDeduplicator(redis, prefix=prefix)
    await first.check()
    order = envelope(90023, example(90023))
    product = envelope(90001, example(90001))
    async with (
        running_receiver(dispatcher=Dispatcher(dedup=first)) as (one, url_one, got_one),
        running_receiver(dispatcher=Dispatcher(dedup=second)) as (two, url_two, got_two),
    ):
        answers = await asyncio.gather(post(url_one, order), post(url_two, order), post(url_two, product))
        assert sorted(a[1]["status"] for a in answers) == ["duplicate", "queued", "queued"]
        assert (await post(url_one, product))[1]["status"] == "duplicate"
        await one.dispatcher.join()
        await two.dispatcher.join()
        assert sorted(got_one.numbers() + got_two.numbers()) == [90001, 90023]
        await one.close()
        await two.close()
    keys = await redis.keys(f"{prefix}:*")
    assert len(keys) == 2 and all(k.decode().startswith(f"{prefix}:{{cafe24bestshop}}:seen:b:") for k in keys)
    ttl = await redis.pttl(keys[0])
    assert 0 < ttl <= 3 * 86400 * 1000
    await redis.aclose()


async def test_keys_expire_with_the_window_and_release_forgets(redis_url: str, prefix: str) -> None:
    dedup = RedisDeduplicator(redis_url, window=0.05, prefix=prefix)
    event = parse_event(envelope(90077, example(90077)))
    keys = ("t:abc", "b:def")
    assert await dedup.claim(event.mall_id or "", keys)
    assert not await dedup.claim(event.mall_id or "", ("b:def",))
    await dedup.release(event.mall_id or "", keys)
    assert await dedup.claim(event.mall_id or "", keys)
    ttl = await dedup.redis.pttl(dedup.redis_keys(event.mall_id or "", keys)[0])
    assert 0 < ttl <= 50
    await dedup.aclose()


async def test_an_unreachable_redis_makes_the_receiver_answer_503() -> None:
    dedup = RedisDeduplicator(f"redis://127.0.0.1:{free_port()}/0")
    with pytest.raises(RedisUnavailableError):
        await dedup.check()
    dispatcher = Dispatcher(dedup=dedup, retry=HandlerRetry(attempts=1))
    async with running_receiver(dispatcher=dispatcher) as (receiver, url, recorder):
        status, answer, headers = await post(url, envelope(90023, example(90023)))
        assert (status, answer) == (503, {"status": "unavailable"}) and headers.get("Retry-After")
        assert recorder.events == [] and receiver.stats.busy == 1
        await receiver.close()
    await dedup.aclose()
