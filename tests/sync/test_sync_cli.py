"""`cafe24-async sync` in a process of its own against the sandbox: runs, exit codes, and
what SIGTERM and kill -9 leave behind (never a cursor past what the output holds)."""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import subprocess
import sys
from pathlib import Path

from cafe24_async.sync import SyncState
from tests.conftest import ClientFactory, SandboxFactory
from tests.sync.helpers import cli, cli_env, lines, token_file


async def test_daily_runs_from_the_command_line(
    make_sandbox: SandboxFactory, make_client: ClientFactory, tmp_path: Path
) -> None:
    sandbox = await make_sandbox(malls=("acme", "beta"), products=150)
    env = cli_env(sandbox, await token_file(sandbox, tmp_path / "tokens.json", "acme", "beta"))
    state, day1, day2 = str(tmp_path / "state.json"), tmp_path / "day1.jsonl", tmp_path / "day2.csv"
    args = ("sync", "products", "--mall", "acme", "--mall", "beta", "--state", state)
    first = await asyncio.to_thread(cli, env, *args, "--out", str(day1))
    assert first.returncode == 0, first.stderr
    assert "300 records from 2 malls" in first.stderr and "first run (everything) for acme, beta" in first.stderr
    assert len(lines(day1)) == 300
    again = await asyncio.to_thread(cli, env, *args, "--out", str(day1))
    assert again.returncode == 4 and "day1.jsonl exists" in again.stderr
    api = await make_client(sandbox)
    for product_no in (1, 2):
        await api.mall("beta").admin.products.update(product_no, request={"price": 9900})
    second = await asyncio.to_thread(cli, env, *args, "--out", str(day2), "--lookback", "10m", "--fields", "price")
    assert second.returncode == 0, second.stderr
    assert "2 records from 2 malls" in second.stderr and "changes since" in second.stderr
    header, *rows = day2.read_text(encoding="utf-8").splitlines()
    assert header == "mall_id,product_no,price,updated_date,_extra"  # the key and the cursor field come along
    assert sorted(rows)[0].startswith("beta,1,9900.00,") and len(rows) == 2
    cursors = SyncState.load(Path(state)).cursors
    assert set(cursors) == {"acme", "beta"}


async def test_exit_codes_for_a_damaged_state_and_a_busy_one(make_sandbox: SandboxFactory, tmp_path: Path) -> None:
    sandbox = await make_sandbox(products=10)
    env = cli_env(sandbox, await token_file(sandbox, tmp_path / "tokens.json", "sandbox"))
    state = tmp_path / "state.json"
    state.write_text("[]", encoding="utf-8")
    args = ("sync", "products", "--mall", "sandbox", "--state", str(state), "--out", str(tmp_path / "o.jsonl"))
    damaged = await asyncio.to_thread(cli, env, *args)
    assert damaged.returncode == 2 and "is damaged (not a cafe24-async sync state file)" in damaged.stderr
    assert "Traceback" not in damaged.stderr
    state.unlink()
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, pathlib; from cafe24_async.sync.state import run_lock\n"
         f"with run_lock(pathlib.Path({str(state)!r}), 'products'):\n    print('held', flush=True); sys.stdin.read()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        busy = await asyncio.to_thread(cli, env, *args)
        assert busy.returncode == 4 and f"(PID {holder.pid}," in busy.stderr
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=30)
    orders = await asyncio.to_thread(cli, env, "sync", "orders", "--mall", "sandbox", "--state", str(state),
                                     "--out", str(tmp_path / "x.jsonl"))
    assert orders.returncode == 2 and "pass since (--since YYYY-MM-DD)" in orders.stderr
    coupons = await asyncio.to_thread(cli, env, "sync", "coupons", "--mall", "sandbox", "--state", str(state),
                                      "--out", str(tmp_path / "x.jsonl"))
    assert coupons.returncode == 2 and "cannot tell which records changed" in coupons.stderr


def _slow_sync(env: dict[str, str], state: Path, out: Path) -> subprocess.Popen[str]:
    argv = [sys.executable, "-m", "cafe24_async", "sync", "products", "--mall", "sandbox", "--state", str(state),
            "--out", str(out), "--max-per-second", "6", "--quiet"]
    return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)


def _has_bytes(path: Path) -> bool:
    return path.exists() and path.stat().st_size > 0


async def _wait_for_bytes(path: Path, proc: subprocess.Popen[str]) -> None:
    for _ in range(3000):
        if _has_bytes(path) or proc.poll() is not None:
            return
        await asyncio.sleep(0.01)


async def test_sigterm_moves_no_cursor_and_the_next_run_reads_the_same_period(
    make_sandbox: SandboxFactory, tmp_path: Path
) -> None:
    sandbox = await make_sandbox(products=1500)
    env = cli_env(sandbox, await token_file(sandbox, tmp_path / "tokens.json", "sandbox"))
    state, out = tmp_path / "state.json", tmp_path / "products.jsonl"
    proc = _slow_sync(env, state, out)
    try:
        await _wait_for_bytes(Path(str(out) + ".partial"), proc)
        assert proc.poll() is None, "the sync ended before it could be stopped"
        proc.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.to_thread(proc.communicate, timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 143, stderr
    assert "Traceback" not in stderr
    assert not state.exists() and not out.exists()  # no cursor, and no half output under its name
    done = await asyncio.to_thread(cli, env, "sync", "products", "--mall", "sandbox", "--state", str(state),
                                   "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert sorted(r["product_no"] for r in lines(out)) == list(range(1, 1501))


async def test_kill_9_at_any_moment_never_leaves_a_cursor_past_its_output(
    make_sandbox: SandboxFactory, tmp_path: Path
) -> None:
    """Killed at random moments (before, during, after writing): the state file is always
    whole, and whenever it holds a cursor, the output of the run that set it is complete."""
    sandbox = await make_sandbox(products=800)
    env = cli_env(sandbox, await token_file(sandbox, tmp_path / "tokens.json", "sandbox"))
    rng = random.Random(7)
    for attempt in range(4):
        state, out = tmp_path / f"state{attempt}.json", tmp_path / f"out{attempt}.jsonl"
        proc = _slow_sync(env, state, out)
        await asyncio.sleep(rng.uniform(0.3, 2.5))
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
        await asyncio.to_thread(proc.wait, 60)
        if state.exists():
            saved = SyncState.load(state)  # whole, never half a file
            assert saved.cursor("sandbox", "products") is not None
            assert len(lines(out)) == 800
        else:
            assert not out.exists() or len(lines(out)) == 800
        rerun = await asyncio.to_thread(cli, env, "sync", "products", "--mall", "sandbox", "--state", str(state),
                                        "--out", str(out), "--replace")
        assert rerun.returncode == 0, rerun.stderr
        assert json.loads(state.read_text(encoding="utf-8"))["cursors"]["sandbox"]["products"]["read_until"]
