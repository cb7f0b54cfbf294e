"""Pacing: leaky bucket, per-second cap, and the interface the request path uses."""

from cafe24_async.ratelimit.leaky_bucket import ServerSyncedBucket
from cafe24_async.ratelimit.limiter import LeakyBucketLimiter, Limiter, RateLimitSettings
from cafe24_async.ratelimit.window import SlidingWindow

__all__ = [
    "LeakyBucketLimiter",
    "Limiter",
    "RateLimitSettings",
    "ServerSyncedBucket",
    "SlidingWindow",
]
