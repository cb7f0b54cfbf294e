"""The credentials one request carries, by the kind its API definition names.

- `bearer` (Admin, Analytics): the mall's access token, from its single-flight
  refresher (the cached token needs no wait);
- `client_id` (Front): the `X-Cafe24-Client-Id` header;
- `basic` (D.Collection): the partner's Basic credentials.

After a 401 to a bearer token the request loop asks `after_rejection` for a new
token (refreshed once for every call that saw the rejection).
"""

from __future__ import annotations

from collections.abc import Mapping

from cafe24_async.auth.refresher import TokenRefresher
from cafe24_async.auth.token import Token
from cafe24_async.errors import ConfigurationError
from cafe24_async.routes.apis import AuthKind
from cafe24_async.transport import request_headers


class Authoriser:
    """Headers for one API of one mall."""

    __slots__ = ("_fixed", "_kind", "_last", "_refresher", "extra")

    def __init__(
        self, kind: AuthKind, refresher: TokenRefresher, fixed: Mapping[str, str] | None,
        extra: Mapping[str, str],
    ) -> None:
        self._kind = kind
        self._refresher = refresher
        self.extra = dict(extra)
        #: The headers of a non-bearer API, whole (None: its credentials are not configured).
        self._fixed = request_headers({**fixed, **self.extra}) if fixed is not None else None
        #: The headers last made for a bearer token, and that token (made once per token).
        self._last: tuple[Mapping[str, str], Token] | None = None

    def ready(self) -> tuple[Mapping[str, str], Token | None] | None:
        """`headers()` when nothing needs awaiting (the cached token is fresh, or the API
        takes no token); None when a token must be loaded or refreshed first."""
        if self._kind != "bearer":
            return self._unsigned()
        token = self._refresher.current()
        return None if token is None else self._bearer(token)

    async def headers(self) -> tuple[Mapping[str, str], Token | None]:
        """The request headers, and the token they carry (None for non-bearer APIs)."""
        if self._kind != "bearer":
            return self._unsigned()
        return self._bearer(self._refresher.current() or await self._refresher.token())

    def _bearer(self, token: Token) -> tuple[Mapping[str, str], Token]:
        """The headers carrying `token`, made once per token (nothing changes them)."""
        last = self._last
        if last is None or last[1] is not token:
            headers = request_headers({"Authorization": f"Bearer {token.access_token}", **self.extra})
            last = self._last = headers, token
        return last

    def _unsigned(self) -> tuple[Mapping[str, str], None]:
        if self._fixed is None:
            raise ConfigurationError("the D.Collection API needs dcollection_credentials=(id, secret)")
        return self._fixed, None

    async def after_rejection(self, rejected: Token) -> None:
        """The server answered 401 to `rejected`: refresh, unless someone already has."""
        await self._refresher.after_rejection(rejected)
