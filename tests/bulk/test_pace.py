"""Leaving the mall headroom: a bulk job spaces its calls as quota usage nears its ceiling.

The sandbox meters writes at 20 times a read's processing time and reports usage
on every answer. The rates are accelerated (a 2 s quota window, 40 ms per write)
so a job meets the quota within a second; the sandbox's own record of the
highest usage it reported is what the test checks.
"""

from __future__ import annotations

from cafe24_async import MallStats, ManualClock, QuotaSettings
from cafe24_async.bulk import BulkSettings, bulk_apply
from cafe24_async.bulk.pace import Headroom
from cafe24_async.ratelimit.quota import QuotaGovernor
from tests.bulk.helpers import INVENTORY, stock_rows
from tests.conftest import ClientFactory, SandboxFactory

#: 4,000 ms of processing per 2 s, 40 ms a write (20 × a read): about 50 writes a second.
QUOTA = {"time_quota": 4000.0, "quota_window": 2.0, "write_cost_ms": 40.0, "read_cost_ms": 2.0}


def test_the_gap_grows_from_ten_points_below_the_ceiling() -> None:
    clock = ManualClock()
    quota = QuotaGovernor("acme", QuotaSettings(), clock, MallStats("acme"))
    room = Headroom(quota, clock, keep=30.0, max_interval=2.0)
    assert [room.gap(u) for u in (None, 10.0, 65.0)] == [0.0, 0.0, 0.0]
    assert room.gap(67.5) == 0.5 and room.gap(70.0) == 2.0 and room.gap(100.0) == 8.0


async def test_a_bulk_job_keeps_its_share_of_the_quota(make_sandbox: SandboxFactory, make_client: ClientFactory) -> None:
    rows = stock_rows(40, 3)
    sb = await make_sandbox(malls=("acme",), products=40, variants_per_product=3, **QUOTA)
    api = await make_client(sb)
    settings = BulkSettings(keep_headroom=30.0, max_interval=0.2, concurrency=4)
    report = await bulk_apply(api.mall("acme"), INVENTORY, rows, settings=settings)
    stats = sb.stats("acme")
    assert report.counts["ok"] == 120 and stats.quota_blocks == 0
    # 30% left for other apps, give or take the 4 calls in flight (1% each) when the ceiling is reached
    assert report.spaced_seconds > 0 and stats.max_time_usage <= 74.0
    assert report.highest_usage is not None and report.highest_usage >= 60.0  # it did use its share

    greedy = await make_sandbox(malls=("acme",), products=40, variants_per_product=3, **QUOTA)
    api = await make_client(greedy, quota=QuotaSettings(slow_above=99.0, max_interval=0.2))
    await bulk_apply(api.mall("acme"), INVENTORY, rows, settings=BulkSettings(keep_headroom=0.0, max_interval=0.2))
    assert greedy.stats("acme").max_time_usage > 90.0  # without a share kept, it takes nearly all
