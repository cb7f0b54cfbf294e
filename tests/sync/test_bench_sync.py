"""The sync benchmark at tiny sizes, so that it keeps working (its figures are for
`python -m benchmarks.bench_sync`; here only that it runs and meets its own target)."""

from __future__ import annotations

from benchmarks import bench_sync


def test_bench_sync_runs_quick() -> None:
    rows = bench_sync.run(quick=True)
    assert [r["met"] for r in rows] == [True, True], rows
    products, orders = rows
    assert products["pages"] <= products["floor"] * 1.1 + 1 and products["counts"] <= 2
    assert orders["pages"] == orders["floor"] and orders["counts"] == 7
