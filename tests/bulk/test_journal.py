"""The journal against hostile conditions: interruptions, torn and damaged lines, a journal of
another job, one deleted before or during a run, two runs at once, a forged intent.

Each case either resumes to "every row applied exactly once" (counted by the
sandbox) or stops with a `JournalError`/`JournalBusyError` before sending anything more.
"""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import pytest

from cafe24_async.bulk import (
    BulkSettings,
    JournalBusyError,
    JournalError,
    bulk_apply,
    profile_for,
    resolve_route,
)
from cafe24_async.bulk.files import JournalLock
from cafe24_async.bulk.journal import _seal
from cafe24_async.bulk.plan import make_plan
from cafe24_async.bulk.rows import given_rows
from cafe24_async.sandbox import Sandbox
from cafe24_async.sandbox.write_config import WriteConfig
from tests.bulk.helpers import VARIANTS, applied_counts, results, stock_rows
from tests.conftest import ClientFactory, SandboxFactory

SLOW = BulkSettings(concurrency=1, stale_seconds=0.05, retry_delay=0)
VARIANTS_PATH = "/api/v2/admin/products/{product_no}/variants"


def lines(path: Path) -> int:
    try:
        return path.read_bytes().count(b"\n")
    except FileNotFoundError:
        return 0


def puts(sb: Sandbox) -> int:
    return sum(1 for r in sb.requests if r.method == "PUT")


async def interrupted(coro_task: asyncio.Task[object], journal: Path, after: int) -> None:
    """Cancel the run once its journal has `after` lines (Ctrl-C, in library terms)."""
    while lines(journal) < after and not coro_task.done():
        await asyncio.sleep(0.002)
    assert not coro_task.done(), "the run ended before it could be interrupted"
    coro_task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await coro_task


async def test_cancelled_then_resumed_applies_each_row_once(
    make_sandbox: SandboxFactory, make_client: ClientFactory, tmp_path: Path
) -> None:
    sb = await make_sandbox(malls=("acme",), products=40, variants_per_product=3, latency=0.01)
    api = await make_client(sb)
    rows, journal, out = stock_rows(40, 3), tmp_path / "j", tmp_path / "r.jsonl"
    for after in (9, 30):
        task = asyncio.create_task(bulk_apply(api.mall("acme"), VARIANTS, rows, journal=journal, settings=SLOW))
        await interrupted(task, journal, after)
    report = await bulk_apply(api.mall("acme"), VARIANTS, rows, journal=journal, results=out, settings=SLOW)
    assert report.resumed and report.counts["ok"] == 120
    assert applied_counts(sb, rows) == (120, 0, 0)
    assert [r["status"] for r in results(out)] == ["ok"] * 120
    again = await bulk_apply(api.mall("acme"), VARIANTS, rows, journal=journal, results=out, settings=SLOW)
    assert again.calls == 0 and again.counts["ok"] == 120  # a finished job: the same results, nothing sent


async def test_a_torn_last_line_is_cut_a_damaged_one_refused(
    make_sandbox: SandboxFactory, make_client: ClientFactory, tmp_path: Path
) -> None:
    sb = await make_sandbox(malls=("acme",), products=20, variants_per_product=2, latency=0.01)
    api = await make_client(sb)
    rows, journal = stock_rows(20, 2), tmp_path / "j"
    task = asyncio.create_task(bulk_apply(api.mall("acme"), VARIANTS, rows, journal=journal, settings=SLOW))
    await interrupted(task, journal, 10)
    whole = journal.read_bytes()
    with journal.open("ab") as fh:
        fh.write(b'{"c":"0123","chunk":99,"rows":[1,2')  # the process died mid-write
    report = await bulk_apply(api.mall("acme"), VARIANTS, rows, journal=journal, settings=SLOW)
    assert report.counts["ok"] == 40 and applied_counts(sb, rows) == (40, 0, 0)
    assert journal.read_bytes().startswith(whole) and b"0123" not in journal.read_bytes()

    text = journal.read_text().splitlines()
    text[3] = text[3].replace('"send"', '"sent"')  # a line in the middle, changed
    journal.write_text("\n".join(text) + "\n")
    sent = puts(sb)
    with pytest.raises(JournalError, match="damaged at line 4"):
        await bulk_apply(api.mall("acme"), VARIANTS, rows, journal=journal, settings=SLOW)
    assert puts(sb) == sent


async def test_a_journal_of_another_job_is_refused_until_restart(
    make_sandbox: SandboxFactory, make_client: ClientFactory, tmp_path: Path
) -> None:
    sb = await make_sandbox(malls=("acme",), products=4, variants_per_product=2)
    api = await make_client(sb)
    journal = tmp_path / "j"
    await bulk_apply(api.mall("acme"), VARIANTS, stock_rows(4, 2), journal=journal, settings=SLOW)
    sent = puts(sb)
    other = stock_rows(4, 2, base=3000)  # the same records, other values: another job
    with pytest.raises(JournalError, match="belongs to another job"):
        await bulk_apply(api.mall("acme"), VARIANTS, other, journal=journal, settings=SLOW)
    with pytest.raises(JournalError, match="another job"):
        await bulk_apply(api.mall("other"), VARIANTS, stock_rows(4, 2), journal=journal, settings=SLOW)
    assert puts(sb) == sent
    report = await bulk_apply(api.mall("acme"), VARIANTS, other, journal=journal, restart=True, settings=SLOW)
    assert report.counts["ok"] == 8 and not report.resumed


async def test_a_journal_deleted_after_a_run_whose_results_remain_is_refused(
    make_sandbox: SandboxFactory, make_client: ClientFactory, tmp_path: Path
) -> None:
    sb = await make_sandbox(malls=("acme",), products=4, variants_per_product=2)
    api = await make_client(sb)
    rows, journal, out = stock_rows(4, 2), tmp_path / "j", tmp_path / "r.jsonl"
    await bulk_apply(api.mall("acme"), VARIANTS, rows, journal=journal, results=out, settings=SLOW)
    journal.unlink()
    sent = puts(sb)
    with pytest.raises(JournalError, match=r"is missing, but .*r\.jsonl holds the results"):
        await bulk_apply(api.mall("acme"), VARIANTS, rows, journal=journal, results=out, settings=SLOW)
    assert puts(sb) == sent and applied_counts(sb, rows) == (8, 0, 0)


async def test_a_journal_deleted_during_the_run_stops_it(
    make_sandbox: SandboxFactory, make_client: ClientFactory, tmp_path: Path
) -> None:
    sb = await make_sandbox(malls=("acme",), products=60, variants_per_product=2, latency=0.01)
    api = await make_client(sb)
    rows, journal = stock_rows(60, 2), tmp_path / "j"
    task = asyncio.create_task(bulk_apply(api.mall("acme"), VARIANTS, rows, journal=journal, settings=SLOW))
    while lines(journal) < 12:
        await asyncio.sleep(0.002)
    journal.unlink()
    sent = puts(sb)
    with pytest.raises(JournalError, match="deleted or replaced during the run"):
        await task
    assert puts(sb) <= sent + 1  # at most the call already on its way
    assert puts(sb) < 60


async def test_two_runs_on_one_journal(make_sandbox: SandboxFactory, make_client: ClientFactory, tmp_path: Path) -> None:
    sb = await make_sandbox(malls=("acme",), products=2, variants_per_product=2)
    api = await make_client(sb)
    journal = tmp_path / "j"
    with JournalLock(journal), pytest.raises(JournalBusyError, match=f"PID {os.getpid()}"):
        await bulk_apply(api.mall("acme"), VARIANTS, stock_rows(2, 2), journal=journal, settings=SLOW)
    assert puts(sb) == 0
    report = await bulk_apply(api.mall("acme"), VARIANTS, stock_rows(2, 2), journal=journal, settings=SLOW)
    assert report.counts["ok"] == 4  # the lock was let go


async def test_an_intent_that_is_not_this_jobs_request_is_refused(
    make_sandbox: SandboxFactory, make_client: ClientFactory, tmp_path: Path
) -> None:
    sb = await make_sandbox(malls=("acme",), products=2, variants_per_product=2)
    api = await make_client(sb)
    rows = stock_rows(2, 2)
    mall = api.mall("acme")
    plan = make_plan(mall, profile_for(resolve_route(VARIANTS)), given_rows(rows))
    journal = tmp_path / "j"
    forged = [{"t": "job", "v": 1, "job": plan.job}, {"t": "send", "chunk": 1, "rows": [0, 1], "fp": "0" * 64}]
    journal.write_bytes(b"".join(_seal(line) for line in forged))
    with pytest.raises(JournalError, match="fingerprint"):
        await bulk_apply(mall, VARIANTS, rows, journal=journal, settings=SLOW)
    assert puts(sb) == 0
    assert json.loads(journal.read_text().splitlines()[1])["fp"] == "0" * 64  # left as it was


async def test_rows_an_earlier_run_sent_as_often_as_allowed_are_not_sent_again(
    make_sandbox: SandboxFactory, make_client: ClientFactory, tmp_path: Path
) -> None:
    sb = await make_sandbox(malls=("acme",), products=1, variants_per_product=2,
                            writes=WriteConfig(item_error_rate=1.0, item_error_statuses=(503,)))
    api = await make_client(sb)
    rows, journal = stock_rows(1, 2), tmp_path / "j"
    task = asyncio.create_task(bulk_apply(api.mall("acme"), VARIANTS, rows, journal=journal,
                                          settings=BulkSettings(retry_delay=30.0, max_attempts=9)))
    await interrupted(task, journal, 3)  # one call, refused for now; the next would wait 30 s
    assert puts(sb) == 1
    report = await bulk_apply(api.mall("acme"), VARIANTS, rows, journal=journal,
                              settings=BulkSettings(max_attempts=1))
    assert puts(sb) == 1 and report.calls == 0 and [r.status for r in report.results] == ["failed", "failed"]
    assert (report.results[0].error or "").startswith("gave up after 1 calls; last: 503 PUT")
