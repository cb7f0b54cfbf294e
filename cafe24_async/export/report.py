"""What one export run did: records per mall, requests spent, failures.

Request counters live on each mall's stats and keep counting across runs and
other calls; a `Baseline` taken when the run starts turns them into this run's
numbers. `minimum_pages` is the least any exporter could have made: the
records at the largest page size, ceil(N / limit max) per mall.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping
from typing import TYPE_CHECKING

import attrs

from cafe24_async.routes.route import Route

if TYPE_CHECKING:
    from cafe24_async.mall import Mall


@attrs.define
class ExportReport:
    records: dict[str, int]
    #: Requests made by this run, retries included.
    requests: int
    pages: int
    counts: int
    retries: int
    throttled: int
    #: Pages the records need at the largest page size: ceil(N / limit max) per mall.
    minimum_pages: int
    seconds: float
    resumed: bool
    errors: dict[str, str] = attrs.field(factory=dict)
    output: str = "-"
    #: The exception that stopped each failed mall.
    failures: dict[str, BaseException] = attrs.field(factory=dict, repr=False)

    @property
    def total(self) -> int:
        return sum(self.records.values())

    def summary(self) -> str:
        state = "resumed, " if self.resumed else ""
        text = (
            f"{self.total:,} records from {len(self.records)} mall(s) to {self.output} "
            f"in {self.seconds:.1f}s ({state}{self.requests:,} requests: {self.pages:,} pages + "
            f"{self.counts:,} counts + {self.retries:,} retries; minimum {self.minimum_pages:,} pages; "
            f"{self.throttled} throttled)"
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
        resumed: bool, failures: dict[str, BaseException], output: str,
    ) -> ExportReport:
        """This run's report; `totals` are each mall's records over every run of the export."""
        pages = counts = 0
        for m, mall in self.malls.items():
            delta: Counter[str] = mall.stats.by_route - self._routes[m]
            pages += delta[route.qualified_name]
            counts += sum(n for name, n in delta.items() if name.endswith(".count"))
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
        )
