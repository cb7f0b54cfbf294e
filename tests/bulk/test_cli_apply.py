"""`cafe24-async apply` as a person runs it: mapped columns, progress, results, exit codes,
SIGTERM and resume, a busy journal, a journal of another job."""

from __future__ import annotations

import asyncio
import csv
import os
import signal
import subprocess
from pathlib import Path

from cafe24_async.bulk.files import JournalLock
from cafe24_async.sandbox import Sandbox
from cafe24_async.sandbox.write_config import WriteConfig
from tests.bulk.helpers import (
    VARIANTS,
    applied_counts,
    apply_argv,
    cli_env,
    exists,
    files,
    journal_lines,
    results,
    stock_rows,
    token_file,
    write_csv,
)
from tests.conftest import SandboxFactory


async def run(argv: list[str], sb: Sandbox) -> subprocess.CompletedProcess[str]:
    return await asyncio.to_thread(subprocess.run, argv, env=cli_env(sb), capture_output=True, text=True, timeout=120)


def puts(sb: Sandbox) -> int:
    return sum(1 for r in sb.requests if r.method == "PUT")


async def test_mapped_columns_verified_results_and_exit_5(make_sandbox: SandboxFactory, tmp_path: Path) -> None:
    sb = await make_sandbox(malls=("acme",), products=8, variants_per_product=3,
                            writes=WriteConfig(seed=4, inventory_off_rate=0.3, stale_seconds=0.05))
    tokens = await token_file(sb, "acme", tmp_path / "tokens.json")
    rows = [{"product": r["product_no"], "sku": r["variant_code"], "stock": r["quantity"], "note": "from the ERP"}
            for r in stock_rows(8, 3)]
    source = write_csv(tmp_path / "stock.csv", rows)
    out = tmp_path / "stock-results.csv"
    argv = apply_argv(sb, tokens, VARIANTS, source, "--map", "product=product_no", "--map", "sku=variant_code",
                      "--map", "stock=quantity", "--ignore", "note", "--verify", "--stale-seconds", "0.1",
                      "--out", str(out))
    done = await run(argv, sb)
    off = {r["sku"] for r in rows if sb.writes("acme").use_inventory(r["sku"]) == "F"}
    assert off and done.returncode == 5, done.stderr  # completed, with rows the mall did not take
    assert f"{24 - len(off)} ok" in done.stderr and f"{len(off)} unchanged" in done.stderr
    with out.open(encoding="utf-8", newline="") as fh:
        lines = list(csv.DictReader(fh))
    assert [int(line["row"]) for line in lines] == list(range(2, 26))
    assert {line["variant_code"] for line in lines if line["status"] == "unchanged"} == off
    assert all(line["error"].startswith("quantity: sent") for line in lines if line["status"] == "unchanged")
    assert exists(str(out) + ".journal") and not exists(str(out) + ".journal.lock")


async def test_bad_input_busy_journal_and_another_job(make_sandbox: SandboxFactory, tmp_path: Path) -> None:
    sb = await make_sandbox(malls=("acme",), products=4, variants_per_product=2)
    tokens = await token_file(sb, "acme", tmp_path / "tokens.json")
    rows = stock_rows(4, 2)
    bad = write_csv(tmp_path / "bad.csv", [{**r, "colour": "red"} for r in rows])
    refused = await run(apply_argv(sb, tokens, VARIANTS, bad), sb)
    assert refused.returncode == 2 and "colour is not a parameter" in refused.stderr and "Traceback" not in refused.stderr
    assert puts(sb) == 0 and not [name for name in files(tmp_path) if "results" in name]  # no results, no journal

    source = write_csv(tmp_path / "stock.csv", rows)
    out = tmp_path / "stock.results.jsonl"
    with JournalLock(Path(str(out) + ".journal")):
        busy = await run(apply_argv(sb, tokens, VARIANTS, source), sb)
    assert busy.returncode == 4 and f"PID {os.getpid()}" in busy.stderr and puts(sb) == 0

    loud = [a for a in apply_argv(sb, tokens, VARIANTS, source, "--dry-run") if a != "--quiet"]
    dry = await run(loud, sb)
    assert dry.returncode == 0 and puts(sb) == 0, dry.stderr
    assert {r["status"] for r in results(tmp_path / "stock.dry-run.jsonl")} == {"valid"}
    assert "8 valid" in dry.stderr and not exists(out)  # a dry run leaves the real results' place empty

    done = await run(apply_argv(sb, tokens, VARIANTS, source, "--stale-seconds", "0"), sb)
    assert done.returncode == 0, done.stderr
    assert [r["status"] for r in results(out)] == ["ok"] * 8  # the default results file beside the input
    write_csv(source, stock_rows(4, 2, base=7000))  # the file changed: another job
    other = await run(apply_argv(sb, tokens, VARIANTS, source), sb)
    assert other.returncode == 2 and "belongs to another job" in other.stderr and "--restart" in other.stderr
    assert puts(sb) == 4 and applied_counts(sb, rows) == (8, 0, 0)


async def test_sigterm_stops_a_run_and_the_same_command_resumes_it(
    make_sandbox: SandboxFactory, tmp_path: Path
) -> None:
    sb = await make_sandbox(malls=("acme",), products=60, variants_per_product=2, latency=0.02,
                            writes=WriteConfig(stale_seconds=0.05))
    tokens = await token_file(sb, "acme", tmp_path / "tokens.json")
    rows = stock_rows(60, 2)
    source = write_csv(tmp_path / "stock.csv", rows)
    out = tmp_path / "stock.results.jsonl"
    journal = Path(str(out) + ".journal")
    argv = apply_argv(sb, tokens, VARIANTS, source, "--concurrency", "1", "--stale-seconds", "0.1")
    proc = subprocess.Popen(argv, env=cli_env(sb), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    while proc.poll() is None and journal_lines(journal) < 20:
        await asyncio.sleep(0.005)
    assert proc.poll() is None, "the run ended before it could be stopped"
    proc.send_signal(signal.SIGTERM)
    _, stderr = await asyncio.to_thread(proc.communicate, timeout=60)
    assert proc.returncode == 143 and "again to resume" in stderr and "Traceback" not in stderr
    assert 0 < puts(sb) < 60 and not exists(out)
    done = await run(argv, sb)
    assert done.returncode == 0, done.stderr
    assert applied_counts(sb, rows) == (120, 0, 0)
    assert [r["status"] for r in results(out)] == ["ok"] * 120
