"""The Celery benchmark, at a tiny size, so that it keeps working (its figures are not tested)."""

from __future__ import annotations

from benchmarks.bench_celery import run_once


def test_the_celery_benchmark_runs() -> None:
    result = run_once(2, 1, "shared", quick=True)
    assert result["partitions"] == 4 and result["failed"] == 0 and result["throttled_429"] == 0
    assert result["requests"] > 0 and result["cpu_ms_per_request"] > 0 and result["bound_seconds"] > 0
    assert result["malls_per_hour"] > 0 and 0 <= result["start_delay"] < result["seconds"]
