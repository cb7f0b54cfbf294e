"""Exports and syncs on Celery workers: one task per partition (mall, resource, date window).

For agencies and platforms with more malls than one process paces, on the
Celery and Redis they already run. `plan` splits an export into partitions
(`plan_sync` plans syncs: what changed since each mall's cursor); `enqueue`
sends them as a group or a chord; each worker process runs them on one event
loop with one client, sharing every mall's bucket and token with the other
workers through Redis, into files under a directory all workers reach, each
resumable from its checkpoint by any worker; `collect` (or the chord's
callback) adds the results up per mall.

`plan`, `Partition`, the results and `combine` need nothing but this
library, so other engines (Airflow, Dagster, a shell loop) can run the same
partitions with `run_partition`. `make_app`, `configure`, `register`,
`enqueue` and `collect` need the `celery` extra
(`pip install 'cafe24-async[celery]'`), imported only when first used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from cafe24_async.celery.combine import combine
from cafe24_async.celery.errors import (
    BrokerUnavailableError,
    CeleryMissingError,
    PartitionBusyError,
    RunTimeoutError,
)
from cafe24_async.celery.partition import Partition
from cafe24_async.celery.plan import plan, plan_sync
from cafe24_async.celery.result import MallTotals, PartitionResult, RunSummary, summarize
from cafe24_async.celery.runner import PartitionPaths, run_partition
from cafe24_async.celery.settings import WorkerSettings

if TYPE_CHECKING:
    from cafe24_async.celery.tasks import collect, configure, enqueue, make_app, register

__all__ = [
    "BrokerUnavailableError",
    "CeleryMissingError",
    "MallTotals",
    "Partition",
    "PartitionBusyError",
    "PartitionPaths",
    "PartitionResult",
    "RunSummary",
    "RunTimeoutError",
    "WorkerSettings",
    "collect",
    "combine",
    "configure",
    "enqueue",
    "make_app",
    "plan",
    "plan_sync",
    "register",
    "run_partition",
    "summarize",
]

_NEEDS_CELERY = frozenset({"collect", "configure", "enqueue", "make_app", "register"})


def __getattr__(name: str) -> Any:
    if name not in _NEEDS_CELERY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    try:
        tasks = importlib.import_module("cafe24_async.celery.tasks")
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.split(".")[0] in ("celery", "kombu", "billiard"):
            raise CeleryMissingError() from exc
        raise
    return getattr(tasks, name)
