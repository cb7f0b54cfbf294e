"""Putting one request on the wire, on the shared connection pool.

This is the only module that talks to aiohttp. It reads the whole body before
returning, so the connection goes back to the pool at once, and it turns every
aiohttp failure into the library's connection errors. A request's `total` time
limit is kept by the client's `Deadlines` (one timer for every request in
flight) rather than by a timer per request; aiohttp keeps the other limits.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import aiohttp
import attrs
from multidict import CIMultiDict, CIMultiDictProxy, istr
from yarl import URL

from cafe24_async.deadlines import Deadlines
from cafe24_async.errors import Cafe24ConnectionError, Cafe24TimeoutError, ClientClosedError


@attrs.frozen(slots=True)
class TimeoutSettings:
    """Seconds allowed for each phase of a request (None: no limit).

    The defaults suit both one-off calls and long exports: connecting is quick
    or broken, a page of 1,000 orders can take a while to produce, and no single
    request should hang for ever (`total` ends a stalled answer).

    `read` (the longest silence while an answer arrives) is off by default:
    aiohttp re-arms its timer for every chunk received, which costs about 10 µs
    of CPU per request, and `total` already bounds an answer that stops coming.
    Set it to fail a stalled answer sooner.
    """

    connect: float | None = 10.0
    read: float | None = None
    total: float | None = 120.0
    #: aiohttp's form of these limits, and the same without `total` (made once).
    whole: aiohttp.ClientTimeout = attrs.field(init=False, eq=False, repr=False)
    phases: aiohttp.ClientTimeout = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        phases = aiohttp.ClientTimeout(sock_connect=self.connect, connect=self.connect, sock_read=self.read)
        object.__setattr__(self, "phases", phases)
        object.__setattr__(self, "whole", attrs.evolve(phases, total=self.total))

    def to_aiohttp(self) -> aiohttp.ClientTimeout:
        return self.whole


@attrs.frozen(slots=True)
class PoolSettings:
    """The shared connector: one pool for every mall."""

    #: Open connections in all.
    limit: int = 100
    #: Open connections to one host (each mall has its own host).
    limit_per_host: int = 20
    dns_cache_seconds: int = 300
    keepalive_seconds: float = 30.0


class RawResponse(NamedTuple):
    """A whole answer (a tuple: the cheapest immutable record, made once per request)."""

    status: int
    headers: CIMultiDictProxy[str]
    body: bytes


def header_name(name: str) -> str:
    """`name` in the form aiohttp's header tables look up fastest (its lower-case form
    is worked out once, not on every lookup); it is still a `str` equal to `name`."""
    return istr(name)


def request_headers(headers: Mapping[str, str]) -> CIMultiDictProxy[str]:
    """Headers to send many times, in the form aiohttp keeps them (it copies a plain
    dict into this form on every request)."""
    return CIMultiDictProxy(CIMultiDict(headers))


def new_session(
    pool: PoolSettings,
    timeout: TimeoutSettings,
    trace_configs: Sequence[aiohttp.TraceConfig] | None = None,
) -> aiohttp.ClientSession:
    connector = aiohttp.TCPConnector(
        limit=pool.limit,
        limit_per_host=pool.limit_per_host,
        ttl_dns_cache=pool.dns_cache_seconds,
        keepalive_timeout=pool.keepalive_seconds,
    )
    session = aiohttp.ClientSession(
        connector=connector,
        # The APIs authenticate every request by its headers and set no cookie
        # that matters; a jar would only cost each request a lookup and an update.
        cookie_jar=aiohttp.DummyCookieJar(),
        timeout=timeout.to_aiohttp(),
        trace_configs=list(trace_configs) if trace_configs else None,
        raise_for_status=False,
        auto_decompress=True,
    )
    # aiohttp silently sends an idempotent request again when a kept-alive
    # connection turns out closed. That copy would skip the mall's bucket, the
    # retry budget and the retry counters, so the request path retries instead.
    if hasattr(session, "_retry_connection"):
        session._retry_connection = False
    return session


async def send(
    session: aiohttp.ClientSession,
    method: str,
    url: str | URL,
    *,
    query: Sequence[tuple[str, str]] | None,
    json_body: Any,
    headers: Mapping[str, str],
    label: str,
    limits: TimeoutSettings | None = None,
    deadlines: Deadlines | None = None,
    form_body: Mapping[str, str] | None = None,
) -> RawResponse:
    """Send one request and read its whole answer.

    `label` names the call in errors (method and documented path), so that a
    URL holding the mall's query values never ends up in a message. `limits`
    replace the session's time limits (None: keep them); with `deadlines`, their
    `total` is kept there. `form_body` is sent URL-encoded (the OAuth token
    calls), instead of `json_body`.
    """
    task = None
    if limits is not None and limits.total is not None and deadlines is not None:
        task = deadlines.enter(limits.total)
    # aiohttp reads `timeout=None` as "no limit at all": the session's own is `session.timeout`.
    timeout = session.timeout if limits is None else limits.whole if task is None else limits.phases
    timed_out = False
    try:
        try:
            async with session.request(
                method,
                url,
                params=query or None,
                json=json_body,
                data=None if form_body is None else dict(form_body),
                headers=headers,
                allow_redirects=False,
                timeout=timeout,
            ) as resp:
                body = await resp.read()
                return RawResponse(resp.status, resp.headers, body)
        finally:
            if task is not None and deadlines is not None:
                timed_out = deadlines.leave(task)
    except RuntimeError:
        if session.closed:  # aiohttp refuses a closed session's requests this way
            raise ClientClosedError(f"{label}: the client's connection pool is closed") from None
        raise
    except asyncio.CancelledError:
        if not timed_out:
            raise  # cancelled by someone else: it stays a cancellation
        raise Cafe24TimeoutError(f"{label}: timed out") from None
    except (TimeoutError, aiohttp.ClientError, ConnectionError) as exc:
        raise _library_error(exc, label, timed_out) from exc


def _library_error(exc: Exception, label: str, timed_out: bool) -> Cafe24ConnectionError:
    """The library's error for what aiohttp raised."""
    if timed_out or isinstance(exc, TimeoutError):
        return Cafe24TimeoutError(f"{label}: timed out")
    if isinstance(exc, aiohttp.ClientConnectorError):
        return ConnectFailed(f"{label}: could not connect ({type(exc).__name__})")
    return Cafe24ConnectionError(f"{label}: {type(exc).__name__}")


class ConnectFailed(Cafe24ConnectionError):
    """No connection was made, so the request certainly did not reach the server."""
