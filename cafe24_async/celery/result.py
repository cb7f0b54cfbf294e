"""What a partition's task answers, and the run's figures per mall.

A task answers a `PartitionResult` as a plain dict (JSON through the result
backend): counts, times and where the output is, never a token or a secret.
The same dict is kept beside the output (`FILE.result.json`) once the
partition is done, and a task delivered again for a finished partition
answers it unchanged, so a duplicate delivery reports what was done, once.

`requests` and `throttled` are the API requests (OAuth excluded) and 429
answers of the attempt that finished the partition. An attempt killed midway
(kill -9, a lost machine) reports nothing: the requests it made are not in
these figures, while its records are (the next attempt resumes from its
checkpoint; `records` counts the whole file). The server's own count is the
one to bill against.

`summarize` adds results up per mall: records, requests, 429s, partitions done
and failed, the partitions' run time added up (`seconds`) and the time from
the mall's first start to its last finish (`wall_seconds`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import attrs

__all__ = ["MallTotals", "PartitionResult", "RunSummary", "summarize"]

DONE, FAILED = "done", "failed"


@attrs.frozen(kw_only=True)
class PartitionResult:
    """One partition's outcome (see the module docstring)."""

    run: str
    key: str
    mall_id: str
    resource: str
    since: str | None
    until: str | None
    #: "done", or "failed" (its checkpoint is kept: run the same plan again to resume it).
    status: str
    #: Records in the output, every attempt included.
    records: int
    #: Records this attempt wrote (less than `records` after a resume).
    records_this_run: int
    requests: int
    throttled: int
    #: Run time of this attempt, and its start and end (seconds since the epoch).
    seconds: float
    started_at: float
    finished_at: float
    #: True when this attempt went on from a checkpoint an earlier one left.
    resumed: bool
    #: The output's path under the shared directory.
    output: str
    #: Host name and PID of the process that ran this attempt.
    worker: str
    pid: int
    error: str | None = None
    #: A failure another attempt may get past (the network, Redis, a 5xx, a 429 after retries).
    retryable: bool = False

    @property
    def ok(self) -> bool:
        return self.status == DONE

    def to_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PartitionResult:
        names = {a.name for a in attrs.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


@attrs.define(kw_only=True)
class MallTotals:
    """One mall's partitions added up."""

    mall_id: str
    partitions: int = 0
    done: int = 0
    failed: int = 0
    records: int = 0
    requests: int = 0
    throttled: int = 0
    #: The partitions' run times added up.
    seconds: float = 0.0
    started_at: float | None = None
    finished_at: float | None = None

    @property
    def wall_seconds(self) -> float:
        """From the mall's first partition's start to its last one's end."""
        if self.started_at is None or self.finished_at is None:
            return 0.0
        return self.finished_at - self.started_at

    def add(self, result: PartitionResult) -> None:
        self.partitions += 1
        self.done += result.ok
        self.failed += not result.ok
        self.records += result.records
        self.requests += result.requests
        self.throttled += result.throttled
        self.seconds += result.seconds
        self.started_at = min(result.started_at, self.started_at or result.started_at)
        self.finished_at = max(result.finished_at, self.finished_at or result.finished_at)

    def to_dict(self) -> dict[str, Any]:
        return {**attrs.asdict(self), "wall_seconds": self.wall_seconds}


@attrs.define(kw_only=True)
class RunSummary:
    """A run's figures per mall, and the partitions that failed (key -> error)."""

    malls: dict[str, MallTotals] = attrs.field(factory=dict)
    failures: dict[str, str] = attrs.field(factory=dict)
    results: list[PartitionResult] = attrs.field(factory=list, repr=False)

    @property
    def ok(self) -> bool:
        return not self.failures

    @property
    def records(self) -> int:
        return sum(m.records for m in self.malls.values())

    @property
    def requests(self) -> int:
        return sum(m.requests for m in self.malls.values())

    @property
    def throttled(self) -> int:
        return sum(m.throttled for m in self.malls.values())

    def to_dict(self, *, results: bool = False) -> dict[str, Any]:
        """The totals and failures (and, with `results`, every partition's result)."""
        data: dict[str, Any] = {
            "malls": {m: t.to_dict() for m, t in self.malls.items()},
            "failures": dict(self.failures),
        }
        if results:
            data["results"] = [r.to_dict() for r in self.results]
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RunSummary:
        if "results" in data:
            return summarize(data["results"], failures=data.get("failures") or {})
        names = {a.name for a in attrs.fields(MallTotals)}
        malls = {
            m: MallTotals(**{k: v for k, v in totals.items() if k in names})
            for m, totals in (data.get("malls") or {}).items()
        }
        return cls(malls=malls, failures=dict(data.get("failures") or {}))

    def summary(self) -> str:
        """One line: records, malls, requests, 429s, failures."""
        parts = [
            f"{self.records:,} records from {len(self.malls):,} malls",
            f"{sum(m.done for m in self.malls.values()):,} partitions done",
            f"{self.requests:,} requests", f"{self.throttled:,} throttled",
        ]
        if self.failures:
            parts.append(f"{len(self.failures):,} failed: " + "; ".join(
                f"{k}: {e}" for k, e in list(self.failures.items())[:5]))
        return ", ".join(parts)


def summarize(
    results: Iterable[PartitionResult | Mapping[str, Any]], failures: Mapping[str, str] | None = None,
) -> RunSummary:
    """Partition results (objects or their dicts) added up per mall, in the order given."""
    summary = RunSummary(failures=dict(failures or {}))
    for item in results:
        result = item if isinstance(item, PartitionResult) else PartitionResult.from_dict(item)
        summary.results.append(result)
        summary.malls.setdefault(result.mall_id, MallTotals(mall_id=result.mall_id)).add(result)
        if not result.ok:
            summary.failures[result.key] = result.error or "failed"
    return summary
