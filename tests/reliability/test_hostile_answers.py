"""Hostile 2xx answers over real HTTP: every record once, or a library error.

The sandbox answers some GETs with a 200 that is not what the route documents:
the root key left out (`{}`, `{"items": []}`, unknown keys), a list page cut short
while more records remain, a count that is not a non-negative integer, or an
HTML page. None of these may end a read early, yield junk records, or escape as
anything but a `Cafe24Error`.
"""

from __future__ import annotations

from collections import Counter

import pytest

from cafe24_async import DecodeError, IncompleteReadError, RetrySettings
from cafe24_async.sandbox import FaultConfig
from tests.conftest import ClientFactory, SandboxFactory

FAST_RETRY = RetrySettings(base_delay=0.001, max_delay=0.01, max_attempts=6)


def exact(expected: list[int], seen: list[int]) -> bool:
    counts = Counter(seen)
    return set(counts) == set(expected) and all(n == 1 for n in counts.values())


@pytest.mark.parametrize("variant_seed", [1, 2, 3])
async def test_missing_root_key_is_retried_never_an_empty_page(
    make_sandbox: SandboxFactory, make_client: ClientFactory, variant_seed: int
) -> None:
    sb = await make_sandbox(malls=("acme",), per_mall_products={"acme": 3_000})
    api = await make_client(sb, retry=FAST_RETRY)
    sb.set_faults(FaultConfig(seed=variant_seed, missing_root_rate=0.2))
    seen = [p["product_no"] async for p in api.mall("acme").admin.products.iterate(fields=["product_no"])]
    expected = [p["product_no"] for p in sb.dataset("acme").products.records]
    assert sb.stats("acme").hostile > 0
    assert len(seen) == 3_000 and exact(expected, seen)


async def test_root_key_that_never_comes_is_a_decode_error(
    make_sandbox: SandboxFactory, make_client: ClientFactory
) -> None:
    sb = await make_sandbox(malls=("acme",))
    api = await make_client(sb, retry=FAST_RETRY)
    sb.set_faults(FaultConfig(missing_root_rate=1.0))
    with pytest.raises(DecodeError, match="no 'products'"):
        await api.mall("acme").admin.products.list(limit=10)
    with pytest.raises(DecodeError):
        [p async for p in api.mall("acme").admin.products.iterate()]


async def test_unknown_keys_are_never_taken_for_records(
    make_sandbox: SandboxFactory, make_client: ClientFactory
) -> None:
    sb = await make_sandbox(malls=("acme",))
    api = await make_client(sb, retry=RetrySettings(max_attempts=1))
    # seed 0 with rate 1.0: each request meets one of the three missing-root bodies
    sb.set_faults(FaultConfig(seed=5, missing_root_rate=1.0))
    for _ in range(6):
        with pytest.raises(DecodeError):
            await api.mall("acme").admin.products.list(limit=10)


@pytest.mark.parametrize("seed", [4, 5])
async def test_short_pages_are_read_again_until_the_count_agrees(
    make_sandbox: SandboxFactory, make_client: ClientFactory, seed: int
) -> None:
    sb = await make_sandbox(malls=("acme",), per_mall_products={"acme": 3_000})
    api = await make_client(sb, retry=FAST_RETRY)
    sb.set_faults(FaultConfig(seed=seed, short_page_rate=0.3))
    seen = [p["product_no"] async for p in api.mall("acme").admin.products.iterate(fields=["product_no"])]
    expected = [p["product_no"] for p in sb.dataset("acme").products.records]
    assert sb.stats("acme").hostile > 0
    assert len(seen) == 3_000 and exact(expected, seen)


async def test_short_orders_pages_across_date_windows(
    make_sandbox: SandboxFactory, make_client: ClientFactory
) -> None:
    sb = await make_sandbox(malls=("acme",), orders=5_000)
    api = await make_client(sb, retry=FAST_RETRY)
    sb.set_faults(FaultConfig(seed=9, short_page_rate=0.5))
    seen = [
        o["order_id"]
        async for o in api.mall("acme").admin.orders.iterate(start_date="2025-11-01", end_date="2026-10-31")
    ]
    expected = [o["order_id"] for o in sb.dataset("acme").orders.records]
    assert sb.stats("acme").hostile > 0
    assert len(seen) == 5_000 and exact(expected, seen)


async def test_a_page_that_stays_short_fails_naming_the_offset(
    make_sandbox: SandboxFactory, make_client: ClientFactory
) -> None:
    sb = await make_sandbox(malls=("acme",), per_mall_products={"acme": 1_000})
    api = await make_client(sb, retry=FAST_RETRY)
    sb.set_faults(FaultConfig(short_page_rate=1.0))
    seen: list[int] = []
    with pytest.raises(IncompleteReadError, match="offset 0") as info:
        async for product in api.mall("acme").admin.products.iterate(fields=["product_no"]):
            seen.append(product["product_no"])
    assert info.value.offset == 0 and seen == []


async def test_a_count_that_is_not_a_non_negative_integer_is_a_decode_fault(
    make_sandbox: SandboxFactory, make_client: ClientFactory
) -> None:
    sb = await make_sandbox(malls=("acme",), per_mall_products={"acme": 600})
    api = await make_client(sb, retry=FAST_RETRY)
    sb.set_faults(FaultConfig(seed=2, bad_count_rate=0.5))
    # a bad count is retried like a 5xx, so counts and reads still come out right
    for _ in range(10):
        assert await api.mall("acme").admin.products.count() == 600
    seen = [p["product_no"] async for p in api.mall("acme").admin.products.iterate(fields=["product_no"])]
    assert len(seen) == 600 and len(set(seen)) == 600
    assert sb.stats("acme").hostile > 0
    sb.set_faults(FaultConfig(bad_count_rate=1.0))
    with pytest.raises(DecodeError, match="non-negative integer"):
        await api.mall("acme").admin.products.count()


async def test_an_html_page_is_retried_then_a_decode_error_without_the_html(
    make_sandbox: SandboxFactory, make_client: ClientFactory
) -> None:
    sb = await make_sandbox(malls=("acme",), per_mall_products={"acme": 500})
    api = await make_client(sb, retry=FAST_RETRY)
    sb.set_faults(FaultConfig(seed=3, html_rate=0.2))
    seen = [p["product_no"] async for p in api.mall("acme").admin.products.iterate(fields=["product_no"])]
    assert len(seen) == 500 and len(set(seen)) == 500
    sb.set_faults(FaultConfig(seed=1, html_rate=1.0))
    with pytest.raises(DecodeError, match="text/html") as info:
        await api.mall("acme").admin.products.list(limit=10)
    assert "<html" not in str(info.value).lower() and "busy" not in str(info.value)
