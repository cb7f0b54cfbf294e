"""Settings of one sandbox server.

Everything the sandbox does that a test or benchmark may want to vary lives
here: the app credentials, the leaky bucket, the Analytics token bucket, the
D.Collection window, the usage quotas, token lifetimes, the size of the
generated shop data, injectable clocks and the fault mix. Every field has a
default so `SandboxConfig()` gives a small, well-behaved shop.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import attrs

from cafe24_async.routes.versions import RELEASES
from cafe24_async.sandbox.dates import KST
from cafe24_async.sandbox.write_config import WriteConfig


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
    answer delayed by `slow_seconds`, with `throttle_rate` a 429 as if the bucket
    were full. The draws come from a per-mall generator seeded with `seed`, so the
    same requests in the same order meet the same faults.

    With `retry_after` set, every 429 and 503 answer carries `Retry-After`: that
    many seconds (fractions kept), or with `retry_after_http_date` the HTTP date
    that many seconds from the sandbox's `now` (rounded up to a whole second).
    """

    seed: int = 0
    error_rate: float = attrs.field(default=0.0, validator=_rate)
    drop_rate: float = attrs.field(default=0.0, validator=_rate)
    truncate_rate: float = attrs.field(default=0.0, validator=_rate)
    slow_rate: float = attrs.field(default=0.0, validator=_rate)
    slow_seconds: float = attrs.field(default=1.0, validator=_not_negative)
    error_statuses: tuple[int, ...] = (500, 503, 504)
    throttle_rate: float = attrs.field(default=0.0, validator=_rate)
    #: Hostile 2xx answers to GET routes: the documented root key left out (`{}`, or
    #: unknown keys), a list page cut short while more records remain, a count that is
    #: not a non-negative integer, and an HTML page instead of JSON (status 200).
    missing_root_rate: float = attrs.field(default=0.0, validator=_rate)
    short_page_rate: float = attrs.field(default=0.0, validator=_rate)
    bad_count_rate: float = attrs.field(default=0.0, validator=_rate)
    html_rate: float = attrs.field(default=0.0, validator=_rate)
    #: Error answers echo the request's credentials (its `Authorization` header in the
    #: message, the bare token under `access_token`), as careless servers do.
    echo_credentials: bool = False
    retry_after: float | None = None
    retry_after_http_date: bool = False

    def __attrs_post_init__(self) -> None:
        if self.retry_after is not None and not 0 <= self.retry_after < 86400:
            raise ValueError(f"retry_after must be between 0 and 86400 seconds, got {self.retry_after}")
        total = self.total_rate
        if total > 1.0 + 1e-9:
            raise ValueError(f"fault rates add up to {total}, more than 1")
        if not self.error_statuses:
            raise ValueError("error_statuses must not be empty")

    @property
    def total_rate(self) -> float:
        return (
            self.error_rate + self.drop_rate + self.truncate_rate + self.slow_rate + self.throttle_rate
            + self.missing_root_rate + self.short_page_rate + self.bad_count_rate + self.html_rate
        )

    @property
    def enabled(self) -> bool:
        return self.total_rate > 0


@attrs.frozen(kw_only=True)
class TokenFaultConfig:
    """Seeded faults of the OAuth token endpoint (`POST /api/v2/oauth/token`).

    With `error_rate` a token request is answered 500/503 *before* anything is
    rotated (safe to retry). With `damage_rate` the refresh token *is* rotated and
    the new pair stored server-side, but the answer is damaged in one of
    `damage_kinds`: "no_expires_at", "bad_expires_at", "not_utf8", "not_json".
    The draws come from a per-mall generator seeded with `seed`.
    """

    seed: int = 0
    error_rate: float = attrs.field(default=0.0, validator=_rate)
    damage_rate: float = attrs.field(default=0.0, validator=_rate)
    damage_kinds: tuple[str, ...] = ("no_expires_at", "bad_expires_at", "not_utf8", "not_json")

    @property
    def enabled(self) -> bool:
        return self.error_rate + self.damage_rate > 0


#: The live API's default usage quotas per mall (Cafe24's API quota guide): 3,000 calls
#: and 600 s of processing time per 10 minutes. `sandbox serve` and the CLI's
#: `--sandbox` export use them; `SandboxConfig()` leaves quotas off for fast tests.
LIVE_QUOTAS: dict[str, Any] = {"call_quota": 3000, "time_quota": 600_000.0, "quota_window": 600.0}


@attrs.frozen(kw_only=True)
class SandboxConfig:
    """How the sandbox behaves; see the field comments for units."""

    #: Malls whose data is generated up front; any other mall id is served too,
    #: its data generated on first use.
    malls: tuple[str, ...] = ("sandbox",)

    client_id: str = "sandbox-client"
    client_secret: str = attrs.field(default="sandbox-secret", repr=False)
    redirect_uri: str = "https://localhost/callback"
    #: `user_id` reported in token responses.
    user_id: str = "sandbox-admin"

    #: Leaky bucket per mall, shared by Admin and Front API calls.
    bucket_capacity: int = 40
    #: Calls drained per second.
    leak_rate: float = attrs.field(default=2.0, validator=_not_negative)
    #: Calls per second another app adds to the same bucket, continuously.
    foreign_rate: float = attrs.field(default=0.0, validator=_not_negative)

    #: Analytics API token bucket per mall: burst size, and tokens added per second
    #: (the overview: "one token will be added to the bucket every two seconds").
    analytics_burst: int = 10
    analytics_refill: float = attrs.field(default=0.5, validator=_not_negative)
    #: Rows each Analytics list holds for any date range.
    analytics_rows: int = 250
    #: D.Collection API: calls per fixed window per client IP (Laravel throttle: 40 per minute).
    dcollection_limit: int = 40
    dcollection_window: float = attrs.field(default=60.0, validator=_not_negative)
    #: Generated D.Collection stores and products (partner-wide, not per mall).
    dcollection_shops: int = 60
    dcollection_products: int = 300

    #: Usage quotas per mall, the second limit (see `sandbox.usage`): calls, and
    #: milliseconds of processing, per `quota_window` seconds. None turns a quota
    #: off; with both off (the default) no usage header is sent and nothing is blocked.
    call_quota: int | None = None
    time_quota: float | None = None
    quota_window: float = 60.0
    #: Processing milliseconds one read (GET) and one write cost.
    read_cost_ms: float = attrs.field(default=20.0, validator=_not_negative)
    write_cost_ms: float = attrs.field(default=400.0, validator=_not_negative)
    #: A block lasts until usage has drained back to this percentage.
    quota_resume: float = 50.0

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
    #: API versions released (`X-Cafe24-Api-Version`); an unreleased one, or one older than
    #: a year before the newest, gets a 400 naming the default (the newest).
    api_versions: tuple[str, ...] = RELEASES
    #: The Front API key: Front calls carrying Basic `client_id:front_api_key` are
    #: authenticated; calls with only the client id get `front_anonymous_per_second`.
    front_api_key: str = attrs.field(default="sandbox-front-key", repr=False)
    front_anonymous_per_second: int = 10
    #: Offset caps the server keeps lower than the documented ones, by route path (a
    #: production app observed 10,000 on orders where the docs say 15,000).
    offset_caps: dict[str, int] = attrs.field(factory=dict)
    #: True when the mall manages supply price per variant: a variant update may then
    #: set `supply_price` (the live API answers 422 otherwise).
    variant_supply_price: bool = False
    #: Product count per mall, overriding `products`.
    per_mall_products: dict[str, int] = attrs.field(factory=dict)
    #: Records of each mall that change on their own per minute of `now` (a product's
    #: price and `updated_date`, an order shipped or delivered, in turn; `sandbox.drift`),
    #: and D.Collection products that change at the same rate (price and `updated_date`).
    changes_per_minute: float = attrs.field(default=0.0, validator=_not_negative)

    #: Monotonic seconds for the leaky bucket, the throttles and the usage quotas.
    clock: Callable[[], float] = time.monotonic
    #: Wall clock for token and authorization-code expiry.
    now: Callable[[], datetime] = _utc_now

    faults: FaultConfig = attrs.field(factory=FaultConfig)
    token_faults: TokenFaultConfig = attrs.field(factory=TokenFaultConfig)
    #: Write faults, stale reads, bulk caps and the settings writes depend on (`sandbox.bulk`).
    writes: WriteConfig = attrs.field(factory=WriteConfig)
    #: Documented only: the sandbox speaks plain HTTP on loopback.
    enforce_https: bool = False
    #: How many recent requests `Sandbox.requests` keeps.
    request_log_size: int = 10_000

    def __attrs_post_init__(self) -> None:
        if self.bucket_capacity < 1:
            raise ValueError("bucket_capacity must be at least 1")
        if self.analytics_burst < 1 or self.dcollection_limit < 1:
            raise ValueError("analytics_burst and dcollection_limit must be at least 1")
        if self.call_quota is not None and self.call_quota < 1:
            raise ValueError("call_quota must be at least 1 (None turns it off)")
        if self.time_quota is not None and self.time_quota <= 0:
            raise ValueError("time_quota must be positive (None turns it off)")
        if self.quota_window <= 0 or not 0.0 <= self.quota_resume < 100.0:
            raise ValueError("quota_window must be positive and quota_resume in [0, 100)")
        low, high = self.items_per_order
        if low < 1 or high < low:
            raise ValueError(f"items_per_order must be (low, high) with 1 <= low <= high, got {low, high}")

    def product_count(self, mall_id: str) -> int:
        """How many products the mall's generated data holds."""
        return self.per_mall_products.get(mall_id, self.products)
