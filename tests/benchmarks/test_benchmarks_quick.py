"""The benchmarks, at tiny sizes, so that they keep working.

These check that every benchmark runs end to end (servers in their own
processes, the export command, the RESULTS.md table) and returns rows of the
common shape. They assert nothing about speed: the figures are for
`python -m benchmarks`, whose real runs are not tests.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from benchmarks import __main__ as suite

KEYS = {"name", "figure", "target", "met", "note"}


@pytest.mark.parametrize("name", ["ratelimit", "economy", "overhead", "malls", "memory"])
def test_benchmark_runs_quick(name: str) -> None:
    module = importlib.import_module(f"benchmarks.bench_{name}")
    rows = module.run(quick=True)
    assert rows
    for row in rows:
        assert set(row) >= KEYS, row
        assert row["met"] in (True, False, None)
        assert str(row["name"]).strip() and str(row["figure"]).strip()


def test_models_benchmark_runs_quick() -> None:
    rows = suite.BENCHMARKS["models"](True)
    assert rows and set(rows[0]) >= KEYS


def test_results_table_and_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rows = [
        suite.row("1. a figure", "0.99", ">= 0.97", True, "detail"),
        suite.row("2. a miss", "1 | 2", "<= 1", False, "detail", limit="what limits it"),
        suite.row("3. comparison", "5", "-", None, ""),
    ]
    text = suite.table(rows, markdown=True)
    assert "| 2. a miss | 1 \\| 2 | <= 1 | **no** |" in text
    monkeypatch.setattr(suite, "RESULTS", tmp_path / "RESULTS.md")
    suite.write_results(rows, "python -m benchmarks", 1.0)
    written = (tmp_path / "RESULTS.md").read_text(encoding="utf-8")
    assert "python -m benchmarks" in written and "Python" in written and "Machine" in written
    assert "what limits it" in written
