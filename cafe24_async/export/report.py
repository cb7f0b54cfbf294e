"""What one export run did: records per mall, requests spent, failures.

Request counters live on each mall's stats and keep counting across runs and
other calls; a `Baseline` taken when the run starts turns them into this run's
numbers. `minimum_pages` is the least any exporter could have made at the
page size this export used (the route's largest, or the `limit` asked for):
ceil(N / limit) per mall, N counting every run of the export.

`records` are this run's; `totals` every run's, so a resumed export reports
the whole file beside what this run added.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping
from typing import TYPE_CHECKING

import attrs

from cafe24_async.export.progress import duration, plural
from cafe24_async.routes.route import Route

if TYPE_CHECKING:
    from cafe24_async.mall import Mall


@attrs.define
class ExportReport:
    #: Records written by this run, per mall.
    records: dict[str, int]
    #: Requests made by this run, retries included.
    requests: int
    pages: int
    counts: int
    retries: int
    throttled: int
    #: Pages the records need at the page size used: ceil(N / limit) per mall, all runs.
    minimum_pages: int
    seconds: float
    resumed: bool
    errors: dict[str, str] = attrs.field(factory=dict)
    output: str = "-"
    #: The exception that stopped each failed mall.
    failures: dict[str, BaseException] = attrs.field(factory=dict, repr=False)
    #: Records in the output per mall, every run of the export (None: this run's only).
    totals: dict[str, int] | None = None
    #: The page size the records were read at.
    page_size: int | None = None

    @property
    def total(self) -> int:
        """Records written by this run."""
        return sum(self.records.values())

    @property
    def grand_total(self) -> int:
        """Records in the output, every run of the export included."""
        return sum(self.totals.values()) if self.totals is not None else self.total

    def summary(self) -> str:
        if self.resumed and self.grand_total != self.total:
            written = (f"{plural(self.grand_total, 'record')} ({self.total:,} this run, "
                       f"{self.grand_total - self.total:,} before the resume)")
        else:
            written = plural(self.grand_total, "record")
        size = f" of {self.page_size}" if self.page_size else ""
        text = (
            f"{written} from {plural(len(self.records), 'mall')} to {self.output} "
            f"in {duration(self.seconds)} ({plural(self.requests, 'request')}: "
            f"{plural(self.pages, 'page')} + {plural(self.counts, 'count')} + "
            f"{plural(self.retries, 'retry', 'retries')}; "
            f"minimum {plural(self.minimum_pages, 'page')}{size}; {self.throttled:,} throttled)"
        )
        if self.errors:
            text += "; failed: " + "; ".join(f"{m}: {e}" for m, e in self.errors.items())
        return text


class Baseline:
    """The malls' request counters when a run started."""

    def __init__(self, malls: Mapping[str, Mall]) -> None:
        self.malls = malls
        self._requests = {m: mall.stats.requests for m, mall in malls.items()}
        self._routes = {m: mall.stats.by_route.copy() for m, mall in malls.items()}
        self._retries = {m: mall.stats.retries for m, mall in malls.items()}
        self._throttled = {m: mall.stats.throttled for m, mall in malls.items()}

    def requests(self) -> int:
        return sum(mall.stats.requests - self._requests[m] for m, mall in self.malls.items())

    def report(
        self, route: Route, records: dict[str, int], totals: Mapping[str, int], *, seconds: float,
        resumed: bool, failures: dict[str, BaseException], output: str, limit: int | None = None,
    ) -> ExportReport:
        """This run's report; `totals` are each mall's records over every run of the export,
        `limit` the page size asked for (None: the route's largest)."""
        pages = counts = 0
        for m, mall in self.malls.items():
            delta: Counter[str] = mall.stats.by_route - self._routes[m]
            pages += delta[route.qualified_name]
            counts += sum(n for name, n in delta.items() if name.endswith(".count"))
        if not limit:
            limit = route.pagination.limit_max if route.pagination else 1
        return ExportReport(
            records=records,
            requests=self.requests(),
            pages=pages,
            counts=counts,
            retries=sum(mall.stats.retries - self._retries[m] for m, mall in self.malls.items()),
            throttled=sum(mall.stats.throttled - self._throttled[m] for m, mall in self.malls.items()),
            minimum_pages=sum(math.ceil(n / limit) for n in totals.values()),
            seconds=seconds,
            resumed=resumed,
            errors={m: f"{type(e).__name__}: {e}" for m, e in failures.items()},
            output=output,
            failures=failures,
            totals=dict(totals),
            page_size=limit if route.pagination else None,
        )
