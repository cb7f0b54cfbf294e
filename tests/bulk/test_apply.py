"""bulk_apply over HTTP against the sandbox: caps, 207s, 422s, lost answers, stale reads, POSTs.

Every test checks the sandbox's own record of what happened (its request log and
its count of writes applied per record), not the client's account of it.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from cafe24_async import ManualClock
from cafe24_async.bulk import BulkInputError, BulkSettings, bulk_apply
from cafe24_async.sandbox import Sandbox, codes
from cafe24_async.sandbox.write_config import WriteConfig
from tests.bulk.helpers import INVENTORY, VARIANTS, applied_counts, files, stock_rows
from tests.conftest import ClientFactory, SandboxFactory

FAST = BulkSettings(stale_seconds=0.05, retry_delay=0.0)
VARIANTS_PATH = "/api/v2/admin/products/{product_no}/variants"
SHIPMENTS = "POST /api/v2/admin/shipments"


def writes_to(sb: Sandbox, path: str, method: str = "PUT") -> list[Any]:
    return [r for r in sb.requests if r.method == method and r.path == path]


def sent_codes(sb: Sandbox) -> Counter[str]:
    """How many calls carried each variant code."""
    return Counter(item["variant_code"] for r in writes_to(sb, VARIANTS_PATH) for item in r.json["requests"])


async def test_rows_go_in_calls_of_the_documented_cap(make_sandbox: SandboxFactory, make_client: ClientFactory) -> None:
    sb = await make_sandbox(malls=("acme",), products=3, variants_per_product=150)
    api = await make_client(sb)
    rows = stock_rows(3, 150)
    report = await bulk_apply(api.mall("acme"), VARIANTS, rows, settings=FAST)
    assert report.counts["ok"] == 450 and report.calls == 6
    sizes = [len(r.json["requests"]) for r in writes_to(sb, VARIANTS_PATH)]
    assert sorted(sizes) == [50, 50, 50, 100, 100, 100]  # one product per call, at most 100 objects
    assert {r.status for r in writes_to(sb, VARIANTS_PATH)} == {200}
    assert applied_counts(sb, rows) == (450, 0, 0)


async def test_a_smaller_chunk_size_and_a_route_without_a_list_form(
    make_sandbox: SandboxFactory, make_client: ClientFactory
) -> None:
    sb = await make_sandbox(malls=("acme",), products=4, variants_per_product=5)
    api = await make_client(sb)
    rows = stock_rows(2, 5)
    report = await bulk_apply(api.mall("acme"), VARIANTS, rows, settings=BulkSettings(chunk_size=2))
    assert report.calls == 6 and sorted(len(r.json["requests"]) for r in writes_to(sb, VARIANTS_PATH)) == [1, 1, 2, 2, 2, 2]
    one_each = stock_rows(4, 5, base=5000)[10:]
    report = await bulk_apply(api.mall("acme"), INVENTORY, one_each, settings=FAST)
    inventory = writes_to(sb, VARIANTS_PATH + "/{variant_code}/inventories")
    assert report.counts["ok"] == 10 and report.calls == 10 and len(inventory) == 10
    assert all(r.json["request"]["quantity"] >= 5000 for r in inventory)  # the single form, one row per call


async def test_a_207_sends_again_only_the_objects_refused_for_now(
    make_sandbox: SandboxFactory, make_client: ClientFactory
) -> None:
    faults = WriteConfig(seed=3, item_error_rate=0.3, item_error_statuses=(503, 422))
    sb = await make_sandbox(malls=("acme",), products=10, variants_per_product=10, writes=faults)
    api = await make_client(sb)
    rows = stock_rows(10, 10)
    report = await bulk_apply(api.mall("acme"), VARIANTS, rows, settings=BulkSettings(max_attempts=20, retry_delay=0))
    assert 207 in {r.status for r in writes_to(sb, VARIANTS_PATH)}
    failed = [r for r in report.results if r.status == "failed"]
    assert failed and all("422" in (r.error or "") and "one object of a 207" in (r.error or "") for r in failed)
    assert report.counts["ok"] + len(failed) == 100
    once, twice, never = applied_counts(sb, rows)
    assert (once, twice, never) == (report.counts["ok"], 0, len(failed))
    by_product: dict[str, list[int]] = {}
    for call in writes_to(sb, VARIANTS_PATH):
        by_product.setdefault(call.raw_path, []).append(len(call.json["requests"]))
    assert all(sizes[0] == 10 and all(n < 10 for n in sizes[1:]) for sizes in by_product.values())
    assert any(len(sizes) > 1 for sizes in by_product.values())  # only refused objects went again
    assert max(sent_codes(sb).values()) > 1  # some were sent again, and still applied once


async def test_a_422_naming_objects_fails_those_rows_and_sends_the_rest_again(
    make_sandbox: SandboxFactory, make_client: ClientFactory
) -> None:
    sb = await make_sandbox(malls=("acme",), products=2, variants_per_product=4)
    api = await make_client(sb)
    rows = stock_rows(2, 4)
    rows[2]["variant_code"] = codes.variant_code(2, 3)  # well formed, but product 1 has no such variant
    report = await bulk_apply(api.mall("acme"), VARIANTS, rows, settings=FAST)
    by_line = {r.row: r for r in report.results}
    assert by_line[3].status == "failed" and "is not a variant of this product" in (by_line[3].error or "")
    assert report.counts["ok"] == 7
    statuses = [r.status for r in writes_to(sb, VARIANTS_PATH)]
    assert statuses.count(422) == 1
    assert applied_counts(sb, rows[:2] + rows[3:]) == (7, 0, 0)


async def test_answers_lost_after_applying_are_read_back_never_sent_twice(
    make_sandbox: SandboxFactory, make_client: ClientFactory
) -> None:
    faults = WriteConfig(seed=8, lost_rate=0.3, lost_error_rate=0.2, reject_rate=0.2, stale_seconds=0.03)
    sb = await make_sandbox(malls=("acme",), products=30, variants_per_product=3, writes=faults)
    api = await make_client(sb)
    rows = stock_rows(30, 3)
    report = await bulk_apply(api.mall("acme"), VARIANTS, rows, settings=BulkSettings(
        stale_seconds=0.05, retry_delay=0, max_attempts=30))
    writes = sb.writes("acme")
    assert writes.lost >= 5 and writes.rejected >= 3
    assert report.counts["ok"] == 90 and report.ambiguous > 0
    assert applied_counts(sb, rows) == (90, 0, 0)
    reads = [r for r in sb.requests if r.method == "GET" and r.path == VARIANTS_PATH]
    assert len(reads) >= 8  # each unclear call was settled by reading the product's variants


async def test_a_hasty_reread_inside_the_stale_window_would_apply_twice(
    make_sandbox: SandboxFactory, make_client: ClientFactory
) -> None:
    """Why the wait: reads stay stale 5 s after a write. Settled at once, a lost answer
    looks "not applied" and is sent again; settled after the window, never."""
    counts = {}
    for wait in (0.0, 5.0):
        clock = ManualClock()
        faults = WriteConfig(seed=2, lost_rate=0.5, stale_seconds=5.0)
        sb = await make_sandbox(malls=("acme",), products=10, variants_per_product=2, writes=faults,
                                clock=clock.monotonic, now=clock.now)
        api = await make_client(sb, clock=clock)
        rows = stock_rows(10, 2)
        await bulk_apply(api.mall("acme"), VARIANTS, rows, settings=BulkSettings(
            stale_seconds=wait, retry_delay=0, max_attempts=30, concurrency=1))
        counts[wait] = applied_counts(sb, rows)
    assert counts[0.0][1] > 0  # applied twice: the stale read said "not applied"
    assert counts[5.0] == (20, 0, 0)


async def test_a_post_that_may_have_been_applied_is_not_sent_again_unless_asked(
    make_sandbox: SandboxFactory, make_client: ClientFactory
) -> None:
    rows = [{"order_id": f"20260101-{n:07d}", "tracking_no": f"T{n}", "shipping_company_code": "0001",
             "status": "shipping"} for n in range(40)]
    sb = await make_sandbox(malls=("acme",), products=5, writes=WriteConfig(seed=1, lost_rate=1.0))
    api = await make_client(sb)
    report = await bulk_apply(api.mall("acme"), SHIPMENTS, rows, settings=FAST)
    assert report.counts["unknown"] == 40 and "not sent again" in (report.results[0].error or "")
    assert len(writes_to(sb, "/api/v2/admin/shipments", "POST")) == 1  # one call of 40: never repeated

    sb = await make_sandbox(malls=("acme",), products=5, writes=WriteConfig(seed=1, lost_rate=0.5))
    api = await make_client(sb)
    report = await bulk_apply(api.mall("acme"), SHIPMENTS, rows,
                              settings=BulkSettings(resend_ambiguous=True, chunk_size=10, retry_delay=0,
                                                    stale_seconds=0, max_attempts=30))
    assert report.counts["ok"] == 40
    assert len(writes_to(sb, "/api/v2/admin/shipments", "POST")) > 4  # asked to: sent again


async def test_rows_that_keep_failing_give_up_after_max_attempts(
    make_sandbox: SandboxFactory, make_client: ClientFactory
) -> None:
    sb = await make_sandbox(malls=("acme",), products=2, variants_per_product=2,
                            writes=WriteConfig(item_error_rate=1.0, item_error_statuses=(503,)))
    api = await make_client(sb)
    report = await bulk_apply(api.mall("acme"), VARIANTS, stock_rows(2, 2),
                              settings=BulkSettings(max_attempts=3, retry_delay=0))
    assert report.counts["failed"] == 4
    assert all("gave up after 3 calls" in (r.error or "") for r in report.results)
    assert len(writes_to(sb, VARIANTS_PATH)) == 6  # 2 products × 3 calls, no more


async def test_skip_invalid_sends_the_valid_rows(make_sandbox: SandboxFactory, make_client: ClientFactory) -> None:
    sb = await make_sandbox(malls=("acme",), products=2, variants_per_product=2)
    api = await make_client(sb)
    rows: list[dict[str, Any]] = stock_rows(2, 2)
    rows[1]["variant_code"] = "short"
    with pytest.raises(BulkInputError, match="1 of 4 rows") as refused:
        await bulk_apply(api.mall("acme"), VARIANTS, rows)
    assert refused.value.problems[0][0] == 2 and "variant_code" in refused.value.problems[0][1]
    assert not writes_to(sb, VARIANTS_PATH)  # nothing was sent
    report = await bulk_apply(api.mall("acme"), VARIANTS, rows, settings=BulkSettings(skip_invalid=True))
    assert [r.status for r in report.results] == ["ok", "failed", "ok", "ok"]
    assert "not sent: variant_code" in (report.results[1].error or "")


async def test_an_unknown_route_or_a_read_route_is_refused(
    make_sandbox: SandboxFactory, make_client: ClientFactory, tmp_path: Path
) -> None:
    sb = await make_sandbox(malls=("acme",), products=2)
    api = await make_client(sb)
    with pytest.raises(BulkInputError, match="does not write"):
        await bulk_apply(api.mall("acme"), "GET /api/v2/admin/products", [{"limit": 1}])
    with pytest.raises(BulkInputError, match="did you mean"):
        await bulk_apply(api.mall("acme"), "products.variants.update_all", [{}])
    assert not files(tmp_path) and not [r for r in sb.requests if r.method != "GET"]


async def test_a_delete_sent_again_after_a_lost_answer_is_done_when_the_record_is_gone(
    make_sandbox: SandboxFactory, make_client: ClientFactory
) -> None:
    sb = await make_sandbox(malls=("acme",), products=20, writes=WriteConfig(seed=6, lost_rate=0.5))
    api = await make_client(sb)
    rows = [{"product_no": n} for n in range(1, 11)]
    report = await bulk_apply(api.mall("acme"), "DELETE /api/v2/admin/products/{product_no}", rows, settings=FAST)
    deletes = [r for r in sb.requests if r.method == "DELETE"]
    assert report.counts["ok"] == 10 and 404 in {r.status for r in deletes}  # sent again, found gone
    assert sorted(sb.dataset("acme").products.index) == list(range(11, 21))
