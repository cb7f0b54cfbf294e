"""Two exports to the same file: the second is refused at once, naming the first's PID.

The first run holds an exclusive lock beside the output (`FILE.lock`) for its
whole run; the second exits with code 4 without touching the output or the
checkpoint, and the first still writes every record exactly once.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

from cafe24_async import FileTokenStore, Token
from cafe24_async.export.checkpoint import checkpoint_path
from cafe24_async.export.lock import lock_path
from tests.conftest import SandboxFactory


async def test_a_second_export_to_the_same_file_is_refused(make_sandbox: SandboxFactory, tmp_path: Path) -> None:
    sb = await make_sandbox(malls=("acme",), products=2000)
    tokens = tmp_path / "tokens.json"
    await FileTokenStore(tokens).save("acme", Token.from_response(sb.issue_token("acme")))
    out = tmp_path / "products.jsonl"
    argv = [sys.executable, "-m", "cafe24_async", "export", "products", "--mall", "acme", "--out", str(out),
            "--fields", "product_no", "--base-url", sb.base_url, "--token-file", str(tokens),
            "--client-id", sb.config.client_id, "--max-per-second", "3", "--quiet"]
    env = {**os.environ, "CAFE24_CLIENT_SECRET": sb.config.client_secret}
    first = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        ck = checkpoint_path(str(out))
        for _ in range(3000):  # until the first run is under way: its first checkpoint is saved
            if ck.exists() or first.poll() is not None:
                break
            await asyncio.sleep(0.01)
        assert first.poll() is None, "the first export ended before the second could start"
        second = await asyncio.to_thread(
            subprocess.run, argv, env=env, capture_output=True, text=True, timeout=120
        )
        assert second.returncode == 4, second.stderr
        assert f"PID {first.pid}" in second.stderr and "Traceback" not in second.stderr
        if first.poll() is None:  # the refused run left the lock file of the first alone
            assert lock_path(str(out)).read_text(encoding="utf-8").strip() == str(first.pid)
        _, stderr = await asyncio.to_thread(first.communicate, timeout=120)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    assert first.returncode == 0, stderr
    numbers = [json.loads(line)["product_no"] for line in out.read_text(encoding="utf-8").splitlines()]
    assert sorted(numbers) == list(range(1, 2001))  # every record exactly once
    assert not lock_path(str(out)).exists() and not ck.exists()  # a finished run leaves neither
