"""The results of a bulk write: one line per input row, and the report of the run.

Each row ends as one of:

- `ok`: the mall took it (and, with verify, shows it);
- `failed`: it was not applied; `error` says why (the server's refusal, a row
  that breaks the route's rules, or too many attempts);
- `unchanged`: the mall accepted it but does not show it (verify, or a setting
  it depends on: `bulk.effects`); `error` names each field that did not change;
- `unknown`: its call may have been applied and there is no way to read it back
  (a POST without a read route); it is not sent again unless asked.

A dry run uses `valid`, `invalid` and `ineffective` (would be accepted and change
nothing, or something else). The file is JSON Lines, or CSV when its name ends in
`.csv`; it is written whole at the end of a run, atomically.
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from pathlib import Path
from typing import Any

import attrs

from cafe24_async.bulk.files import write_atomically

#: Statuses that mean a row did not end as it asked.
PROBLEMS = frozenset({"failed", "unchanged", "unknown", "invalid", "ineffective"})


@attrs.frozen
class RowResult:
    #: The row's line in the input (from 1; for rows given in Python, its position from 1).
    row: int
    status: str
    error: str | None = None
    #: The values that name the row's record (path values and item key).
    keys: dict[str, Any] = attrs.field(factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"row": self.row, "status": self.status, **({"error": self.error} if self.error else {}),
                **self.keys}


def write_results(path: Path, results: list[RowResult]) -> None:
    """Write one line per row to `path` (CSV when it ends in .csv, else JSON Lines)."""
    if str(path).lower().endswith(".csv"):
        keys: list[str] = []
        for result in results:
            keys.extend(k for k in result.keys if k not in keys)
        out = io.StringIO(newline="")
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["row", "status", "error", *keys])
        for result in results:
            writer.writerow([result.row, result.status, result.error or "",
                             *(result.keys.get(k, "") for k in keys)])
        data = out.getvalue().encode("utf-8")
    else:
        data = "".join(
            json.dumps(r.to_json(), ensure_ascii=False, default=str) + "\n" for r in results
        ).encode("utf-8")
    write_atomically(path, data)


@attrs.define
class BulkReport:
    """What one run of a bulk write did."""

    route: str
    mall: str
    rows: int
    results: list[RowResult]
    #: HTTP requests this run made (writes, reads, retries).
    requests: int = 0
    #: Write calls sent by this run.
    calls: int = 0
    #: GETs made to settle ambiguous calls, verify and preflight.
    reads: int = 0
    #: Rows whose call might have been applied, settled by reading them back.
    ambiguous: int = 0
    #: Rows sent again: refused before they were applied, or read back as not applied.
    resent: int = 0
    seconds: float = 0.0
    resumed: bool = False
    dry_run: bool = False
    verified: bool = False
    #: Highest usage (percent, the higher of call and time) the mall reported before a call.
    highest_usage: float | None = None
    #: Seconds the job spent spacing its calls to leave the mall headroom.
    spaced_seconds: float = 0.0
    results_file: str | None = None

    @property
    def counts(self) -> Counter[str]:
        return Counter(r.status for r in self.results)

    @property
    def problems(self) -> int:
        """Rows that did not end as they asked (failed, unchanged, unknown; for a dry run,
        invalid or ineffective)."""
        return sum(1 for r in self.results if r.status in PROBLEMS)

    def summary(self) -> str:
        counts = self.counts
        order = ("valid", "invalid", "ineffective") if self.dry_run else (
            "ok", "failed", "unchanged", "unknown")
        states = ", ".join(f"{counts[s]:,} {s}" for s in order if counts[s] or s in ("ok", "valid"))
        what = "dry run (no write sent)" if self.dry_run else ("resumed" if self.resumed else "run")
        text = (
            f"{self.rows:,} rows to {self.route} on mall {self.mall!r}: {states} "
            f"({what}, {self.seconds:.1f}s, {self.requests:,} requests: {self.calls:,} write calls, "
            f"{self.reads:,} reads; {self.ambiguous:,} rows re-read after an unclear answer, "
            f"{self.resent:,} sent again"
        )
        if self.highest_usage is not None:
            text += f"; quota usage at most {self.highest_usage:.0f}%"
        if self.spaced_seconds:
            text += f", {self.spaced_seconds:.1f}s spent leaving headroom"
        if self.verified:
            text += "; verified"
        text += ")"
        if self.results_file:
            text += f"; results in {self.results_file}"
        return text
