"""A valid access token for one mall, refreshed once for everyone who needs it.

Any number of tasks may ask for a token at the same moment; when it is expired
(or close to it) exactly one of them refreshes, under the mall's lock, and the
others get the result. Before spending the refresh token the store is read
again, so a refresh already done by another task or process is picked up instead
of spending the (rotated, single-use) refresh token twice. The new pair is saved
to the store before anyone uses it.

Two windows, as in aiobotocore's refreshable credentials:
- advisory (`refresh_margin`, default 5 min before expiry): refresh now; if the
  refresh fails on the network the current token is still good, so use it;
- mandatory (`required_margin`, default 30 s): a failed refresh is an error.

A refresh, once sent, is finished even if the caller is cancelled: the server
may already have rotated the refresh token, and the new pair must reach the
store or the mall would have to be authorised again. The cancelled caller waits
for that one token request (and its retries), then sees its cancellation.

Which failures of the token endpoint are retried (`auth.token_retry`, within the
client's `RetrySettings` and the mall's `RetryBudget`, sleeping on its clock):
- 429, 500, 502, 503, 504, connection errors and timeouts are retried. Such a
  failure may or may not have rotated the refresh token, but a retry cannot
  burn more than the first attempt already did: if the first attempt rotated
  it, the retry gets `invalid_grant` and the mall has to be authorised again,
  exactly as without the retry; if it did not, the retry saves the mall.
- A 2xx whose answer cannot be read (no or a garbage `expires_at`, not UTF-8,
  not JSON) is not retried: the refresh token was certainly spent, so a retry
  could only be rejected. It raises `DecodeError` and the store keeps the last
  good pair, never the damaged one.
- `invalid_grant` is not retried: the refresh token is dead. It is remembered
  (as a digest, never the token), so every waiter gets `ReauthorizeError` at once
  and no second token request spends the same dead token; the mark is gone as
  soon as the store holds a different refresh token (the mall was authorised
  again, here or by another process).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import Awaitable, Callable, Coroutine
from datetime import datetime, timedelta
from typing import Any

from cafe24_async.auth.stores import TokenStore
from cafe24_async.auth.token import Token
from cafe24_async.auth.token_retry import NO_RETRY, TokenRetry
from cafe24_async.backoff import RetryBudget, RetrySettings
from cafe24_async.clock import Clock
from cafe24_async.errors import Cafe24ConnectionError, RateLimitError, ReauthorizeError, ServerError

log = logging.getLogger("cafe24_async.auth")

RefreshCall = Callable[[str], Awaitable[Token]]


class TokenRefresher:
    def __init__(
        self,
        mall_id: str,
        store: TokenStore,
        refresh_call: RefreshCall,
        clock: Clock,
        refresh_margin: float = 300.0,
        required_margin: float = 30.0,
        retry: RetrySettings = NO_RETRY,
        budget: RetryBudget | None = None,
    ) -> None:
        self.mall_id = mall_id
        self.store = store
        self.refresh_margin = refresh_margin
        self.required_margin = required_margin
        self._refresh_call = refresh_call
        self._clock = clock
        self._retry = TokenRetry(mall_id, clock, retry, budget or RetryBudget(retry))
        self._token: Token | None = None
        #: The token last asked about, and the moment it has only `refresh_margin` seconds left.
        self._fresh: tuple[Token | None, datetime] = (None, datetime.min)
        self._lock = asyncio.Lock()
        #: Digest of the refresh token the server rejected, and why (see the module docstring).
        self._dead: tuple[bytes, str] | None = None
        #: Successful refreshes made by this refresher.
        self.refreshes = 0

    def __repr__(self) -> str:
        return f"TokenRefresher(mall_id={self.mall_id!r}, refreshes={self.refreshes})"

    def _left(self, token: Token) -> float:
        return token.seconds_left(self._clock.now())

    def current(self) -> Token | None:
        """The cached token if it is valid for more than `refresh_margin` seconds, else
        None (then `token()` loads or refreshes one). Never waits: the request path's
        shortcut."""
        cached = self._token
        return cached if cached is not None and self._is_fresh(cached) else None

    def _is_fresh(self, token: Token) -> bool:
        """True while `token` has more than `refresh_margin` seconds left (the moment that
        ends is worked out once per token: the request path asks on every call)."""
        if token is not self._fresh[0]:
            self._fresh = token, token.expires_at - timedelta(seconds=self.refresh_margin)
        return self._clock.now() < self._fresh[1]

    async def token(self) -> Token:
        """A token valid for at least `refresh_margin` seconds (or the best still valid)."""
        cached = self.current()
        if cached is not None:
            return cached
        return await self._renew(rejected=None)

    async def after_rejection(self, rejected: Token) -> Token:
        """The server answered 401 to `rejected`: refresh once, unless someone already has."""
        return await self._renew(rejected=rejected)

    def _usable(self, token: Token, rejected: Token | None) -> bool:
        if rejected is not None:
            return token.access_token != rejected.access_token and self._left(token) > 0
        return self._is_fresh(token)

    async def _load(self) -> Token:
        token = await self.store.load(self.mall_id)
        if token is None:
            raise ReauthorizeError(self.mall_id, "no token stored for this mall")
        return token

    async def _renew(self, rejected: Token | None) -> Token:
        async with self._lock:
            token = await self._load()
            if self._usable(token, rejected):
                self._token = token
                return token
            self._check_spendable(token)
            async with self.store.refresh_lock(self.mall_id):
                token = await self._load()
                if self._usable(token, rejected):
                    self._token = token
                    return token
                return await self._refresh(token, rejected)

    def _check_spendable(self, token: Token) -> str:
        """`token`'s refresh token, or `ReauthorizeError` when it cannot be spent."""
        refresh = token.refresh_token
        if not refresh:
            raise ReauthorizeError(self.mall_id, "no refresh token stored")
        if token.refresh_token_expired(self._clock.now()):
            raise ReauthorizeError(self.mall_id, "the refresh token has expired")
        if self._dead is not None and self._dead[0] == _digest(refresh):
            raise ReauthorizeError(self.mall_id, self._dead[1])
        return refresh

    async def _refresh(self, current: Token, rejected: Token | None) -> Token:
        refresh = self._check_spendable(current)
        try:
            new = await _finish_despite_cancel(self._spend(refresh))
        except ReauthorizeError as exc:
            self._dead = (_digest(refresh), f"the server rejected the refresh token: {exc.reason}")
            raise
        except (Cafe24ConnectionError, ServerError, RateLimitError) as exc:
            still_good = rejected is None and self._left(current) > self.required_margin
            if still_good:
                log.warning(
                    "token refresh for mall %s failed (%s); using the current token, "
                    "valid %.0fs more", self.mall_id, type(exc).__name__, self._left(current),
                )
                self._token = current
                return current
            raise
        self._token = new
        self.refreshes += 1
        log.info("refreshed the access token of mall %s", self.mall_id)
        return new

    async def _spend(self, refresh_token: str) -> Token:
        """Trade `refresh_token` for a new pair and save it before anyone uses it."""
        new = await self._retry.run(lambda: self._refresh_call(refresh_token))
        await self.store.save(self.mall_id, new)
        return new


def _digest(refresh_token: str) -> bytes:
    """What the refresher remembers of a dead refresh token: enough to recognise it."""
    return hashlib.sha256(refresh_token.encode()).digest()


async def _finish_despite_cancel(work: Coroutine[Any, Any, Token]) -> Token:
    """Run `work` to its end even when the caller is cancelled meanwhile; then
    re-raise the cancellation (the result is in the store, not lost)."""
    task = asyncio.ensure_future(work)
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        while not task.done():
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait([task])
        if not task.cancelled():
            task.exception()  # retrieved: a failure here is not worth a warning
        raise
