"""The Celery app without workers: its settings, a task's answer to bad input, the
producer's errors, and a library that works without Celery installed."""

from __future__ import annotations

import gc
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator

import pytest

from benchmarks.bench_redis import free_port, redis_server
from cafe24_async.celery import (
    BrokerUnavailableError,
    RunTimeoutError,
    WorkerSettings,
    collect,
    enqueue,
    make_app,
    plan,
)
from cafe24_async.celery.tasks import EXPORT_TASK
from cafe24_async.errors import ConfigurationError
from tests.celery.sandbox_process import ROOT

SETTINGS = WorkerSettings(client_id="app", client_secret="s3cret-value", redis_url="redis://127.0.0.1:1/0",
                          export_dir="/nonexistent")


@pytest.fixture
def broker() -> Iterator[str]:
    with redis_server() as url:
        yield url
        gc.collect()  # results the test held unsubscribe now, while Redis is there to answer


def test_the_app_acknowledges_late_and_hands_back_tasks_of_a_lost_worker(broker: str) -> None:
    app = make_app(broker, visibility_timeout=900)
    conf = app.conf
    assert conf.task_acks_late and conf.task_reject_on_worker_lost and conf.worker_prefetch_multiplier == 1
    assert conf.broker_transport_options["visibility_timeout"] == 900
    assert conf.broker_transport_options["unacked_restore_interval"] == 60
    assert conf.accept_content == ["json"] and conf.worker_pool == "threads"
    assert app.tasks[EXPORT_TASK].acks_late and app.tasks[EXPORT_TASK].reject_on_worker_lost
    assert app.conf.result_backend == broker


def test_no_broker_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CELERY_BROKER_URL", "CAFE24_REDIS_URL"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ConfigurationError, match="no Celery broker"):
        make_app()


@pytest.mark.parametrize(
    ("run", "partition", "error"),
    [
        ("r", {"mall_id": "acme"}, "ExportError: not a partition"),
        ("r", {"mall_id": "acme", "resource": "prodcts"}, "unknown resource 'prodcts'"),
        ("../r", {"mall_id": "acme", "resource": "products"}, "invalid run name"),
    ],
)
def test_a_task_answers_bad_input_as_a_failed_result(broker: str, run: str, partition: dict[str, str],
                                                     error: str) -> None:
    app = make_app(broker, settings=SETTINGS)
    answer = app.tasks[EXPORT_TASK].apply(args=(run, partition)).get()
    assert answer["status"] == "failed" and error in answer["error"] and not answer["retryable"]
    assert "s3cret-value" not in repr(answer)


def test_an_unreachable_broker_is_a_library_error() -> None:
    app = make_app(f"redis://127.0.0.1:{free_port()}/0", settings=SETTINGS)
    started = time.monotonic()
    with pytest.raises(BrokerUnavailableError, match=r"the Celery broker is unreachable \(connecting to the broker\)"):
        enqueue(app, "r", plan(["acme"], ["products"]))
    assert time.monotonic() - started < 30


def test_collect_gives_up_after_its_timeout(broker: str) -> None:
    app = make_app(broker, settings=SETTINGS)
    outcome = enqueue(app, "r", plan(["acme", "beta"], ["products"]))  # no worker takes them
    with pytest.raises(RunTimeoutError, match=r"0 of 2 partitions finished within 0\.5s"):
        collect(outcome, timeout=0.5)
    chord = enqueue(app, "r", plan(["acme"], ["products"]), chord=True)
    with pytest.raises(RunTimeoutError, match="0 of 1 partitions finished"):
        collect(chord, timeout=0.5)


def test_the_library_and_the_planner_work_without_celery() -> None:
    script = textwrap.dedent("""
        import sys
        sys.modules["celery"] = None  # as if the extra were not installed
        import cafe24_async, cafe24_async.cli, cafe24_async.celery as c
        parts = c.plan(["acme"], ["products"])
        try:
            c.make_app("redis://127.0.0.1:1/0")
        except c.CeleryMissingError as exc:
            print(len(parts), exc)
    """)
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == (
        "1 running partitions on Celery needs Celery: install the extra: pip install 'cafe24-async[celery]'"
    ), done.stderr
