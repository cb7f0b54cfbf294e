"""cafe24_async: an asyncio client for the Cafe24 shopping-mall APIs.

It reads the rate-limit headers and paces every mall at its bucket's rate,
refreshes rotating OAuth tokens once under any concurrency, and pages past
the offset caps, so a caller writes `await mall.admin.products.list()` and an
export gets every record exactly once.
"""

from cafe24_async.auth import FileTokenStore, MemoryTokenStore, Token, TokenStore
from cafe24_async.backoff import RetrySettings
from cafe24_async.client import ApiVersionWarning, Cafe24
from cafe24_async.clock import Clock, ManualClock, SystemClock
from cafe24_async.errors import (
    APIError,
    ApiVersionError,
    AuthenticationError,
    BadRequestError,
    Cafe24ConnectionError,
    Cafe24Error,
    Cafe24TimeoutError,
    ClientClosedError,
    ConfigurationError,
    ConflictError,
    DecodeError,
    IncompleteReadError,
    NotFoundError,
    PaginationCapError,
    PermissionDeniedError,
    QuotaHeadroomError,
    QuotaWaitError,
    RateLimitError,
    ReauthorizeError,
    ServerError,
    TokenStoreError,
    UnprocessableError,
    ValidationError,
)
from cafe24_async.fanout import Outcome, fan_out
from cafe24_async.mall import Mall
from cafe24_async.pipeline.decode import MultiStatus
from cafe24_async.ratelimit import RateLimitSettings
from cafe24_async.ratelimit.quota import QuotaSettings
from cafe24_async.stats import MallStats
from cafe24_async.transport import PoolSettings, TimeoutSettings

__version__ = "0.1.0"

__all__ = [
    "APIError",
    "ApiVersionError",
    "ApiVersionWarning",
    "AuthenticationError",
    "BadRequestError",
    "Cafe24",
    "Cafe24ConnectionError",
    "Cafe24Error",
    "Cafe24TimeoutError",
    "ClientClosedError",
    "Clock",
    "ConfigurationError",
    "ConflictError",
    "DecodeError",
    "FileTokenStore",
    "IncompleteReadError",
    "Mall",
    "MallStats",
    "ManualClock",
    "MemoryTokenStore",
    "MultiStatus",
    "NotFoundError",
    "Outcome",
    "PaginationCapError",
    "PermissionDeniedError",
    "PoolSettings",
    "QuotaHeadroomError",
    "QuotaSettings",
    "QuotaWaitError",
    "RateLimitError",
    "RateLimitSettings",
    "ReauthorizeError",
    "RetrySettings",
    "ServerError",
    "SystemClock",
    "TimeoutSettings",
    "Token",
    "TokenStore",
    "TokenStoreError",
    "UnprocessableError",
    "ValidationError",
    "fan_out",
]
