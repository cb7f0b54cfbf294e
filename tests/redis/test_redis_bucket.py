"""The shared leaky bucket: its Lua script against a real Redis, and clients sharing it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from cafe24_async import Cafe24, MemoryTokenStore, Token
from cafe24_async.ratelimit.redis_bucket import (
    FULL,
    RedisBucket,
    RedisBucketSettings,
    RedisLeakyBucketLimiter,
)
from cafe24_async.redis_support import connect
from tests.conftest import SandboxFactory


@pytest_asyncio.fixture
async def bucket(redis_url: str, prefix: str) -> AsyncIterator[RedisBucket]:
    shared = RedisBucket(redis_url, RedisBucketSettings(prefix=prefix, key_ttl=60.0))
    yield shared
    await shared.aclose()


def acquire_args(
    capacity: int, rate: float, call: str, ceiling: int = 0, gate: float = 0, per_second: int = 0
) -> list[str | float | int]:
    return ["acquire", capacity, rate, 60_000, ceiling, call, 60.0, per_second, gate]


def report_args(capacity: int, rate: float, call: str, used: int = -1, reported: int = 0) -> list[str | float | int]:
    return ["report", capacity, rate, 60_000, call, used, reported]


async def test_acquire_fills_to_capacity_then_answers_the_wait(bucket: RedisBucket) -> None:
    keys = bucket.keys("app", "acme")
    rate = 0.001  # practically no drain while the test runs
    for i in range(5):
        answer = await bucket.run(keys, acquire_args(5, rate, f"c{i}"))
        assert answer.wait == 0 and answer.level == pytest.approx(i + 1, abs=1e-3)
    full = await bucket.run(keys, acquire_args(5, rate, "c5"))
    assert full.wait == pytest.approx(1 / rate, rel=0.01)  # one call drains in 1/rate seconds
    assert full.level == pytest.approx(5, abs=1e-3)
    # A route ceiling below the capacity holds calls back sooner.
    bucket2 = bucket.keys("app", "other")
    for i in range(3):
        await bucket.run(bucket2, acquire_args(5, rate, f"d{i}"))
    limited = await bucket.run(bucket2, acquire_args(5, rate, "d3", ceiling=3))
    assert limited.wait > 0
    free = await bucket.run(bucket2, acquire_args(5, rate, "d4"))
    assert free.wait == 0


async def test_the_per_second_cap_holds_for_everyone(bucket: RedisBucket) -> None:
    keys = bucket.keys("app", "acme")
    for i in range(3):
        assert (await bucket.run(keys, acquire_args(40, 2.0, f"c{i}", per_second=3))).wait == 0
    capped = await bucket.run(keys, acquire_args(40, 2.0, "c3", per_second=3))
    assert 0 < capped.wait <= 1.0  # until the oldest of the three is a second old
    assert capped.level == pytest.approx(3, abs=0.1)  # not admitted, not counted


async def test_the_server_report_wins_when_larger(bucket: RedisBucket) -> None:
    keys = bucket.keys("app", "acme")
    rate = 0.001
    await bucket.run(keys, acquire_args(40, rate, "a"))
    raised = await bucket.run(keys, report_args(40, rate, "a", used=30, reported=50))
    assert raised.level == pytest.approx(30, abs=1e-3) and raised.capacity == 50
    lower = await bucket.run(keys, report_args(40, rate, "", used=10))
    assert lower.level == pytest.approx(30, abs=1e-3)  # a stale, lower report never lowers the level
    refused = await bucket.run(keys, report_args(40, rate, "", used=FULL))
    assert refused.level == pytest.approx(50, abs=1e-3)  # a bare 429: full, at the server's capacity


async def test_calls_in_flight_keep_the_level_up(bucket: RedisBucket) -> None:
    keys = bucket.keys("app", "acme")
    rate = 1e6  # everything not in flight drains at once
    for i in range(3):
        await bucket.run(keys, acquire_args(40, rate, f"c{i}"))
    answer = await bucket.run(keys, acquire_args(40, rate, "c3"))
    assert answer.level == pytest.approx(4)  # three in flight (the floor) + this one
    for i in range(4):
        await bucket.run(keys, report_args(40, rate, f"c{i}"))
    answer = await bucket.run(keys, acquire_args(40, rate, "c4"))
    assert answer.level == pytest.approx(1)


async def test_one_probe_at_a_time_until_the_server_has_reported(bucket: RedisBucket) -> None:
    keys = bucket.keys("app", "acme")
    probe = await bucket.run(keys, acquire_args(40, 2.0, "p", gate=10))
    assert probe.wait == 0
    second = await bucket.run(keys, acquire_args(40, 2.0, "q", gate=10))
    assert second.wait == -1  # waiting for the first report
    await bucket.run(keys, report_args(40, 2.0, "p", used=12, reported=40))
    second = await bucket.run(keys, acquire_args(40, 2.0, "q", gate=10))
    assert second.wait == 0 and second.level == pytest.approx(13, abs=0.1)


async def test_a_probe_without_report_does_not_block_the_mall(bucket: RedisBucket) -> None:
    keys = bucket.keys("app", "acme")
    assert (await bucket.run(keys, acquire_args(40, 2.0, "p", gate=10))).wait == 0
    await bucket.run(keys, report_args(40, 2.0, "p"))  # the probe failed: released, no report
    assert (await bucket.run(keys, acquire_args(40, 2.0, "q", gate=10))).wait == 0  # the next one probes
    assert (await bucket.run(keys, acquire_args(40, 2.0, "r", gate=10))).wait == -1
    # A probe whose release never reaches Redis holds the gate for the probe timeout only.
    other = bucket.keys("app", "other")
    assert (await bucket.run(other, acquire_args(40, 2.0, "p", gate=0.01))).wait == 0
    assert (await bucket.run(other, acquire_args(40, 2.0, "q", gate=0.01))).wait == -1
    await asyncio.sleep(0.02)
    assert (await bucket.run(other, acquire_args(40, 2.0, "q", gate=0.01))).wait == 0


async def test_keys_are_namespaced_and_expire(bucket: RedisBucket, redis_url: str, prefix: str) -> None:
    keys = bucket.keys("app-1", "acme")
    assert keys[0] == f"{prefix}:{{app-1:acme}}:bucket"
    assert bucket.keys("app-2", "acme")[0] != keys[0]
    await bucket.run(keys, acquire_args(40, 2.0, "c"))
    redis = connect(redis_url)
    try:
        for key in keys[:2]:
            ttl = await redis.pttl(key)
            assert 0 < ttl <= 60_000
    finally:
        await redis.aclose()


async def test_clients_sharing_the_bucket_take_in_another_apps_use(
    make_sandbox: SandboxFactory, redis_url: str, prefix: str
) -> None:
    """Two clients (two connections, as two processes would have) and a foreign app
    already holding most of the bucket: the reports bring the shared level up, no 429."""
    sb = await make_sandbox(malls=("acme",), leak_rate=200.0, bucket_capacity=40, products=120)
    sb.drain_foreign("acme", 35)
    token = Token.from_response(sb.issue_token("acme"))
    clients: list[Cafe24] = []
    buckets: list[RedisBucket] = []
    for _ in range(2):
        store = MemoryTokenStore()
        await store.save("acme", token)
        shared = RedisBucket(redis_url, RedisBucketSettings(prefix=prefix))
        buckets.append(shared)
        clients.append(Cafe24(
            sb.config.client_id, sb.config.client_secret, token_store=store, base_url=sb.base_url,
            leak_rate=200.0, bucket_capacity=40, max_per_second=None, shared_bucket=shared,
        ))
    try:
        malls = [client.mall("acme") for client in clients]
        assert isinstance(malls[0].limiter("leaky_bucket"), RedisLeakyBucketLimiter)
        numbers = list(range(1, 121))
        results = await asyncio.gather(
            *(malls[i % 2].admin.products.get(no) for i, no in enumerate(numbers))
        )
        assert sorted(r["product_no"] for r in results) == numbers
        assert sb.stats("acme").throttled == 0
        assert malls[0].stats.server_capacity == 40
    finally:
        for client in clients:
            await client.close()
        for shared in buckets:
            await shared.aclose()


async def test_a_place_in_the_second_lasts_until_a_second_after_the_answer(bucket: RedisBucket) -> None:
    """As in the in-process window: a call holds its per-second place while in flight
    and for a second after its answer, so no second at the server sees more."""
    keys = bucket.keys("app", "acme")
    for i in range(3):
        assert (await bucket.run(keys, acquire_args(40, 2.0, f"c{i}", per_second=3))).wait == 0
    await asyncio.sleep(0.3)  # the answers take a while
    in_flight = await bucket.run(keys, acquire_args(40, 2.0, "c3", per_second=3))
    assert 0 < in_flight.wait <= 0.05  # only an answer can free a place: ask again soon
    await bucket.run(keys, report_args(40, 2.0, "c0", used=3, reported=40))
    answered = await bucket.run(keys, acquire_args(40, 2.0, "c3", per_second=3))
    assert 0.9 < answered.wait <= 1.0  # a second after c0's answer, not after its admission
    assert answered.level == pytest.approx(3, abs=0.1)
