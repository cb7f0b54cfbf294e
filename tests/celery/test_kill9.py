"""50 malls x 2 resources on two Celery workers; one worker killed with kill -9 midway.

Every part is a process of its own: the sandbox (over HTTP), redis-server
(broker, result backend, token store and buckets), and the `celery worker`
processes. The plan is 200 partitions (products and orders, two one-year
windows each, pages of 10 so each partition takes several pages); the workers
run them 8 at a time each, on one event loop per process.

Worker A is killed with SIGKILL (its whole process group) while it holds
partitions midway, one of them with a checkpoint that already covers records.
A replacement worker starts, and every mall's access token is expired on the
server at once, so each mall's next call meets a 401.

It passes when: every record of every mall is in the outputs exactly once;
the sandbox answered no 429 and granted exactly one refresh per mall (and no
invalid grant); every partition A held finished in another process, the one
with a checkpoint resuming from it; and no secret is in the broker's messages,
the results or the workers' logs.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path
from typing import Any

from cafe24_async.celery import collect, enqueue, plan
from tests.celery.cluster import CLIENT_SECRET, cluster
from tests.celery.workers import wait_ready

MALLS = 50
SANDBOX = {
    "leak_rate": 20.0, "bucket_capacity": 5, "products": 120, "orders": 60, "variants_per_product": 1,
    "customers": 5, "reviews": 5, "categories": 3, "coupons": 2, "brands": 2,
}
#: Seconds a delivered, unacknowledged message waits before another worker gets it.
VISIBILITY_TIMEOUT = 6.0
RUN = "nightly"


def held_by(export_dir: Path, pid: int) -> dict[str, dict[str, Any] | None]:
    """Partitions whose lock file names `pid`: key -> their checkpoint (None: none yet)."""
    held: dict[str, dict[str, Any] | None] = {}
    for lock in (export_dir / RUN).glob("*/*/*.partition.lock"):
        try:
            holder = lock.read_text().strip()
        except OSError:
            continue
        if holder != str(pid):
            continue
        output = str(lock)[: -len(".partition.lock")]
        key = str(Path(output).relative_to(export_dir / RUN).with_suffix(""))
        try:
            held[key] = json.loads(Path(output + ".checkpoint.json").read_text())
        except (OSError, ValueError):
            held[key] = None
    return held


def wait_for(condition: Any, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.02)  # between looks; the condition is what is waited for
    raise TimeoutError(f"waited {timeout:g}s for {what}")


def test_fifty_malls_two_workers_one_killed_with_sigkill(tmp_path: Path) -> None:
    started = time.monotonic()
    with cluster(tmp_path, SANDBOX, MALLS, visibility_timeout=VISIBILITY_TIMEOUT, checkpoint_interval=0) as c:
        conf = c.app.conf
        assert (conf.task_acks_late, conf.task_reject_on_worker_lost, conf.worker_prefetch_multiplier) == (
            True, True, 1)
        assert conf.broker_transport_options["visibility_timeout"] == VISIBILITY_TIMEOUT
        a, b = c.start_worker("a", concurrency=8), c.start_worker("b", concurrency=8)
        wait_ready(c.app, [a, b])
        malls = sorted(c.sandbox.tokens())
        expected = {resource: c.sandbox.ids(resource) for resource in ("products", "orders")}
        partitions = plan(malls, ["products", "orders"], "2024-11-01", "2026-10-31", window_days=365,
                          params={"products": {"limit": 10}, "orders": {"limit": 10}})
        assert len(partitions) == MALLS * 2 * 2
        outcome = enqueue(c.app, RUN, partitions, chord=True)
        messages = c.redis_values()  # the queued task messages, before any worker took them all
        assert any(b"cafe24_async.export_partition" in v and b"m0049" in v for v in messages.values())

        # Midway: A holds a partition whose checkpoint already covers records, and the
        # server has answered a good share of the products partitions' requests (about
        # 700 of the run's 1,900), before the first orders partition has started.
        def a_midway() -> dict[str, dict[str, Any] | None] | None:
            served = sum(s["requests"] for s in c.sandbox.stats().values())
            assert served < 550, "the products partitions are nearly done: too late to kill A"
            held = held_by(c.export_dir, a.pid)
            busy = any(ck is not None and ck["records"] > 0 for ck in held.values())
            return held if busy and served >= 300 else None

        wait_for(a_midway, 60, "worker A midway through a partition")
        a.kill9()
        killed = held_by(c.export_dir, a.pid)  # A's lock files outlive it; the locks do not
        resumable = {k for k, ck in killed.items() if ck is not None and ck["records"] > 0}
        assert resumable
        at_expiry = c.sandbox.stats()
        assert all(s["refreshes"] == 0 for s in at_expiry.values())
        assert sum(c.sandbox.expire_tokens().values()) >= MALLS
        replacement = c.start_worker("a2", concurrency=8)
        wait_ready(c.app, [replacement])

        summary = collect(outcome, timeout=180)
        results = {r.key: r for r in _results(c, outcome)}
        final = c.sandbox.stats()
        logs = "\n".join(w.log_text() for w in c.workers)
        b_log = b.log_text()
        stored = c.redis_values()
        outputs = sorted((c.export_dir / RUN).glob("*/*/*.jsonl"))
        lines = [json.loads(line) for path in outputs for line in path.read_text().splitlines()]
        secrets = [CLIENT_SECRET] + [v for t in c.sandbox.tokens().values()
                                     for v in (t["access_token"], t["refresh_token"])]
    elapsed = time.monotonic() - started

    # Every record exactly once.
    seen = Counter((r["mall_id"], "products", r["product_no"]) if "product_no" in r and "order_id" not in r
                   else (r["mall_id"], "orders", r["order_id"]) for r in lines)
    assert [k for k, n in seen.items() if n > 1] == []
    wanted = {(m, res, i) for res, per_mall in expected.items() for m, ids in per_mall.items() for i in ids}
    assert set(seen) == wanted
    assert summary.ok, summary.failures
    for mall_id in malls:
        assert summary.malls[mall_id].records == len(expected["products"][mall_id]) + len(expected["orders"][mall_id])

    # Zero 429s: the workers shared each mall's bucket through Redis.
    assert sum(s["throttled"] for s in final.values()) == 0
    assert summary.throttled == 0

    # One refresh per mall whose token expired under it, across the workers; no refresh
    # token spent twice. (The orders partitions, queued after every products one, come
    # after the expiry, so every mall has calls after it.)
    called_after = {m for m, s in final.items() if s["requests"] > at_expiry[m]["requests"]}
    assert len(called_after) == MALLS
    for mall_id, s in final.items():
        assert s["unauthorized"] >= 1, mall_id
        assert s["refreshes"] == 1, (mall_id, s)
        assert s["invalid_grants"] == 0, (mall_id, s)

    # What A held finished elsewhere; a partition with a checkpoint went on from it.
    for key in killed:
        result = results[key]
        assert result.ok and result.pid != a.pid, result
    for key in resumable:
        result = results[key]
        assert result.resumed and result.records_this_run < result.records, result
    assert sum(r.requests for r in results.values()) <= sum(s["requests"] for s in final.values())

    # No secret in task messages, results, or logs (the token store holds tokens by design).
    for where, value in {**messages, **stored}.items():
        if where.endswith(":token"):
            continue
        assert not any(s.encode() in value for s in secrets), where
    assert not any(s in logs for s in secrets)

    # One event loop and one client per worker process, kept across its tasks.
    assert b_log.count("one event loop and one client") == 1
    assert b_log.count("export_partition") > 20
    print(f"\n{len(partitions)} partitions, {len(lines):,} records ({len(seen):,} distinct), "
          f"{sum(s['requests'] for s in final.values()):,} requests, "
          f"{sum(s['throttled'] for s in final.values())} x 429, {sum(s['refreshes'] for s in final.values())} "
          f"refreshes for {MALLS} malls, killed {len(killed)} ({len(resumable)} resumed), {elapsed:.1f}s in all")


def _results(c: Any, outcome: Any) -> list[Any]:
    """Every partition's result, read from the chord's header in the result backend."""
    from cafe24_async.celery import PartitionResult

    group = outcome.parent
    values = group.get(timeout=30, propagate=False)
    return [PartitionResult.from_dict(v) for v in values]


