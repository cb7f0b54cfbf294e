"""The hook that lets a mall's leaky bucket live outside this process.

By default each `Cafe24` client paces a mall with an in-process
`LeakyBucketLimiter`, which is right when one process owns the mall. When
several worker processes serve the same mall they must draw from one bucket,
so the client accepts a `SharedBucket`: an object that builds the mall's
leaky-bucket limiter from shared state (see `ratelimit.redis_bucket`). The
request path only ever sees a `Limiter`, whichever kind stands behind it.
"""

from __future__ import annotations

from typing import Protocol

from cafe24_async.clock import Clock
from cafe24_async.ratelimit.limiter import Limiter, RateLimitSettings
from cafe24_async.stats import MallStats


class SharedBucket(Protocol):
    def limiter(
        self,
        client_id: str,
        mall_id: str,
        settings: RateLimitSettings,
        clock: Clock,
        stats: MallStats,
    ) -> Limiter:
        """The leaky-bucket limiter of `mall_id` for the app `client_id`, shared by every
        process that uses the same backing store."""
