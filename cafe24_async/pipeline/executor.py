"""The request loop: one call of one mall, through every stage, until a value or an error.

    while True:
        answer = send once      pace (a permit) + authorise + transport + observe
        value or error = decode
        RetryPolicy decides     return, raise, refresh the token, or wait and retry

Everything the loop needs arrives built and connected: a `Lane` per API (its
base URL, pacer and authoriser), the client's lifecycle (session, closing,
pauses that `close()` cuts short), the clock, the retry settings and the mall's
retry budget and counters. It never sees the client.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable, Coroutine, Iterable
from typing import Any, Protocol

import aiohttp
import attrs
from yarl import URL

from cafe24_async import transport
from cafe24_async.auth.token import Token
from cafe24_async.backoff import RetryBudget, RetrySettings
from cafe24_async.clock import Clock
from cafe24_async.deadlines import Deadlines
from cafe24_async.errors import (
    APIError,
    Cafe24ConnectionError,
    Cafe24Error,
    Cafe24TimeoutError,
    ClientClosedError,
    DecodeError,
    RateLimitError,
)
from cafe24_async.pipeline.authorise import Authoriser
from cafe24_async.pipeline.build import PreparedRequest
from cafe24_async.pipeline.decode import read_answer, version_error
from cafe24_async.pipeline.pace import Pacer
from cafe24_async.pipeline.retry import RAISE, REFRESH, RetryPolicy
from cafe24_async.stats import MallStats
from cafe24_async.transport import RawResponse, TimeoutSettings

log = logging.getLogger("cafe24_async.request")

#: The header that pins the API version.
VERSION_HEADER = "X-Cafe24-Api-Version"

#: A call's timeout: seconds for the whole call, or per-request limits, or the client's.
CallTimeout = float | TimeoutSettings | None


class Lifecycle(Protocol):
    """What the loop needs of the client that owns the connection pool."""

    @property
    def session(self) -> aiohttp.ClientSession:
        """The connection pool; raises `ClientClosedError` once the client is closed."""

    @property
    def closed(self) -> bool: ...

    @property
    def limits(self) -> TimeoutSettings | None:
        """Every request's time limits (None: the session's own, when the session was given)."""

    @property
    def deadlines(self) -> Deadlines:
        """Where the `total` limit of every request in flight is kept."""

    async def pause(self, seconds: float) -> None:
        """Sleep before a retry; `close()` cuts it short with `ClientClosedError`."""


@attrs.frozen(slots=True)
class Lane:
    """Where and how one API's calls go for one mall, resolved once."""

    base_url: str
    pacer: Pacer
    authoriser: Authoriser
    #: `scheme://authority` of `base_url` and its path prefix; None when it is not a plain URL.
    parts: tuple[URL, str] | None = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "parts", _url_parts(self.base_url))

    def url(self, path: str) -> URL | str:
        """The request URL, put together without parsing (`path` is already encoded)."""
        if self.parts is None:
            return self.base_url + path
        root, prefix = self.parts
        return root.with_path(prefix + path, encoded=True)


class Executor:
    """Runs prepared calls of one mall."""

    def __init__(
        self, mall_id: str, lifecycle: Lifecycle, clock: Clock, retry: RetrySettings,
        budget: RetryBudget, stats: MallStats, lane: Callable[[str], Lane],
        secrets: Callable[[Token | None], Iterable[str | None]],
    ) -> None:
        self.mall_id, self.lifecycle, self.clock = mall_id, lifecycle, clock
        self.retry, self.budget, self.stats = retry, budget, stats
        self.lane, self.secrets = lane, secrets
        self._rng = random.Random()

    def run(self, prepared: PreparedRequest, timeout: CallTimeout = None,
            retry_writes: bool = False) -> Coroutine[Any, Any, Any]:
        """The value of one call, to await; seconds in `timeout` bound the whole call,
        retries included."""
        if timeout is None or isinstance(timeout, TimeoutSettings):
            return self._loop(prepared, timeout, retry_writes)  # no wrapper: one frame less per call
        return self._bounded(prepared, timeout, retry_writes)

    async def _bounded(self, prepared: PreparedRequest, timeout: float, retry_writes: bool) -> Any:
        try:
            async with asyncio.timeout(timeout):
                return await self._loop(prepared, timeout, retry_writes)
        except TimeoutError as exc:
            if isinstance(exc, Cafe24Error):
                raise
            route = prepared.route
            raise Cafe24TimeoutError(
                f"no answer within the call's {timeout:g}s timeout", route.method, route.path
            ) from None

    async def _loop(self, prepared: PreparedRequest, timeout: CallTimeout, retry_writes: bool) -> Any:
        route = prepared.route
        lane = self.lane(route.api)
        policy: RetryPolicy | None = None  # made at the first failure
        started = self.clock.monotonic()
        while True:
            raw, error, token = await self._send_once(lane, prepared, timeout)
            retry_after = None
            if raw is not None:
                value, error, retry_after = read_answer(raw, route, self.secrets, token, self.clock)
                if error is None:
                    self.budget.refund()
                    return value
                error = version_error(error, lane.authoriser.extra.get(VERSION_HEADER))
            assert error is not None
            if isinstance(error, RateLimitError):
                self.stats.throttled += 1
            if policy is None:
                policy = RetryPolicy(self.retry, self.budget, self._rng, route.method, retry_writes)
            decision = policy.decide(error, elapsed=self.clock.monotonic() - started,
                                     retry_after=retry_after, token_sent=token is not None)
            if decision is REFRESH and token is not None:
                await lane.authoriser.after_rejection(token)
                continue
            if decision is RAISE:
                raise error
            self._log_retry(prepared, error, policy.attempts, decision.delay)
            if decision.delay > 0:
                await self.lifecycle.pause(decision.delay)

    async def _send_once(
        self, lane: Lane, prepared: PreparedRequest, timeout: CallTimeout
    ) -> tuple[RawResponse | None, Cafe24Error | None, Token | None]:
        """One attempt: (answer, None, token sent) or (None, connection error, token sent)."""
        lifecycle, stats = self.lifecycle, self.stats
        session = lifecycle.session  # raises ClientClosedError once the client is closed
        route, shape = prepared.route, prepared.shape
        per_request, deadline = (timeout, None) if isinstance(timeout, TimeoutSettings) else (None, timeout)
        debug = log.isEnabledFor(logging.DEBUG)
        queued = self.clock.monotonic() if debug else 0.0
        pacer = lane.pacer
        permit = pacer.try_admit(route) or await pacer.admit(route, deadline)
        try:
            ready = lane.authoriser.ready()
            headers, token = ready if ready is not None else await lane.authoriser.headers()
            stats.requests += 1
            stats.by_route[shape.qualified_name] += 1
            sent = self.clock.monotonic() if debug else 0.0
            try:
                raw = await transport.send(
                    session, route.method, lane.url(prepared.path), query=prepared.query,
                    json_body=prepared.body, headers=headers, label=shape.label,
                    limits=per_request or lifecycle.limits, deadlines=lifecycle.deadlines,
                )
            except Cafe24ConnectionError as exc:
                if lifecycle.closed:
                    raise ClientClosedError("the Cafe24 client was closed during the call") from None
                stats.connection_errors += 1
                return None, exc, token
            pacer.observe(permit, raw.status, raw.headers)
        finally:
            pacer.release(permit)
        stats.statuses[raw.status] += 1
        if debug:
            self._log_answer(shape.qualified_name, raw, queued, sent)
        return raw, None, token

    def _log_answer(self, name: str, raw: RawResponse, queued: float, sent: float) -> None:
        took, waited = self.clock.monotonic() - sent, sent - queued
        bucket = raw.headers.get("X-Api-Call-Limit") or raw.headers.get("X-RateLimit-Remaining")
        log.debug("%s on mall %s: HTTP %d in %.0f ms (waited %.0f ms to send; bucket %s)",
                  name, self.mall_id, raw.status, took * 1000, waited * 1000, bucket or "not reported",
                  extra={"mall_id": self.mall_id, "route": name, "seconds": took, "waited": waited,
                         "bucket": bucket})

    def _log_retry(self, prepared: PreparedRequest, error: Cafe24Error, attempt: int, delay: float) -> None:
        self.stats.retries += 1
        name = prepared.route.qualified_name
        trace_id = getattr(error, "trace_id", None)
        log.debug(
            "retrying %s on mall %s after %s (attempt %d, wait %.2fs)",
            name, self.mall_id, _describe(error), attempt, delay,
            extra={"mall_id": self.mall_id, "route": name, "attempt": attempt, "delay": delay,
                   "error": _describe(error), "trace_id": trace_id},
        )


def _url_parts(base: str) -> tuple[URL, str] | None:
    """(`scheme://authority`, path prefix) of a base URL; None when it is not a plain
    `scheme://host[:port][/prefix]` (then each request's URL is parsed whole)."""
    parsed = URL(base)
    if not parsed.absolute or parsed.raw_query_string or parsed.raw_fragment or parsed.raw_user:
        return None
    root = URL.build(scheme=parsed.scheme, authority=parsed.raw_authority, encoded=True)
    return root, parsed.raw_path.rstrip("/")


def _describe(error: Cafe24Error) -> str:
    if isinstance(error, DecodeError):
        return f"DecodeError (HTTP {error.status}, unreadable body)"
    if isinstance(error, APIError):
        return f"HTTP {error.status}" + (f", trace_id {error.trace_id}" if error.trace_id else "")
    return type(error).__name__
