"""Checks the live API makes of every request beyond its credentials.

- The pinned `X-Cafe24-Api-Version`: a version not released, or older than one
  year before the newest release, gets a 400 naming the server's default.
- Front API calls: those carrying Basic `client_id:front_api_key` are
  authenticated; those with only `X-Cafe24-Client-Id` are not, and get a lower
  limit (`front_anonymous_per_second` per mall, then 429).
- Scopes: a bearer token without the route's scope gets 403 `insufficient_scope`.
- Every error answer carries an `x-trace_id`, as Cafe24's do.
"""

from __future__ import annotations

import base64
import binascii
import secrets
from collections import deque
from collections.abc import Mapping
from datetime import date

from cafe24_async.routes import Route
from cafe24_async.routes.versions import VALID_DAYS
from cafe24_async.sandbox.config import SandboxConfig
from cafe24_async.sandbox.errors import ApiError

VERSION_HEADER = "X-Cafe24-Api-Version"


def check_version(config: SandboxConfig, headers: Mapping[str, str]) -> None:
    """400 for an invalid or expired pinned version (no header: the default is used)."""
    pinned = headers.get(VERSION_HEADER)
    if pinned is None:
        return
    releases = config.api_versions
    newest = max(releases)
    expired = pinned in releases and _days(newest) - _days(pinned) > VALID_DAYS
    if pinned not in releases or expired:
        raise ApiError(
            400, f"{VERSION_HEADER} {pinned!r} is invalid or expired: the default value for the "
            f"app version is {newest}."
        )


def _days(version: str) -> int:
    try:
        return date.fromisoformat(version).toordinal()
    except ValueError:
        return 0


def front_key_state(config: SandboxConfig, headers: Mapping[str, str]) -> bool:
    """True for an authenticated Front call; 401 for a wrong key."""
    authorization = headers.get("Authorization")
    if not authorization or not authorization.startswith("Basic "):
        return False  # only the client id: an unauthenticated call
    try:
        decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise ApiError(401, "the front API key is invalid") from None
    if decoded != f"{config.client_id}:{config.front_api_key}":
        raise ApiError(401, "the front API key is invalid")
    return True


class AnonymousFrontLimit:
    """At most `per_second` unauthenticated Front calls in any second, per mall."""

    def __init__(self, per_second: int) -> None:
        self.per_second = per_second
        self._starts: dict[str, deque[float]] = {}
        #: 429s answered to unauthenticated Front calls, per mall.
        self.refused: dict[str, int] = {}

    def admit(self, mall_id: str, now: float) -> None:
        starts = self._starts.setdefault(mall_id, deque())
        while starts and starts[0] <= now - 1.0:
            starts.popleft()
        if len(starts) >= self.per_second:
            self.refused[mall_id] = self.refused.get(mall_id, 0) + 1
            wait = max(0.0, starts[0] + 1.0 - now)
            raise ApiError(429, "Too Many Requests: unauthenticated Front API calls have a lower limit",
                           retry_after=wait)
        starts.append(now)


def check_scope(route: Route, scopes: tuple[str, ...] | None) -> None:
    """403 `insufficient_scope` when the token was not granted the route's scope."""
    if scopes is None or route.scope is None or route.scope in scopes:
        return
    raise ApiError(403, f"insufficient_scope: this call needs the scope {route.scope}")


def trace_id() -> str:
    return secrets.token_hex(8)
