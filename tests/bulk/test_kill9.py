"""The exactly-once promise, tested the hard way: a 5,000-row stock update, killed with
kill -9 at random points while the sandbox loses answers, and resumed.

The command line runs in its own process against a sandbox in this one. The
sandbox refuses some writes before applying them, applies some and then drops
the connection or answers 500, refuses single objects of a bulk call (207),
throws in ordinary 5xx and dropped connections, and shows stale values for a
while after each write. The process is killed with SIGKILL whenever its journal
passes a random line count (4 times), then run to the end. Afterwards the
sandbox's own count of writes per variant (`WriteBook.applied`, counted on the
server, outside the client) must be exactly 1 for every one of the 5,000 rows:
none applied twice, none skipped; every variant holds its row's quantity, and
the results file says ok for every row.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
from pathlib import Path

from cafe24_async.sandbox import FaultConfig
from cafe24_async.sandbox.write_config import WriteConfig
from tests.bulk.helpers import (
    VARIANTS,
    applied_counts,
    apply_argv,
    cli_env,
    journal_lines,
    results,
    stock_rows,
    token_file,
    write_csv,
)
from tests.conftest import SandboxFactory

PRODUCTS, VARIANTS_EACH = 500, 10
KILLS = 4
WRITE_FAULTS = WriteConfig(seed=11, reject_rate=0.03, lost_rate=0.03, lost_error_rate=0.02, item_error_rate=0.02,
                           stale_seconds=0.2)
API_FAULTS = FaultConfig(seed=5, error_rate=0.02, drop_rate=0.01, error_statuses=(500, 503))


async def run_until(argv: list[str], env: dict[str, str], journal: Path, lines: int) -> int | None:
    """Run the command; kill -9 it once its journal has `lines` lines. None: killed; else its exit code."""
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        while proc.poll() is None and journal_lines(journal) < lines:
            await asyncio.sleep(0.003)
        if proc.poll() is not None:
            return proc.returncode
        proc.send_signal(signal.SIGKILL)
        await asyncio.to_thread(proc.wait)
        return None
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stderr is not None:
            proc.stderr.close()


async def test_5000_rows_killed_4_times_land_exactly_once(make_sandbox: SandboxFactory, tmp_path: Path) -> None:
    sb = await make_sandbox(malls=("acme",), products=PRODUCTS, variants_per_product=VARIANTS_EACH,
                            writes=WRITE_FAULTS, faults=API_FAULTS)
    rows = stock_rows(PRODUCTS, VARIANTS_EACH)
    source = write_csv(tmp_path / "stock.csv", rows)
    out = tmp_path / "stock.results.jsonl"
    journal = Path(str(out) + ".journal")
    argv = apply_argv(sb, await token_file(sb, "acme", tmp_path / "tokens.json"), VARIANTS, source,
                      "--out", str(out), "--stale-seconds", "0.3", "--max-attempts", "20")
    env = cli_env(sb)
    # A call is at least two journal lines (intent, outcome): kill anywhere in the first 1,000.
    seed = int(os.environ.get("BULK_KILL_SEED", "2024"))  # another seed: other kill points
    points = sorted(random.Random(seed).sample(range(40, 1000), KILLS))
    kills = 0
    for point in points:
        code = await run_until(argv, env, journal, point)
        if code is not None:
            raise AssertionError(f"the run ended (exit {code}) before journal line {point}; kill points too late")
        kills += 1
    final = await asyncio.to_thread(subprocess.run, argv, env=env, capture_output=True, text=True, timeout=300)
    assert final.returncode == 0, final.stderr

    once, twice, skipped = applied_counts(sb, rows)
    writes = sb.writes("acme")
    print(f"\nexactly-once (kill seed {seed}, journal lines {points}): rows={len(rows)} kills={kills} applied_once={once} applied_twice={twice} "
          f"skipped={skipped} (sandbox: {writes.rejected} refused before applying, {writes.lost} answers lost "
          f"after applying; journal {journal_lines(journal)} lines)")
    assert kills == KILLS
    assert (once, twice, skipped) == (len(rows), 0, 0)
    assert set(writes.applied) == {("variant", r["variant_code"]) for r in rows}
    assert writes.lost >= 10 and writes.rejected >= 10  # the faults really happened
    dataset = sb.dataset("acme")
    for row in rows:
        variants = dataset.variants(row["product_no"])
        assert variants is not None and variants.get(row["variant_code"])["quantity"] == row["quantity"]  # type: ignore[index]
    lines = results(out)
    assert len(lines) == len(rows) and {line["status"] for line in lines} == {"ok"}
    assert [line["row"] for line in lines] == list(range(2, len(rows) + 2))  # one line per row, header is line 1
