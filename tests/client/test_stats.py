"""A mall's counters read right: one bucket level, and waiting told as wall-clock and task time.

`mall.stats.bucket_level` once lagged `mall.bucket_level` (it was filled in only by
`Cafe24.stats()`), and `bucket_wait_seconds` added every waiting call's wait, so a
three-second read reported 23 seconds of waiting. Both figures are now kept, each
named for what it is.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from cafe24_async import MallStats
from tests.conftest import ClientFactory, SandboxFactory


def test_wall_and_task_seconds_of_overlapping_waits() -> None:
    stats = MallStats("acme")
    a = stats.wait_began(0.0)
    b = stats.wait_began(1.0)
    stats.wait_ended(b, 2.0)
    stats.wait_ended(a, 3.0)
    c = stats.wait_began(5.0)
    stats.wait_ended(c, 6.0)
    assert stats.bucket_wait_task_seconds == 3.0 + 1.0 + 1.0
    assert stats.bucket_wait_wall_seconds == 3.0 + 1.0  # [0, 3] and [5, 6]
    assert stats.bucket_wait_seconds == stats.bucket_wait_task_seconds  # the old name, for one release


async def test_one_bucket_level_and_both_wait_figures_over_http(
    make_sandbox: SandboxFactory, make_client: ClientFactory
) -> None:
    sb = await make_sandbox(malls=("acme",), products=40)
    api = await make_client(sb, bucket_capacity=10, leak_rate=400.0)
    mall = api.mall("acme")
    assert mall.stats.bucket_level is None and mall.bucket_level is None  # nothing sent yet
    started = time.monotonic()
    await asyncio.gather(*(mall.admin.products.get(1 + i % 40) for i in range(60)))
    elapsed = time.monotonic() - started
    stats = mall.stats
    assert stats.bucket_level is not None
    assert stats.bucket_level == pytest.approx(mall.bucket_level, abs=0.05)  # the same limiter, read twice
    assert api.stats()["acme"] is stats
    # 60 calls into a bucket of 10: many waited at once, so their waits add up to more
    # than the time anyone was waiting, which cannot exceed the run.
    assert 0 < stats.bucket_wait_wall_seconds <= elapsed
    assert stats.bucket_wait_task_seconds > stats.bucket_wait_wall_seconds
    shown = stats.as_dict()
    assert shown["bucket_level"] is not None and "bucket_wait_wall_seconds" in shown
    assert "bucket_wait_task_seconds" in repr(stats) and "_level" not in shown


def test_the_sandbox_counters_have_their_own_name() -> None:
    from cafe24_async import sandbox

    assert sandbox.ServerMallStats is sandbox.MallStats  # the old name kept for one release
    assert sandbox.ServerMallStats is not MallStats
