"""Everything a running sandbox knows, shared by the HTTP handlers and the runner.

One `SandboxState` per server holds the token store, the request log and a
`MallState` per mall seen so far (bucket, counters, fault generator and the
lazily generated shop data).
"""

from __future__ import annotations

from cafe24_async.sandbox.bucket import LeakyBucket
from cafe24_async.sandbox.config import FaultConfig, SandboxConfig
from cafe24_async.sandbox.dataset import Dataset
from cafe24_async.sandbox.faults import FaultInjector
from cafe24_async.sandbox.oauth import TokenStore
from cafe24_async.sandbox.records import MallStats, RequestLog


class MallState:
    """Per-mall server state."""

    __slots__ = ("_config", "_dataset", "bucket", "faults", "mall_id", "stats")

    def __init__(self, config: SandboxConfig, mall_id: str, faults: FaultConfig) -> None:
        self._config = config
        self.mall_id = mall_id
        self.bucket = LeakyBucket(config.bucket_capacity, config.leak_rate, config.clock, config.foreign_rate)
        self.stats = MallStats()
        self.faults = FaultInjector(faults, mall_id)
        self._dataset: Dataset | None = None

    @property
    def dataset(self) -> Dataset:
        if self._dataset is None:
            self._dataset = Dataset(self._config, self.mall_id)
        return self._dataset

    def snapshot(self) -> MallStats:
        """A copy of the counters with the bucket levels filled in."""
        stats = self.stats.copy()
        stats.max_level = self.bucket.max_level
        stats.level = self.bucket.peek()
        return stats


class SandboxState:
    """Shared state of one sandbox server."""

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self.tokens = TokenStore(config)
        self.log = RequestLog(config.request_log_size)
        self.faults = config.faults
        self.malls: dict[str, MallState] = {}

    def mall(self, mall_id: str) -> MallState:
        found = self.malls.get(mall_id)
        if found is None:
            found = MallState(self.config, mall_id, self.faults)
            self.malls[mall_id] = found
        return found

    def set_faults(self, faults: FaultConfig) -> None:
        """Switch the fault mix; every mall's generator restarts from the seed."""
        self.faults = faults
        for mall in self.malls.values():
            mall.faults = FaultInjector(faults, mall.mall_id)
