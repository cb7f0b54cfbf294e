"""The command line's escape hatch and live-API settings, through the real CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cafe24_async", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=120)


def test_a_typo_is_refused_and_extra_sends_it(tmp_path: Path) -> None:
    typo = cli("export", "products", "--sandbox", "--quiet", "--param", "quantity_min=1",
               "--out", str(tmp_path / "a.jsonl"), cwd=tmp_path)
    assert typo.returncode == 2 and "did you mean stock_quantity_min" in typo.stderr
    assert not (tmp_path / "a.jsonl").exists()
    ok = cli("export", "products", "--sandbox", "--quiet", "--extra", "quantity_min=1",
             "--max-per-second", "0", "--leak-rate", "1000", "--out", str(tmp_path / "b.jsonl"), cwd=tmp_path)
    assert ok.returncode == 0, ok.stderr
    lines = (tmp_path / "b.jsonl").read_text().splitlines()
    assert len(lines) == 3000 and json.loads(lines[0])["mall_id"] == "sandbox"


def test_settings_are_checked_before_anything(tmp_path: Path) -> None:
    bad = cli("call", "GET", "/api/v2/admin/products", "--mall", "acme", "--client-id", "x",
              "--api-version", "June", "--token-file", str(tmp_path / "t.json"), cwd=tmp_path)
    assert bad.returncode == 2 and "api_version" in bad.stderr
    help_text = cli("call", "--help", cwd=tmp_path).stdout
    assert "--extra" in help_text and "--front-api-key" in help_text and "--api-version" in help_text
