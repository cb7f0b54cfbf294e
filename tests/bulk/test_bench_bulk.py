"""The bulk-write benchmark, at tiny sizes, so that it keeps working (its figures are for
`python -m benchmarks.bench_bulk`, not for tests)."""

from __future__ import annotations

from benchmarks import bench_bulk

KEYS = {"name", "figure", "target", "met", "note"}


def test_bulk_benchmark_runs_quick() -> None:
    rows = bench_bulk.run(quick=True)
    assert len(rows) == 2
    for row in rows:
        assert set(row) >= KEYS and row["met"] in (True, False, None)
        assert row["ok"] == row["rows"]  # every row written
    assert rows[0]["highest_usage"] is not None and rows[0]["highest_usage"] < 75.0  # the quota reported, headroom kept
