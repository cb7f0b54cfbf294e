"""The Celery side: the app's settings, the tasks, enqueueing a plan and collecting it.

Tasks (names are stable, so workers and producers of different releases agree):

- `cafe24_async.export_partition(run, partition)`: one partition (see
  `celery.runner`), answering its `PartitionResult` as a dict;
- `cafe24_async.sync_partition(run, partition)`: the same for a sync partition
  (`plan_sync`), on a task name of its own so it can be routed apart;
- `cafe24_async.summarize(results)`: a chord's callback, the results added up
  per mall (`RunSummary`).

The settings that make a killed worker's partitions run elsewhere, exactly once:

- `task_acks_late`: a message is acknowledged when its task has finished, not
  when it is taken, so a task whose worker dies is still owned by the broker;
- `task_reject_on_worker_lost`: with the prefork pool, a task whose child
  process died (kill -9, out of memory) goes back on the queue at once;
- the broker's `visibility_timeout` (Redis): a message taken and not
  acknowledged within it is given to another worker. That is how the tasks of
  a worker killed whole (or of a lost machine) come back. It must be longer
  than any partition runs, or a running partition is delivered twice (the
  second delivery then waits on the partition lock and answers the same
  result); size partitions with `plan(window_days=...)`;
- `unacked_restore_interval`: how often a worker looks for such messages
  (a tenth of the visibility timeout, 1 s to 60 s);
- `worker_prefetch_multiplier=1`: a worker takes no more messages than it has
  threads, so a killed worker strands no queue of untouched partitions;
- JSON only, for arguments and results (no pickles from the broker).

Failures: a partition whose failure the network, Redis or the server caused
is tried again later (`WorkerSettings.max_retries`, with a growing delay);
other failures answer a "failed" result, so a group or chord always ends and
the summary names them. Celery's and kombu's exceptions never reach a caller:
`enqueue` and `collect` raise `BrokerUnavailableError`, `RunTimeoutError`.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Callable, Sequence
from typing import Any

import celery
import celery.exceptions
import celery.result
import kombu.exceptions
from celery import signals

from cafe24_async.celery.errors import BrokerUnavailableError, PartitionBusyError, RunTimeoutError
from cafe24_async.celery.partition import Partition, check_run
from cafe24_async.celery.result import FAILED, PartitionResult, RunSummary, summarize
from cafe24_async.celery.settings import WorkerSettings
from cafe24_async.celery.worker import close_process_loop, forget_after_fork, run_in_process
from cafe24_async.errors import Cafe24ConnectionError, Cafe24Error, ConfigurationError
from cafe24_async.redis_support import redis_errors

__all__ = [
    "EXPORT_TASK", "SUMMARIZE_TASK", "SYNC_TASK", "check_broker", "collect", "configure", "enqueue",
    "make_app", "register",
]

EXPORT_TASK = "cafe24_async.export_partition"
SYNC_TASK = "cafe24_async.sync_partition"
SUMMARIZE_TASK = "cafe24_async.summarize"

#: Default broker visibility timeout: longer than a partition should ever run.
VISIBILITY_TIMEOUT = 7200.0
#: Default pool threads per worker process: partitions in flight on its one loop.
CONCURRENCY = 32
#: Longest wait before another attempt of a failed partition.
MAX_RETRY_DELAY = 600.0

SettingsSource = WorkerSettings | Callable[[], WorkerSettings] | None


def make_app(
    broker: str | None = None,
    backend: str | None = None,
    *,
    settings: SettingsSource = None,
    visibility_timeout: float = VISIBILITY_TIMEOUT,
    concurrency: int = CONCURRENCY,
    name: str = "cafe24_async",
) -> celery.Celery:
    """A Celery app with the tasks registered and the settings of `configure`.

    `broker` and `backend` default to `CELERY_BROKER_URL` and
    `CELERY_RESULT_BACKEND`, then to `CAFE24_REDIS_URL`. `settings` are the
    workers' (default: read from their environment on their first task).
    """
    broker = broker or os.environ.get("CELERY_BROKER_URL") or os.environ.get("CAFE24_REDIS_URL")
    if not broker:
        raise ConfigurationError(
            "no Celery broker: pass broker=, or set CELERY_BROKER_URL or CAFE24_REDIS_URL"
        )
    backend = backend or os.environ.get("CELERY_RESULT_BACKEND") or broker
    # Not made the process's current app: a library's app must not replace (or outlive, through
    # Celery's thread-local reference) an application's own. The worker command makes it current.
    app = celery.Celery(name, broker=broker, backend=backend, set_as_current=False)
    configure(app, visibility_timeout=visibility_timeout, concurrency=concurrency)
    register(app, settings)
    return app


def configure(
    app: celery.Celery, *, visibility_timeout: float = VISIBILITY_TIMEOUT, concurrency: int = CONCURRENCY,
) -> None:
    """Apply the settings the module docstring explains to an existing app."""
    if visibility_timeout <= 0 or concurrency < 1:
        raise ConfigurationError("visibility_timeout must be > 0 and concurrency at least 1")
    transport = dict(app.conf.broker_transport_options or {})
    transport.update(
        visibility_timeout=visibility_timeout,
        unacked_restore_interval=max(1, min(60, int(visibility_timeout // 10))),
        unacked_restore_throttle=1,
    )
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        broker_transport_options=transport,
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        worker_pool="threads",
        worker_concurrency=concurrency,
        task_track_started=True,
        broker_connection_retry_on_startup=True,
    )


def register(app: celery.Celery, settings: SettingsSource = None) -> None:
    """Register the tasks on `app`; workers take `settings` (or their environment)."""
    resolve = _settings_once(settings)

    def export_partition(task: Any, run: str, partition: dict[str, Any]) -> dict[str, Any]:
        return _export(task, resolve, run, partition)

    def sync_partition(task: Any, run: str, partition: dict[str, Any]) -> dict[str, Any]:
        return _export(task, resolve, run, partition)

    def summarize_results(results: list[Any]) -> dict[str, Any]:
        return summarize(r for r in results if isinstance(r, dict)).to_dict()

    # shared=False: the tasks belong to this app only (another app in the process has its own settings)
    for name, function in ((EXPORT_TASK, export_partition), (SYNC_TASK, sync_partition)):
        app.task(bind=True, name=name, acks_late=True, reject_on_worker_lost=True, max_retries=None,
                 shared=False)(function)
    app.task(name=SUMMARIZE_TASK, shared=False)(summarize_results)
    signals.worker_process_init.connect(_after_fork, weak=False, dispatch_uid="cafe24_async.fork")
    signals.worker_process_shutdown.connect(_shutdown, weak=False, dispatch_uid="cafe24_async.stop")
    signals.worker_shutdown.connect(_shutdown, weak=False, dispatch_uid="cafe24_async.shutdown")


def _settings_once(source: SettingsSource) -> Callable[[], WorkerSettings]:
    """The worker settings, made once per process on first use."""
    lock = threading.Lock()
    made: dict[int, WorkerSettings] = {}

    def resolve() -> WorkerSettings:
        with lock:
            pid = os.getpid()
            if pid not in made:
                if isinstance(source, WorkerSettings):
                    made[pid] = source
                elif source is None:
                    made[pid] = WorkerSettings.from_env()
                else:
                    made[pid] = source()
            return made[pid]

    return resolve


def _export(
    task: Any, resolve: Callable[[], WorkerSettings], run: str, data: dict[str, Any],
) -> dict[str, Any]:
    retries: int = task.request.retries
    try:
        settings = resolve()
        partition = Partition.from_dict(data)
        check_run(run)
        result = run_in_process(settings, run, partition)
    except PartitionBusyError:
        # Another live process runs it (a second delivery): come back when it is done.
        raise task.retry(countdown=resolve().busy_wait) from None
    except Cafe24ConnectionError as exc:  # Redis or the network, before the export began
        if retries < resolve().max_retries:
            raise task.retry(countdown=_delay(resolve(), retries)) from None
        return _failed(run, data, exc).to_dict()
    except Cafe24Error as exc:
        return _failed(run, data, exc).to_dict()
    if not result.ok and result.retryable and retries < settings.max_retries:
        raise task.retry(countdown=_delay(settings, retries))
    return result.to_dict()


def _delay(settings: WorkerSettings, retries: int) -> float:
    return float(min(MAX_RETRY_DELAY, settings.retry_delay * 2**retries))


def _failed(run: str, data: Any, error: BaseException) -> PartitionResult:
    """A failed result for a partition that did not start (perhaps not even a partition)."""
    fields = data if isinstance(data, dict) else {}
    mall_id, resource = str(fields.get("mall_id", "?")), str(fields.get("resource", "?"))
    since, until = fields.get("since"), fields.get("until")
    window = f"{since}_{until}" if since is not None else "all"
    return PartitionResult(
        run=str(run), key=f"{resource}/{mall_id}/{window}", mall_id=mall_id, resource=resource,
        since=since if isinstance(since, str) else None, until=until if isinstance(until, str) else None,
        status=FAILED, records=0, records_this_run=0, requests=0, throttled=0, seconds=0.0,
        started_at=0.0, finished_at=0.0, resumed=False, output="", worker=socket.gethostname(),
        pid=os.getpid(), error=f"{type(error).__name__}: {error}",
        retryable=isinstance(error, Cafe24ConnectionError),
    )


def _after_fork(**_: Any) -> None:
    forget_after_fork()


def _shutdown(**_: Any) -> None:
    close_process_loop()


# -- the producer's side ------------------------------------------------------------------


def _broker_errors() -> tuple[type[BaseException], ...]:
    return (kombu.exceptions.OperationalError, *redis_errors())


def enqueue(
    app: celery.Celery, run: str, partitions: Sequence[Partition], *, queue: str | None = None,
    chord: bool = False,
) -> celery.result.AsyncResult:
    """Send one task per partition, as a group (a `GroupResult`), or as a chord whose
    callback summarizes them on a worker (an `AsyncResult` of the `RunSummary` dict).

    Enqueueing the same run again is safe: finished partitions answer their stored
    results, the others resume from their checkpoints.
    """
    check_run(run)
    if not partitions:
        raise ConfigurationError("no partitions to enqueue")
    check_broker(app)
    signatures = [
        app.signature(SYNC_TASK if p.mode == "sync" else EXPORT_TASK, args=(run, p.to_dict()), queue=queue,
                      immutable=True)
        for p in partitions
    ]
    try:
        if chord:
            callback = app.signature(SUMMARIZE_TASK, queue=queue)
            outcome: celery.result.AsyncResult = celery.chord(signatures)(callback)
        else:
            outcome = celery.group(signatures).apply_async()
    except _broker_errors() as exc:
        raise BrokerUnavailableError("enqueue", exc) from exc
    return outcome


def check_broker(app: celery.Celery, retries: int = 2) -> None:
    """Raise `BrokerUnavailableError` unless the broker and a Redis result backend answer
    now (Celery itself would retry for half a minute before saying so)."""
    try:
        with app.connection_for_write() as connection:
            connection.ensure_connection(max_retries=retries, interval_start=0, interval_step=0.2,
                                         interval_max=0.5, timeout=5)
    except _broker_errors() as exc:
        raise BrokerUnavailableError("connecting to the broker", exc) from exc
    client = getattr(app.backend, "client", None)  # the Redis result backend's redis-py client
    if client is not None:
        try:
            client.ping()
        except _broker_errors() as exc:
            raise BrokerUnavailableError("connecting to the result backend", exc) from exc


def collect(outcome: celery.result.AsyncResult, *, timeout: float | None = None) -> RunSummary:
    """Wait for what `enqueue` sent; its results added up per mall.

    Raises `RunTimeoutError` when the run has not finished within `timeout`
    seconds, `BrokerUnavailableError` when the result backend cannot be read.
    """
    try:
        if isinstance(outcome, celery.result.GroupResult):
            values = outcome.get(timeout=timeout, propagate=False)
            failures = {
                f"task {child.id}": f"{type(value).__name__}: {value}"
                for child, value in zip(outcome.results, values, strict=True) if not isinstance(value, dict)
            }
            return summarize([v for v in values if isinstance(v, dict)], failures=failures)
        data = outcome.get(timeout=timeout, propagate=False)
    except celery.exceptions.TimeoutError:
        done, total = _progress(outcome)
        raise RunTimeoutError(timeout or 0.0, done, total) from None
    except _broker_errors() as exc:
        raise BrokerUnavailableError("collect", exc) from exc
    if not isinstance(data, dict):
        return summarize([], failures={f"task {outcome.id}": f"{type(data).__name__}: {data}"})
    return RunSummary.from_dict(data)


def _progress(outcome: celery.result.AsyncResult) -> tuple[int, int]:
    """(finished, total) partitions of a group, or of a chord's header."""
    group = outcome if isinstance(outcome, celery.result.GroupResult) else outcome.parent
    if not isinstance(group, celery.result.GroupResult):
        return 0, 0
    try:
        return int(group.completed_count()), len(group.results)
    except _broker_errors():
        return 0, len(group.results)
