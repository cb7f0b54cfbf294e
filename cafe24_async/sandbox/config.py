"""Settings of one sandbox server.

Everything the sandbox does that a test or benchmark may want to vary lives
here: the app credentials, the leaky bucket, token lifetimes, the size of the
generated shop data, injectable clocks and the fault mix. Every field has a
default so `SandboxConfig()` gives a small, well-behaved shop.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

import attrs

from cafe24_async.sandbox.dates import KST


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _rate(instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{attribute.name} must be between 0 and 1, got {value}")


def _not_negative(instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if value < 0:
        raise ValueError(f"{attribute.name} must not be negative, got {value}")


@attrs.frozen(kw_only=True)
class FaultConfig:
    """Seeded fault mix for API routes (never the OAuth endpoints).

    Each API request draws once: with probability `error_rate` it gets a 500,
    503 or 504, with `drop_rate` the connection is closed without an answer, with
    `truncate_rate` a 200 whose JSON body is cut in half, with `slow_rate` a normal
    answer delayed by `slow_seconds`. The draws come from a per-mall generator
    seeded with `seed`, so the same requests in the same order meet the same faults.
    """

    seed: int = 0
    error_rate: float = attrs.field(default=0.0, validator=_rate)
    drop_rate: float = attrs.field(default=0.0, validator=_rate)
    truncate_rate: float = attrs.field(default=0.0, validator=_rate)
    slow_rate: float = attrs.field(default=0.0, validator=_rate)
    slow_seconds: float = attrs.field(default=1.0, validator=_not_negative)
    error_statuses: tuple[int, ...] = (500, 503, 504)

    def __attrs_post_init__(self) -> None:
        total = self.error_rate + self.drop_rate + self.truncate_rate + self.slow_rate
        if total > 1.0 + 1e-9:
            raise ValueError(f"fault rates add up to {total}, more than 1")
        if not self.error_statuses:
            raise ValueError("error_statuses must not be empty")

    @property
    def enabled(self) -> bool:
        return (self.error_rate + self.drop_rate + self.truncate_rate + self.slow_rate) > 0


@attrs.frozen(kw_only=True)
class SandboxConfig:
    """How the sandbox behaves; see the field comments for units."""

    #: Malls whose data is generated up front; any other mall id is served too,
    #: its data generated on first use.
    malls: tuple[str, ...] = ("sandbox",)

    client_id: str = "sandbox-client"
    client_secret: str = "sandbox-secret"
    redirect_uri: str = "https://localhost/callback"
    #: `user_id` reported in token responses.
    user_id: str = "sandbox-admin"

    #: Leaky bucket per mall, shared by Admin and Front API calls.
    bucket_capacity: int = 40
    #: Calls drained per second.
    leak_rate: float = attrs.field(default=2.0, validator=_not_negative)
    #: Calls per second another app adds to the same bucket, continuously.
    foreign_rate: float = attrs.field(default=0.0, validator=_not_negative)

    access_token_ttl: float = 7200.0
    refresh_token_ttl: float = 14 * 86400.0
    authorization_code_ttl: float = 60.0
    #: When True a refresh also kills the access token issued with the old refresh token.
    revoke_old_access_on_refresh: bool = False

    #: Seconds added to every API response (benchmarks use 0.02).
    latency: float = attrs.field(default=0.0, validator=_not_negative)

    products: int = 250
    variants_per_product: int = 3
    categories: int = 30
    customers: int = 300
    #: Spread over the 365 days before `dataset_end`.
    orders: int = 2000
    #: Inclusive range of items per order.
    items_per_order: tuple[int, int] = (1, 3)
    reviews: int = 500
    coupons: int = 40
    brands: int = 10
    suppliers: int = 5
    manufacturers: int = 5
    seed: int = 1
    dataset_end: datetime = datetime(2026, 10, 31, 23, 59, 59, tzinfo=KST)
    #: Product count per mall, overriding `products`.
    per_mall_products: dict[str, int] = attrs.field(factory=dict)

    #: Monotonic seconds for the leaky bucket.
    clock: Callable[[], float] = time.monotonic
    #: Wall clock for token and authorization-code expiry.
    now: Callable[[], datetime] = _utc_now

    faults: FaultConfig = attrs.field(factory=FaultConfig)
    #: Documented only: the sandbox speaks plain HTTP on loopback.
    enforce_https: bool = False
    #: How many recent requests `Sandbox.requests` keeps.
    request_log_size: int = 10_000

    def __attrs_post_init__(self) -> None:
        if self.bucket_capacity < 1:
            raise ValueError("bucket_capacity must be at least 1")
        low, high = self.items_per_order
        if low < 1 or high < low:
            raise ValueError(f"items_per_order must be (low, high) with 1 <= low <= high, got {low, high}")

    def product_count(self, mall_id: str) -> int:
        """How many products the mall's generated data holds."""
        return self.per_mall_products.get(mall_id, self.products)
