"""The planner, partitions as task arguments, results added up, and worker settings.

Nothing here runs a worker: these are the checks made before a task is sent,
and the arithmetic done after.
"""

from __future__ import annotations

from datetime import date, datetime

import pytest

from cafe24_async.celery import (
    Partition,
    PartitionResult,
    RunSummary,
    WorkerSettings,
    plan,
    plan_sync,
    summarize,
)
from cafe24_async.celery.partition import check_run
from cafe24_async.errors import ConfigurationError, ValidationError
from cafe24_async.export import ExportError


def test_partitions_come_resource_by_resource_then_mall_then_window() -> None:
    parts = plan(["acme", "beta"], ["products", "orders"], "2025-01-01", date(2025, 12, 31), window_days=200)
    assert [p.key for p in parts] == [
        "products/acme/2025-01-01_2025-07-19", "products/acme/2025-07-20_2025-12-31",
        "products/beta/2025-01-01_2025-07-19", "products/beta/2025-07-20_2025-12-31",
        "orders/acme/2025-01-01_2025-07-19", "orders/acme/2025-07-20_2025-12-31",
        "orders/beta/2025-01-01_2025-07-19", "orders/beta/2025-07-20_2025-12-31",
    ]
    assert parts[0].spec().params == {"created_start_date": "2025-01-01", "created_end_date": "2025-07-19"}
    assert parts[4].spec().params == {"start_date": "2025-01-01", "end_date": "2025-07-19"}
    assert str(parts[5].relpath("nightly")) == "nightly/orders/acme/2025-07-20_2025-12-31.jsonl"


def test_one_window_without_window_days_and_none_for_a_resource_without_dates() -> None:
    parts = plan(["acme"], ["orders", "reviews"], "2025-01-01", "2025-12-31")
    assert [p.key for p in parts] == ["orders/acme/2025-01-01_2025-12-31", "reviews/acme/all"]
    assert plan(["acme"], ["products"])[0].key == "products/acme/all"


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"resources": ["orders"]}, ExportError, "orders needs a date range"),
        ({"resources": ["prodcts"]}, ExportError, "unknown resource 'prodcts'"),
        ({"params": {"products": {"limt": 10}}}, ValidationError, "did you mean limit"),
        ({"params": {"products": {"limit": 500}}}, ValidationError, "limit: must be at most 100"),
        ({"params": {"products": {"created_start_date": "2025-01-01"}}}, ExportError, "come from since and until"),
        ({"params": {"orders": {}}}, ExportError, "params given for resources not planned: orders"),
        ({"malls": ["acme", "acme"]}, ExportError, "'acme' is given more than once"),
        ({"malls": ["Acme!"]}, ExportError, "invalid mall id 'Acme!'"),
        ({"malls": "acme"}, ExportError, "must be a list of names"),
        ({"since": "2025-02-01", "until": "2025-01-01"}, ExportError, "is after until"),
        ({"since": "2025-02-01"}, ExportError, "both since and until"),
        ({"since": datetime(2025, 1, 1), "until": "2025-02-01"}, ValidationError, "since: must be a date"),
        ({"since": "2025-1-1", "until": "2025-02-01"}, ValidationError, "since: must be a date"),
        ({"since": "2025-01-01", "until": "2025-02-01", "window_days": 0}, ValidationError, "window_days"),
        ({"format": "xml"}, ExportError, "unknown format 'xml'"),
    ],
)
def test_plan_refuses_what_an_export_would_refuse(kwargs: dict[str, object], error: type[Exception],
                                                   match: str) -> None:
    args: dict[str, object] = {"malls": ["acme"], "resources": ["products"], **kwargs}
    with pytest.raises(error, match=match):
        plan(**args)  # type: ignore[arg-type]


def test_a_partition_travels_as_plain_names_and_dates() -> None:
    (part,) = plan(["acme"], ["orders"], "2025-01-01", "2025-03-31", params={"orders": {"embed": ["items"]}})
    data = part.to_dict()
    assert data == {"mall_id": "acme", "resource": "orders", "since": "2025-01-01", "until": "2025-03-31",
                    "params": {"embed": ["items"]}, "format": "jsonl", "mode": "export"}
    assert Partition.from_dict(data) == part
    for bad in ({"mall_id": "acme"}, {**data, "token": "x"}, {**data, "since": 20250101},
                {**data, "until": None}, {**data, "mall_id": "../etc"}, {**data, "mode": "mirror"}, "acme"):
        with pytest.raises(ExportError):
            Partition.from_dict(bad)


@pytest.mark.parametrize("run", ["../up", "a/b", ".hidden", "-x", "", "x" * 101, 7])
def test_a_run_name_must_be_a_plain_folder_name(run: object) -> None:
    with pytest.raises(ExportError, match="invalid run name"):
        check_run(run)


def _result(mall_id: str, key: str, **changes: object) -> PartitionResult:
    fields: dict[str, object] = {
        "run": "r", "key": key, "mall_id": mall_id, "resource": "products", "since": None, "until": None,
        "status": "done", "records": 10, "records_this_run": 10, "requests": 3, "throttled": 0,
        "seconds": 2.0, "started_at": 100.0, "finished_at": 102.0, "resumed": False, "output": "o",
        "worker": "w", "pid": 1, **changes,
    }
    return PartitionResult(**fields)  # type: ignore[arg-type]


def test_results_add_up_per_mall() -> None:
    results = [
        _result("acme", "products/acme/a"),
        _result("acme", "products/acme/b", records=5, requests=2, throttled=1, started_at=101.0,
                finished_at=105.0).to_dict(),
        _result("beta", "products/beta/a", status="failed", records=0, error="ServerError: 500"),
    ]
    summary = summarize(results)
    acme, beta = summary.malls["acme"], summary.malls["beta"]
    assert (acme.partitions, acme.done, acme.records, acme.requests, acme.throttled) == (2, 2, 15, 5, 1)
    assert acme.seconds == 4.0 and acme.wall_seconds == 5.0
    assert (beta.failed, beta.records) == (1, 0)
    assert summary.failures == {"products/beta/a": "ServerError: 500"} and not summary.ok
    again = RunSummary.from_dict(summary.to_dict())
    assert again.malls["acme"].to_dict() == acme.to_dict() and again.failures == summary.failures
    assert RunSummary.from_dict(summary.to_dict(results=True)).results == summary.results
    assert summary.summary().startswith("15 records from 2 malls, 2 partitions done, 8 requests, 1 throttled, 1 failed: products/beta/a")


ENV = {
    "CAFE24_CLIENT_ID": "app", "CAFE24_CLIENT_SECRET": "s3cret-value", "CAFE24_REDIS_URL": "redis://:pw-123@r:6379/0",
    "CAFE24_EXPORT_DIR": "/shared/exports",
}


def test_worker_settings_from_the_environment_hide_their_secrets() -> None:
    settings = WorkerSettings.from_env({**ENV, "CAFE24_MAX_PER_SECOND": "0", "CAFE24_LEAK_RATE": "2.5",
                                        "CAFE24_WORKER_LOOP": "per-task"})
    assert settings.max_per_second is None and settings.leak_rate == 2.5 and settings.loop == "per-task"
    assert settings.client_kwargs() == {"max_per_second": None, "leak_rate": 2.5}
    text = repr(settings)
    assert "s3cret-value" not in text and "pw-123" not in text and "redis://:***@r:6379/0" in text
    assert "max_per_second" not in WorkerSettings.from_env(ENV).client_kwargs()  # the client's default


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"CAFE24_REDIS_URL": ""}, "needs CAFE24_REDIS_URL"),
        ({"CAFE24_CLIENT_SECRET": ""}, "needs CAFE24_CLIENT_SECRET"),
        ({"CAFE24_LEAK_RATE": "fast"}, "CAFE24_LEAK_RATE must be a number"),
        ({"CAFE24_BUCKET_CAPACITY": "-1"}, "must not be negative"),
        ({"CAFE24_WORKER_LOOP": "threads"}, "loop must be one of shared, per-task"),
    ],
)
def test_bad_worker_settings_are_named(change: dict[str, str], match: str) -> None:
    with pytest.raises(ConfigurationError, match=match):
        WorkerSettings.from_env({**ENV, **change})


def test_sync_partitions_are_one_per_resource_and_mall_without_windows() -> None:
    parts = plan_sync(["acme", "beta"], ["products", "orders"], "2025-01-01", params={"orders": {"embed": ["items"]}})
    assert [p.key for p in parts] == ["products/acme/changes", "products/beta/changes",
                                      "orders/acme/changes", "orders/beta/changes"]
    assert parts[2].to_dict() == {"mall_id": "acme", "resource": "orders", "since": "2025-01-01", "until": None,
                                  "params": {"embed": ["items"]}, "format": "jsonl", "mode": "sync"}
    assert Partition.from_dict(parts[2].to_dict()) == parts[2]
    with pytest.raises(ExportError, match="categories cannot be synced"):
        plan_sync(["acme"], ["categories"])
    with pytest.raises(ValidationError, match="did you mean limit"):
        plan_sync(["acme"], ["products"], params={"products": {"limt": 5}})
    with pytest.raises(ExportError, match="is a sync, not an export"):
        parts[0].spec()
