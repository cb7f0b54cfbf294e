"""Four worker processes on one mall: one bucket and one token between them, through Redis.

The sandbox runs in the test process; each worker is a Python subprocess with its
own `Cafe24` client, a `RedisBucket` and a `RedisTokenStore`, fetching a disjoint
share of the mall's products (see benchmarks/bench_redis.py).
"""

from __future__ import annotations

from benchmarks.bench_redis import shared_export
from tests.conftest import SandboxFactory


async def test_four_processes_stay_within_the_mall_bucket(make_sandbox: SandboxFactory, redis_url: str) -> None:
    leak_rate, capacity, products = 50.0, 40, 140
    sb = await make_sandbox(
        malls=("shared",), leak_rate=leak_rate, bucket_capacity=capacity, products=products,
        variants_per_product=1, orders=10, customers=10, reviews=10,
    )
    result = await shared_export(sb, redis_url, "shared", range(1, products + 1), processes=4)

    assert result.errors == []
    assert result.throttled == 0
    assert sorted(result.records) == list(range(1, products + 1))  # every record, once
    assert result.requests == products
    assert all(len(worker["records"]) == products // 4 for worker in result.per_worker)
    # Bound: (requests - bucket) / drain = 2.0 s; within 10% of it, and not faster than the server allows.
    assert result.bound_seconds == (products - capacity) / leak_rate
    assert 0.9 <= result.efficiency <= 1.02, result.row()


async def test_an_access_token_expiring_mid_export_is_refreshed_once(
    make_sandbox: SandboxFactory, redis_url: str
) -> None:
    products = 200
    sb = await make_sandbox(
        malls=("shared",), products=products, variants_per_product=1, orders=10, customers=10, reviews=10,
    )
    result = await shared_export(
        sb, redis_url, "shared", range(1, products + 1), processes=4, expire_token_after=60,
    )

    assert result.errors == []
    assert sorted(result.records) == list(range(1, products + 1))
    assert sb.stats("shared").unauthorized >= 1  # the expiry really happened mid-export
    assert result.refreshes == 1  # the sandbox granted exactly one refresh across the 4 processes
    assert sb.stats("shared").invalid_grants == 0
    assert sum(worker["refreshes"] for worker in result.per_worker) == 1
    assert result.throttled == 0
