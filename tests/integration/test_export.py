"""Bulk exports against the sandbox: caps, date windows, several malls, resume, formats, fan-out."""

from __future__ import annotations

import asyncio
import csv
import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from cafe24_async import NotFoundError, fan_out
from cafe24_async.export import ExportError, ExportSpec, run_export
from cafe24_async.export.checkpoint import Checkpoint, checkpoint_path
from tests.conftest import ClientFactory, SandboxFactory


def jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


async def test_products_past_the_offset_cap(make_sandbox: SandboxFactory, make_client: ClientFactory, tmp_path: Path) -> None:
    sb = await make_sandbox(malls=("big",), per_mall_products={"big": 11_000})
    api = await make_client(sb)
    out = tmp_path / "products.jsonl"
    report = await run_export(api, ExportSpec("products", ("big",), {"fields": ["product_no", "product_name"]}), str(out))
    rows = jsonl(out)
    numbers = [r["product_no"] for r in rows]
    assert sorted(numbers) == list(range(1, 11_001))
    assert report.total == 11_000 and report.minimum_pages == 110
    assert report.pages == 111  # 11,000 is a whole number of pages: one more to see the end
    assert report.counts == 1 and report.requests == 112
    assert not checkpoint_path(str(out)).exists()  # a finished export leaves no checkpoint


async def test_a_year_of_orders_past_the_span_rule_and_the_cap(make_sandbox: SandboxFactory, make_client: ClientFactory, tmp_path: Path) -> None:
    sb = await make_sandbox(malls=("acme",), orders=70_000, products=50)
    api = await make_client(sb)
    out = tmp_path / "orders.jsonl"
    spec = ExportSpec("orders", ("acme",), {"start_date": "2025-11-01", "end_date": "2026-10-31", "fields": ["order_id", "order_date"]})
    report = await run_export(api, spec, str(out))
    ids = [r["order_id"] for r in jsonl(out)]
    assert len(ids) == len(set(ids)) == 70_000
    spans = [r for r in sb.requests if r.path == "/api/v2/admin/orders"]
    assert all(int(r.query.get("offset", 0)) <= 15_000 for r in spans)
    windows = {(r.query["start_date"], r.query["end_date"]) for r in spans}
    assert len(windows) > 4  # 3-month windows, halved where over 16,000 orders
    assert report.pages <= report.minimum_pages + len(windows)


async def test_window_boundaries_keep_each_order_once(make_sandbox: SandboxFactory, make_client: ClientFactory) -> None:
    sb = await make_sandbox(malls=("acme",), orders=3000, products=20)
    api = await make_client(sb)
    mall = api.mall("acme")
    whole = [o["order_id"] async for o in mall.admin.orders.iterate(start_date="2025-11-01", end_date="2026-10-31")]
    # the same year as two ranges that meet at a day boundary, then at a second boundary
    first = [o["order_id"] async for o in mall.admin.orders.iterate(start_date="2025-11-01", end_date="2026-04-30")]
    second = [o["order_id"] async for o in mall.admin.orders.iterate(start_date="2026-05-01", end_date="2026-10-31")]
    assert len(whole) == len(set(whole)) == 3000
    assert sorted(first + second) == sorted(whole)


async def test_two_malls_at_once_to_csv(make_sandbox: SandboxFactory, make_client: ClientFactory, tmp_path: Path) -> None:
    sb = await make_sandbox(malls=("one", "two"), products=730)
    api = await make_client(sb)
    out = tmp_path / "products.csv"
    report = await run_export(api, ExportSpec("products", ("one", "two"), {"embed": ["variants"]}), str(out))
    with out.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert report.records == {"one": 730, "two": 730}
    assert {(r["mall_id"], int(r["product_no"])) for r in rows} == {(m, n) for m in ("one", "two") for n in range(1, 731)}
    variants = json.loads(rows[0]["variants"])  # nested values are JSON in their cell
    assert isinstance(variants, list) and variants[0]["variant_code"]


async def test_resume_after_cancel_writes_each_record_once(make_sandbox: SandboxFactory, make_client: ClientFactory, tmp_path: Path) -> None:
    sb = await make_sandbox(malls=("acme",), products=6000, leak_rate=300.0)
    api = await make_client(sb, leak_rate=300.0)
    out = tmp_path / "products.jsonl"
    spec = ExportSpec("products", ("acme",), {"fields": ["product_no"]})
    task = asyncio.create_task(run_export(api, spec, str(out), checkpoint_interval=0.0, concurrency=2))
    while not checkpoint_path(str(out)).exists() or (Checkpoint.load(checkpoint_path(str(out))) or Checkpoint({})).records < 1500:
        await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    saved = Checkpoint.load(checkpoint_path(str(out)))
    assert saved is not None and 0 < saved.records < 6000
    assert out.stat().st_size == saved.size  # the checkpoint covers exactly what is on disk
    report = await run_export(api, spec, str(out))
    assert report.resumed and report.total == 6000 - saved.records
    numbers = [r["product_no"] for r in jsonl(out)]
    assert sorted(numbers) == list(range(1, 6001))


async def test_resume_after_kill_9(make_sandbox: SandboxFactory, make_client: ClientFactory, tmp_path: Path) -> None:
    """A CLI export killed with SIGKILL midway, then run again: every record exactly once."""
    sb = await make_sandbox(malls=("acme",), products=8000, leak_rate=150.0)
    tokens = tmp_path / "tokens.json"
    from cafe24_async import FileTokenStore, Token

    await FileTokenStore(tokens).save("acme", Token.from_response(sb.issue_token("acme")))
    out = tmp_path / "products.jsonl"
    argv = [sys.executable, "-m", "cafe24_async", "export", "products", "--mall", "acme", "--out", str(out),
            "--fields", "product_no", "--base-url", sb.base_url, "--token-file", str(tokens),
            "--client-id", sb.config.client_id, "--leak-rate", "150", "--concurrency", "2", "--quiet"]
    env = {**os.environ, "CAFE24_CLIENT_SECRET": sb.config.client_secret}
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    ck = checkpoint_path(str(out))
    for _ in range(2000):
        saved = Checkpoint.load(ck) if ck.exists() else None
        if saved is not None and saved.records >= 2000:
            break
        await asyncio.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    saved = Checkpoint.load(ck)
    assert saved is not None and saved.records < 8000
    api = await make_client(sb, leak_rate=1000.0)
    api.token_store = FileTokenStore(tokens)
    report = await run_export(api, ExportSpec("products", ("acme",), {"fields": ["product_no"]}), str(out))
    assert report.resumed
    numbers = [r["product_no"] for r in jsonl(out)]
    assert len(numbers) == 8000 and sorted(numbers) == list(range(1, 8001))


async def test_a_checkpoint_of_another_export_is_refused(make_sandbox: SandboxFactory, make_client: ClientFactory, tmp_path: Path) -> None:
    sb = await make_sandbox(malls=("acme",))
    api = await make_client(sb)
    out = tmp_path / "x.jsonl"
    Checkpoint(job={"resource": "admin.orders.list", "malls": ["acme"], "params": {}, "format": "jsonl"}).save(checkpoint_path(str(out)))
    with pytest.raises(ExportError, match="different export"):
        await run_export(api, ExportSpec("products", ("acme",)), str(out))
    report = await run_export(api, ExportSpec("products", ("acme",)), str(out), restart=True)
    assert report.total == 250


async def test_fan_out_reports_failures_with_their_input(make_sandbox: SandboxFactory, make_client: ClientFactory) -> None:
    sb = await make_sandbox(malls=("acme", "beta"), products=40)
    api = await make_client(sb)
    inputs = [("acme", n) for n in range(1, 31)] + [("acme", 999)] + [("beta", n) for n in range(1, 31)]

    async def get(item: tuple[str, int]) -> dict[str, Any]:
        mall_id, number = item
        result: dict[str, Any] = await api.mall(mall_id).admin.products.get(number)
        return result

    ordered = [o async for o in fan_out(get, inputs, concurrency=8)]
    assert [o.input for o in ordered] == inputs
    failed = [o for o in ordered if not o.ok]
    assert len(failed) == 1 and failed[0].input == ("acme", 999) and isinstance(failed[0].error, NotFoundError)
    assert all(o.value is not None and o.value["product_no"] == o.input[1] for o in ordered if o.ok)
    unordered = [o async for o in fan_out(get, inputs, concurrency=8, ordered=False)]
    assert sorted(o.index for o in unordered) == list(range(len(inputs)))


async def test_fan_out_bounds_tasks_in_flight() -> None:
    in_flight = peak = 0

    async def work(n: int) -> int:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0)
        in_flight -= 1
        return n * 2

    def lazy() -> Any:
        yield from range(200_000)

    total = 0
    async for outcome in fan_out(work, lazy(), concurrency=16):
        total += outcome.value or 0
    assert peak <= 16
    assert total == 2 * sum(range(200_000))


async def test_cli_bad_input_exit_codes(tmp_path: Path) -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "cafe24_async", *args], capture_output=True, text=True,
                              env={**os.environ, "CAFE24_TOKEN_FILE": str(tmp_path / "none.json")}, timeout=60)

    unknown = run("export", "bogus", "--mall", "acme", "--out", str(tmp_path / "x.jsonl"), "--client-id", "c")
    assert unknown.returncode == 2 and "unknown resource" in unknown.stderr
    bad_date = run("export", "orders", "--mall", "acme", "--since", "2026-02-30", "--out", "x.jsonl")
    assert bad_date.returncode == 2 and "bad date" in bad_date.stderr
    no_token = run("export", "products", "--mall", "acme", "--out", str(tmp_path / "x.jsonl"), "--client-id", "c",
                   "--base-url", "http://127.0.0.1:9/{mall_id}")
    assert no_token.returncode == 3 and "re-authorize" in no_token.stderr
    unwritable = run("export", "products", "--sandbox", "--out", "/proc/nope/x.jsonl", "--quiet")
    assert unwritable.returncode == 4
    missing_range = run("export", "activitylogs", "--sandbox", "--out", str(tmp_path / "a.jsonl"))
    assert missing_range.returncode == 2 and "--since" in missing_range.stderr
