"""What the sandbox remembers about traffic: recorded requests and per-mall counters.

Tests assert on exactly what a client sent (`RecordedRequest`) and on how the
server saw the traffic (`ServerMallStats`: throttling, refreshes, the highest
bucket level, usage-quota blocks, injected faults). The name differs from the
client's `cafe24_async.MallStats` on purpose: one is what the server counted,
the other what the client did, and tests compare the two. Each recorded request carries its
arrival time, so a test can check that nothing was sent during a pause.
"""

from __future__ import annotations

from typing import Any

import attrs


@attrs.define(slots=True)
class RecordedRequest:
    """One request as it reached the server."""

    mall_id: str
    method: str
    #: Documented route path, e.g. `/api/v2/admin/products/{product_no}`; the
    #: OAuth paths for token traffic; None when no documented route matched.
    path: str | None
    #: Path as sent, percent-encoding included, without the query string.
    raw_path: str
    query: dict[str, str]
    #: Parsed JSON body, or None when there was none (or it was not JSON).
    json: Any
    headers: dict[str, str]
    #: API name of the matched route ("admin", "front", "analytics", "dcollection", "oauth").
    api: str | None = None
    #: Form fields of an OAuth token request.
    form: dict[str, str] | None = None
    #: Status answered; None while in flight or when the connection was dropped.
    status: int | None = None
    #: When the request arrived, on the sandbox's monotonic clock (`SandboxConfig.clock`).
    at: float = 0.0


class RequestLog(list[RecordedRequest]):
    """A list of recent requests that keeps only the last `limit` entries."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit

    def record(self, entry: RecordedRequest) -> None:
        self.append(entry)
        if len(self) > self.limit:
            del self[: len(self) - self.limit]

    def for_mall(self, mall_id: str) -> list[RecordedRequest]:
        return [entry for entry in self if entry.mall_id == mall_id]


@attrs.define(slots=True)
class ServerMallStats:
    """What the sandbox counted for one mall. `Sandbox.stats` hands out copies."""

    #: API requests that reached the server (OAuth excluded).
    requests: int = 0
    #: API answers with a 2xx status.
    ok: int = 0
    #: 429 answers.
    throttled: int = 0
    unauthorized: int = 0
    #: Faults: injected 5xx answers, dropped connections, truncated bodies, slowed answers.
    errors_injected: int = 0
    dropped: int = 0
    truncated: int = 0
    #: 200 answers made hostile: no root key, a short page, a bad count, an HTML page.
    hostile: int = 0
    slowed: int = 0
    #: Token endpoint traffic.
    token_requests: int = 0
    tokens_issued: int = 0
    #: Successful refresh_token grants.
    refreshes: int = 0
    invalid_grants: int = 0
    #: Highest bucket level ever reached, and the level when the copy was taken.
    max_level: float = 0.0
    level: float = 0.0
    #: Every API answer status, counted.
    statuses: dict[int, int] = attrs.field(factory=dict)
    #: Usage quotas: blocks started, requests refused because of a block (429),
    #: and requests made during a block after it was announced (each one extends it).
    quota_blocks: int = 0
    quota_refused: int = 0
    calls_during_block: int = 0
    #: Highest usage reported, and the usage when the copy was taken (None: quota off).
    max_call_usage: float = 0.0
    max_time_usage: float = 0.0
    call_usage: float | None = None
    time_usage: float | None = None
    #: True when the copy was taken during a block.
    blocked: bool = False

    def count_status(self, status: int) -> None:
        self.statuses[status] = self.statuses.get(status, 0) + 1
        if 200 <= status < 300:
            self.ok += 1
        elif status == 429:
            self.throttled += 1
        elif status == 401:
            self.unauthorized += 1

    def copy(self) -> ServerMallStats:
        return attrs.evolve(self, statuses=dict(self.statuses))


#: The old name, kept for one release (it clashed with the client's `MallStats`).
MallStats = ServerMallStats
