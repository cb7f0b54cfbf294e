"""`cafe24-async export` refuses bad input with exit 2 before it creates a file or sends a request.

A refused command leaves no output and no checkpoint behind, so the corrected
command runs as a fresh export instead of being refused as "a different export".
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
from cafe24_async.sandbox import Sandbox
from tests.conftest import SandboxFactory


async def exporter(sb: Sandbox, tmp_path: Path) -> tuple[list[str], dict[str, str]]:
    """The start of an export command against `sb`, and its environment."""
    tokens = tmp_path / "tokens.json"
    await FileTokenStore(tokens).save("acme", Token.from_response(sb.issue_token("acme")))
    argv = [sys.executable, "-m", "cafe24_async", "export", "--base-url", sb.base_url, "--token-file", str(tokens),
            "--client-id", sb.config.client_id, "--max-per-second", "0", "--quiet"]
    return argv, {**os.environ, "CAFE24_CLIENT_SECRET": sb.config.client_secret}


def run(argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120)


BAD = {
    "unknown param": (["products", "--mall", "acme", "--param", "bogus=1"], "bogus"),
    "page size 0": (["products", "--mall", "acme", "--param", "limit=0"], "limit: must be at least 1"),
    "page size over the maximum": (["products", "--mall", "acme", "--param", "limit=500"],
                                   "limit: must be at most 100"),
    "not a number": (["products", "--mall", "acme", "--param", "since_product_no=abc"], "since_product_no"),
    "concurrency 0": (["products", "--mall", "acme", "--concurrency", "0"], "concurrency"),
    "dates out of order": (["orders", "--mall", "acme", "--since", "2026-02-01", "--until", "2026-01-01"],
                           "end_date"),
    "orders without a date range": (["orders", "--mall", "acme"], "--since"),
    "a mall twice": (["products", "--mall", "acme", "--mall", "acme"], "acme"),
}


async def test_bad_input_exits_2_and_leaves_nothing(make_sandbox: SandboxFactory, tmp_path: Path) -> None:
    sb = await make_sandbox(malls=("acme",), products=300, orders=300)
    start, env = await exporter(sb, tmp_path)

    async def refused(case: str) -> None:
        args, named = BAD[case]
        folder = tmp_path / case.replace(" ", "-")
        result = await asyncio.to_thread(run, [*start, *args, "--out", str(folder / "out.jsonl")], env)
        assert result.returncode == 2, (case, result.stderr)
        assert named in result.stderr and "Traceback" not in result.stderr, (case, result.stderr)
        assert not folder.exists(), case  # no output, checkpoint or lock file

    await asyncio.gather(*(refused(case) for case in BAD))
    assert len(sb.requests) == 0


async def test_the_corrected_command_runs_after_a_bad_param(make_sandbox: SandboxFactory, tmp_path: Path) -> None:
    sb = await make_sandbox(malls=("acme",), products=300)
    start, env = await exporter(sb, tmp_path)
    out = tmp_path / "products.jsonl"
    command = [*start, "products", "--mall", "acme", "--fields", "product_no", "--out", str(out)]
    bad = await asyncio.to_thread(run, [*command, "--param", "sellng=T"], env)
    assert bad.returncode == 2 and "sellng" in bad.stderr
    assert not out.exists() and not checkpoint_path(str(out)).exists()
    good = await asyncio.to_thread(run, [*command, "--param", "since_product_no=250"], env)
    assert good.returncode == 0, good.stderr
    numbers = [json.loads(line)["product_no"] for line in out.read_text(encoding="utf-8").splitlines()]
    assert numbers == list(range(251, 301))
