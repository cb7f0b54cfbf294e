"""Sync partitions on Celery workers: each mall's cursor beside the outputs, moved by any worker.

Two workers sync products and orders of 6 malls (the sandbox, redis-server
and the workers are processes of their own). The first run reads everything;
the next reads only what changed since each mall's cursor, whichever worker
moved it.
"""

from __future__ import annotations

import json
from pathlib import Path

from cafe24_async.celery import collect, enqueue, plan_sync
from tests.celery.cluster import cluster
from tests.celery.workers import wait_ready

SANDBOX = {
    "leak_rate": 50.0, "bucket_capacity": 10, "products": 60, "orders": 30, "variants_per_product": 1,
    "customers": 5, "reviews": 5, "categories": 3, "coupons": 2, "brands": 2,
}


def test_sync_partitions_on_two_workers(tmp_path: Path) -> None:
    with cluster(tmp_path, SANDBOX, 6, visibility_timeout=60) as c:
        workers = [c.start_worker("s1", concurrency=4), c.start_worker("s2", concurrency=4)]
        wait_ready(c.app, workers)
        malls = sorted(c.sandbox.tokens())
        partitions = plan_sync(malls, ["products", "orders"], "2024-01-01")  # before every record
        first = collect(enqueue(c.app, "sync-1", partitions, chord=True), timeout=120)
        states = {m: json.loads((c.export_dir / "sync-state" / f"{m}.json").read_text()) for m in malls}
        second = collect(enqueue(c.app, "sync-2", partitions), timeout=120)
        logs = "".join(w.log_text() for w in workers)
        expected = {res: c.sandbox.ids(res) for res in ("products", "orders")}
    assert first.ok and second.ok, (first.failures, second.failures)
    for mall_id in malls:
        assert first.malls[mall_id].records == len(expected["products"][mall_id]) + len(expected["orders"][mall_id])
        assert second.malls[mall_id].records < first.malls[mall_id].records  # changes only
        assert states[mall_id]  # the cursor is in the shared directory
    assert {r.pid for r in second.results} <= {w.pid for w in workers}
    assert "Task cafe24_async.sync_partition[" in logs and "Task cafe24_async.export_partition[" not in logs
