"""What a `Mall` is given by its client: a narrow context, not the client itself.

The client builds one `MallContext` and hands it to every mall it makes. It
holds the settings, the clock, the lifecycle (connection pool, closing, pauses),
the base URL of each API, the credentials, the token store, how to build a
pacing object, and how to spend a refresh token. Nothing else of the client
reaches a mall.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

import attrs

from cafe24_async.auth.oauth import basic_auth
from cafe24_async.auth.stores import TokenStore
from cafe24_async.auth.token import Token
from cafe24_async.backoff import RetrySettings
from cafe24_async.clock import Clock
from cafe24_async.pipeline.build import UnknownParams
from cafe24_async.pipeline.executor import Lifecycle
from cafe24_async.ratelimit.limiter import Limiter, RateLimitSettings
from cafe24_async.ratelimit.quota import QuotaSettings
from cafe24_async.routes.apis import ApiDefinition
from cafe24_async.stats import MallStats


@attrs.frozen(slots=True, repr=False)
class Credentials:
    """The app's credentials (never shown: the repr names the client id only)."""

    client_id: str
    client_secret: str | None = None
    #: D.Collection partner id and secret.
    partner: tuple[str, str] | None = None
    #: The Front API key: Front calls then carry Basic `client_id:front_api_key`.
    front_api_key: str | None = None
    _secrets: tuple[str, ...] = attrs.field(init=False, default=())

    def __attrs_post_init__(self) -> None:
        pairs = [(self.client_id, self.client_secret or ""), (self.client_id, self.front_api_key or "")]
        if self.partner is not None:
            pairs.append(self.partner)
        forms = tuple(
            form for ident, secret in pairs if secret
            for form in (secret, basic_auth(ident, secret).removeprefix("Basic "))
        )
        object.__setattr__(self, "_secrets", forms)

    def __repr__(self) -> str:
        return f"Credentials(client_id={self.client_id!r})"

    def headers(self, api: ApiDefinition) -> dict[str, str] | None:
        """The fixed headers of a non-bearer API (None: not configured)."""
        if api.auth == "client_id":
            if self.front_api_key:  # an authenticated Front call gets the higher limit
                return {"X-Cafe24-Client-Id": self.client_id,
                        "Authorization": basic_auth(self.client_id, self.front_api_key)}
            return {"X-Cafe24-Client-Id": self.client_id}
        if api.auth == "basic":
            return None if self.partner is None else {"Authorization": basic_auth(*self.partner)}
        return {}

    def secrets(self) -> tuple[str, ...]:
        """Every secret and its Basic-auth form, for masking wherever a server echoes them."""
        return self._secrets


@attrs.frozen(slots=True)
class MallContext:
    rate_limit: RateLimitSettings
    retry: RetrySettings
    quota: QuotaSettings
    typed: bool
    #: What a call does with an undocumented name or code: "error", "warn" or "send".
    unknown_params: UnknownParams
    refresh_margin: float
    clock: Clock
    lifecycle: Lifecycle
    credentials: Credentials
    token_store: TokenStore
    #: Base URL template of each API by name (`{mall_id}` filled in per mall).
    base_urls: Mapping[str, str]
    #: Headers every request carries (the pinned API version).
    extra_headers: Mapping[str, str]
    #: A pacing object of a kind for one mall: `(kind, mall_id, stats) -> Limiter`.
    new_limiter: Callable[[str, str, MallStats], Limiter]
    #: Spend a refresh token: `(mall_id, refresh_token) -> new pair`.
    refresh: Callable[[str, str], Awaitable[Token]]

    def base_url(self, api: str, mall_id: str) -> str:
        return self.base_urls[api].replace("{mall_id}", mall_id)
