"""SIGTERM (a container stop) and Ctrl-C stop an export cleanly; running it again resumes.

Both save a final checkpoint that covers exactly the bytes on disk; SIGTERM
exits 143, Ctrl-C 130. The same command then finishes the export, and the
output holds every record of the sandbox mall exactly once.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from cafe24_async.cli import SANDBOX_ORDERS, SANDBOX_PRODUCTS
from cafe24_async.export.checkpoint import checkpoint_path
from cafe24_async.sandbox import SandboxConfig
from cafe24_async.sandbox.dataset import Dataset


def saved(out: Path) -> dict[str, Any] | None:
    try:
        data: dict[str, Any] = json.loads(checkpoint_path(str(out)).read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return None  # not written yet
    return data


async def stop_midway(argv: list[str], out: Path, sig: signal.Signals, after: int) -> tuple[int, str]:
    """Start the export, wait until a checkpoint covers more than `after` records, send `sig`."""
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        for _ in range(6000):
            state = saved(out)
            if (state is not None and state["records"] > after) or proc.poll() is not None:
                break
            await asyncio.sleep(0.01)
        assert proc.poll() is None, "the export ended before it could be stopped"
        proc.send_signal(sig)
        _, stderr = await asyncio.to_thread(proc.communicate, timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return proc.returncode, stderr


def covers_the_output(out: Path) -> int:
    """The checkpoint's size and sha256 are those of the output; returns its record count."""
    state = saved(out)
    assert state is not None
    data = out.read_bytes()
    assert state["size"] == len(data) and state["sha256"] == hashlib.sha256(data).hexdigest()
    assert state["records"] == data.count(b"\n")
    records: int = state["records"]
    return records


async def test_sigterm_then_ctrl_c_then_done_writes_every_record_once(tmp_path: Path) -> None:
    out = tmp_path / "products.jsonl"
    argv = [sys.executable, "-m", "cafe24_async", "export", "products", "--sandbox", "--out", str(out), "--quiet"]
    slow = [*argv, "--max-per-second", "4"]  # about 8 s for the 31 requests: time to stop it midway

    code, stderr = await stop_midway(slow, out, signal.SIGTERM, after=0)
    assert code == 143, stderr
    assert "Traceback" not in stderr and "again to resume" in stderr
    first = covers_the_output(out)
    assert 0 < first < SANDBOX_PRODUCTS

    code, stderr = await stop_midway(slow, out, signal.SIGINT, after=first)
    assert code == 130, stderr
    assert "Traceback" not in stderr and "again to resume" in stderr
    second = covers_the_output(out)
    assert first < second < SANDBOX_PRODUCTS

    done = await asyncio.to_thread(subprocess.run, argv, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert saved(out) is None
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert all(row.pop("mall_id") == "sandbox" for row in rows)
    config = SandboxConfig(malls=("sandbox",), products=SANDBOX_PRODUCTS, orders=SANDBOX_ORDERS)
    products = Dataset(config, "sandbox").products
    expected = [json.loads(products.encoded(record)) for record in products.records]
    assert sorted(rows, key=lambda row: row["product_no"]) == expected  # every record, exactly once
