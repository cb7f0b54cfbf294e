"""Everything a running sandbox knows, shared by the HTTP handlers and the runner.

One `SandboxState` per server holds the token store, the request log, the
D.Collection window per client IP, the D.Collection data (partner-wide: one
copy, whichever mall path it is read through) and a `MallState` per mall seen
so far (leaky bucket, Analytics token bucket, usage meter, counters, fault
generator and the lazily generated shop data).
"""

from __future__ import annotations

from collections.abc import Callable

from cafe24_async.sandbox.bucket import LeakyBucket
from cafe24_async.sandbox.config import FaultConfig, SandboxConfig
from cafe24_async.sandbox.dataset import Dataset
from cafe24_async.sandbox.faults import FaultInjector
from cafe24_async.sandbox.oauth import TokenStore
from cafe24_async.sandbox.partner import PartnerData
from cafe24_async.sandbox.records import RequestLog, ServerMallStats
from cafe24_async.sandbox.throttles import FixedWindow, TokenBucket
from cafe24_async.sandbox.usage import UsageMeter
from cafe24_async.sandbox.webhooks import WebhookHub
from cafe24_async.sandbox.write_book import WriteBook


class MallState:
    """Per-mall server state."""

    __slots__ = (
        "_config", "_dataset", "_partner", "bucket", "faults", "mall_id", "partner_of", "stats", "tokens",
        "usage", "webhooks", "writes",
    )

    def __init__(self, config: SandboxConfig, mall_id: str, faults: FaultConfig) -> None:
        self._config = config
        self.mall_id = mall_id
        self.bucket = LeakyBucket(config.bucket_capacity, config.leak_rate, config.clock, config.foreign_rate)
        self.tokens = TokenBucket(config.analytics_burst, config.analytics_refill, config.clock)
        self.usage = UsageMeter(config)
        #: Applied-write counts, stale read views and write faults (`sandbox.bulk`).
        self.writes = WriteBook(config.writes, config.clock, mall_id)
        self.stats = ServerMallStats()
        self.faults = FaultInjector(faults, mall_id)
        self._dataset: Dataset | None = None
        self._partner: PartnerData | None = None
        #: The sandbox's webhook sender (`sandbox.webhooks`), set by `SandboxState.mall`.
        self.webhooks: WebhookHub | None = None
        #: The server's one D.Collection data set (`SandboxState.partner`), set by `SandboxState.mall`.
        self.partner_of: Callable[[], PartnerData] | None = None

    @property
    def config(self) -> SandboxConfig:
        return self._config

    @property
    def dataset(self) -> Dataset:
        if self._dataset is None:
            self._dataset = Dataset(self._config, self.mall_id)
        return self._dataset

    @property
    def partner(self) -> PartnerData:
        """D.Collection stores, products and tags: the server's one copy (they are
        partner-wide), or for a mall state on its own one generated on first use."""
        if self.partner_of is not None:
            return self.partner_of()
        if self._partner is None:
            self._partner = PartnerData(self._config)
        return self._partner

    def snapshot(self) -> ServerMallStats:
        """A copy of the counters with the bucket levels and quota usage filled in."""
        stats = self.stats.copy()
        stats.max_level = self.bucket.max_level
        stats.level = self.bucket.peek()
        usage = self.usage
        stats.blocked = usage.is_blocked()
        stats.quota_blocks = usage.blocks
        stats.max_call_usage, stats.max_time_usage = usage.max_call_usage, usage.max_time_usage
        stats.call_usage, stats.time_usage = usage.usage()
        return stats


class SandboxState:
    """Shared state of one sandbox server."""

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self.tokens = TokenStore(config)
        self.log = RequestLog(config.request_log_size)
        self.faults = config.faults
        self.malls: dict[str, MallState] = {}
        #: D.Collection throttle, per client IP.
        self.windows: dict[str, FixedWindow] = {}
        #: Webhook registration, delivery and the delivery log (`sandbox.webhooks`).
        self.webhooks = WebhookHub(config)
        self._partner: PartnerData | None = None

    def mall(self, mall_id: str) -> MallState:
        found = self.malls.get(mall_id)
        if found is None:
            found = MallState(self.config, mall_id, self.faults)
            found.webhooks = self.webhooks
            found.partner_of = self.partner
            self.malls[mall_id] = found
        return found

    def partner(self) -> PartnerData:
        """The D.Collection stores, products and tags (generated on first use), one copy for
        the whole server, so a change to a product is seen through every mall path."""
        if self._partner is None:
            self._partner = PartnerData(self.config)
        return self._partner

    def window(self, ip: str | None) -> FixedWindow:
        """The D.Collection window of one client IP."""
        key = ip or ""
        found = self.windows.get(key)
        if found is None:
            config = self.config
            found = FixedWindow(config.dcollection_limit, config.dcollection_window, config.clock)
            self.windows[key] = found
        return found

    def set_faults(self, faults: FaultConfig) -> None:
        """Switch the fault mix; every mall's generator restarts from the seed."""
        self.faults = faults
        for mall in self.malls.values():
            mall.faults = FaultInjector(faults, mall.mall_id)
