"""The request pipeline: one aiohttp handler in front of every route.

For each request: find the mall and the documented route, record the request,
then for API routes run the mall's usage quotas (a block refuses everything),
the throttle the API definition names (the leaky bucket shared by Admin and
Front, the Analytics token bucket per mall, the D.Collection fixed window per
client IP), the credential check, the fault draw and the resource handler, and
encode the answer with the documented error body and the throttle's and
quotas' headers.
Paths are matched from the raw path, segment by segment, so percent-encoded
and Korean placeholders (and encoded slashes inside them) work.
"""

from __future__ import annotations

import asyncio
import json
import math
import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import unquote

import attrs
from aiohttp import web

from cafe24_async.routes import APIS, Route
from cafe24_async.sandbox import bulk, gate, oauth
from cafe24_async.sandbox.context import Handler, RequestContext
from cafe24_async.sandbox.encoding import Encoded, dump_json
from cafe24_async.sandbox.errors import ApiError, error_body
from cafe24_async.sandbox.faults import (
    HTML_PAGE,
    Fault,
    FaultKind,
    hostile_payload,
    retry_after_header,
)
from cafe24_async.sandbox.records import RecordedRequest
from cafe24_async.sandbox.resources import bind_read
from cafe24_async.sandbox.routing import Match, RouteTree
from cafe24_async.sandbox.state import MallState, SandboxState
from cafe24_async.sandbox.usage import Verdict
from cafe24_async.sandbox.writes import bind_write

MALL_ID = re.compile(r"^[a-z0-9_-]{1,50}$")
LIMIT_HEADER = "X-Api-Call-Limit"
#: APIs also served without a mall prefix, as their real hosts have none.
ROOT_APIS = frozenset({"analytics", "dcollection"})
OAUTH_AUTHORIZE = "/api/v2/oauth/authorize"
OAUTH_TOKEN = "/api/v2/oauth/token"


@attrs.frozen(slots=True)
class Endpoint:
    route: Route
    handler: Handler
    auth: str
    #: The throttle kind of the route's API: "leaky_bucket", "token_bucket" or "fixed_window".
    limiter: str
    #: True for the APIs of one mall, which its usage quotas meter.
    per_mall: bool
    #: Query params naming the mall (Analytics: `mall_id`).
    mall_query: tuple[str, ...] = ()


def _endpoint(route: Route) -> Endpoint:
    handler = bind_read(route) if route.method == "GET" else bind_write(route)
    handler = bulk.bind(route, handler)  # write faults, bulk calls, stale reads
    api = APIS[route.api]
    return Endpoint(route, handler, api.auth, api.limiter, api.per_mall, api.mall_query)


def _segments(raw_path: str) -> list[str]:
    parts = raw_path.split("/")[1:]
    if "%" in raw_path:
        return [unquote(part) for part in parts]
    return parts


def _json_response(status: int, payload: Any, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(
        status=status,
        body=dump_json(payload),
        headers=headers,
        content_type="application/json",
        charset="utf-8",
    )


class Dispatcher:
    """Routes every request of one sandbox."""

    def __init__(self, state: SandboxState, routes: Iterable[Route]) -> None:
        self.state = state
        self.anonymous_front = gate.AnonymousFrontLimit(state.config.front_anonymous_per_second)
        self._mall_tree: RouteTree[Endpoint] = RouteTree()
        self._root_tree: RouteTree[Endpoint] = RouteTree()
        for route in routes:
            endpoint = _endpoint(route)
            self._mall_tree.add(route.method, route.path, endpoint)
            if route.api in ROOT_APIS:
                self._root_tree.add(route.method, route.path, endpoint)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        raw_path = request.rel_url.raw_path
        segments = _segments(raw_path)
        method = request.method
        query = request.query
        raw_body = await request.read() if request.body_exists else b""
        mall_id: str | None = segments[0] if segments and MALL_ID.match(segments[0]) else None
        match: Match[Endpoint] | None = None
        known = False
        at_root = False
        if mall_id is not None:
            rest = segments[1:]
            if len(rest) == 4 and rest[:3] == ["api", "v2", "oauth"]:
                return self._oauth(request, mall_id, rest[3], raw_path, raw_body)
            match, known = self._mall_tree.match(method, rest)
        if match is None and not known:
            root_match, root_known = self._root_tree.match(method, segments)
            if root_match is not None or root_known:
                match, known, at_root = root_match, root_known, True
                mall_id = self._root_mall(root_match, query, request)
        body = _parse_json(raw_body)
        record = RecordedRequest(
            mall_id=mall_id or "",
            method=method,
            path=match.target.route.path if match is not None else None,
            raw_path=raw_path,
            query=dict(query),
            json=body,
            headers=dict(request.headers),
            api=match.target.route.api if match is not None else None,
            at=self.state.config.clock(),
        )
        self.state.log.record(record)
        if mall_id is None:
            record.status = 404
            return _json_response(404, error_body(404, "unknown mall or path"))
        mall = self.state.mall(mall_id)
        missing = at_root and match is not None and any(not query.get(n) for n in match.target.mall_query)
        response = await self._api(request, mall, match, known, raw_body, body, missing)
        record.status = response.status if response is not None else None
        if response is None:
            transport = request.transport
            if transport is not None:
                transport.close()
            return web.Response(status=500)
        return response

    def _root_mall(
        self, match: Match[Endpoint] | None, query: Mapping[str, str], request: web.Request
    ) -> str:
        """The mall of a request without a mall prefix (Analytics names it in the query)."""
        explicit = query.get("mall_id")
        if explicit:
            return explicit
        if match is not None and match.target.auth == "bearer":
            token = _bearer(request.headers)
            owner = self.state.tokens.mall_of(token) if token else None
            if owner:
                return owner
        return ""

    async def _api(
        self,
        request: web.Request,
        mall: MallState,
        match: Match[Endpoint] | None,
        known: bool,
        raw_body: bytes,
        body: Any,
        missing_mall: bool = False,
    ) -> web.Response | None:
        """The answer to an API request; None means drop the connection."""
        state = self.state
        config = state.config
        stats = mall.stats
        stats.requests += 1
        headers: dict[str, str] = {}
        limiter = match.target.limiter if match is not None else "leaky_bucket"
        usage = mall.usage
        metered = usage.enabled and (match is None or match.target.per_mall)
        truncate = False
        try:
            if metered and usage.is_blocked():
                self._quota_refusal(mall, usage.refuse(request.method))
                if limiter == "leaky_bucket":
                    headers[LIMIT_HEADER] = mall.bucket.header(math.ceil(mall.bucket.peek()))
                raise ApiError(429, "Too Many Requests: the mall's API usage quota is used up")
            self._throttle(request, mall, limiter, headers)
            if metered:
                verdict = usage.admit(request.method)
                if verdict is not Verdict.ADMITTED:
                    self._quota_refusal(mall, verdict)
                    raise ApiError(429, "Too Many Requests: the mall's API usage quota is used up")
            if match is None:
                if known:
                    raise ApiError(405, f"method {request.method} is not allowed on this path")
                raise ApiError(404, "No API found for the requested URL")
            endpoint = match.target
            self._authorize(endpoint, mall.mall_id, request)
            gate.check_version(config, request.headers)
            if missing_mall:
                raise ApiError(422, f"{', '.join(endpoint.mall_query)}: is required")
            fault = mall.faults.next()
            if fault.kind is not FaultKind.NONE:
                if fault.kind is FaultKind.ERROR:
                    stats.errors_injected += 1
                    raise ApiError(fault.status, "Injected server error")
                if fault.kind is FaultKind.DROP:
                    stats.dropped += 1
                    return None
                if fault.kind is FaultKind.THROTTLE:
                    raise ApiError(429, "Too Many Requests: the API call limit was exceeded")
                if fault.kind is FaultKind.SLOW:
                    stats.slowed += 1
                    await asyncio.sleep(state.faults.slow_seconds)
                elif fault.kind is FaultKind.TRUNCATE and endpoint.route.method == "GET":
                    stats.truncated += 1
                    truncate = True
            context = RequestContext(
                route=endpoint.route,
                mall=mall,
                method=request.method,
                params=match.params,
                query=request.query,
                body=body,
                raw_body=raw_body,
                content_type=request.content_type,
            )
            status, payload = endpoint.handler(context)
            if fault.kind in HOSTILE_KINDS and status == 200 and endpoint.route.method == "GET":
                hostile = _hostile(fault, endpoint.route, payload)
                if hostile is not None:
                    stats.hostile += 1
                    status, payload = hostile
        except bulk.AnswerLost:  # the write was carried out; its answer is lost
            stats.dropped += 1
            return None
        except ApiError as error:
            status, payload = error.status, error.body()
            if error.retry_after is not None:
                headers["Retry-After"] = f"{error.retry_after:.3f}"
            if state.faults.echo_credentials:
                payload = _echo_credentials(payload, request.headers)
        if metered:
            headers.update(usage.headers())
        content_type = "application/json"
        if isinstance(payload, HtmlPage):
            encoded, content_type = payload.data, "text/html"
        else:
            encoded = payload.data if isinstance(payload, Encoded) else dump_json(payload)
        if truncate:
            status, encoded = 200, encoded[: len(encoded) // 2]
        retry_after = retry_after_header(state.faults, status, config.now())
        if retry_after is not None:
            headers["Retry-After"] = retry_after
        if config.latency:
            await asyncio.sleep(config.latency)
        stats.count_status(status)
        if status >= 400:
            headers["x-trace_id"] = gate.trace_id()
        return web.Response(
            status=status,
            body=encoded,
            headers=headers,
            content_type=content_type,
            charset="utf-8",
        )

    def _throttle(self, request: web.Request, mall: MallState, limiter: str, headers: dict[str, str]) -> None:
        """Count the request against its API's throttle; 429 when it is full."""
        if limiter == "token_bucket":
            admitted = mall.tokens.take()
            headers.update(mall.tokens.headers())
            if not admitted:
                raise ApiError(429, "Too Many Requests: the bucket has no token left")
        elif limiter == "fixed_window":
            admitted, window_headers = self.state.window(request.remote).hit()
            headers.update(window_headers)
            if not admitted:
                raise ApiError(429, "Too Many Attempts.")
        else:
            admitted, used = mall.bucket.acquire()
            headers[LIMIT_HEADER] = mall.bucket.header(used)
            if not admitted:
                raise ApiError(429, "Too Many Requests: the API call limit was exceeded")

    @staticmethod
    def _quota_refusal(mall: MallState, verdict: Verdict) -> None:
        mall.stats.quota_refused += 1
        if verdict is Verdict.DURING_BLOCK:
            mall.stats.calls_during_block += 1

    def _authorize(self, endpoint: Endpoint, mall_id: str, request: web.Request) -> None:
        config = self.state.config
        if endpoint.auth == "client_id":
            if request.headers.get("X-Cafe24-Client-Id") != config.client_id:
                raise ApiError(401, "X-Cafe24-Client-Id is missing or invalid")
            if not gate.front_key_state(config, request.headers):
                self.anonymous_front.admit(mall_id, config.clock())
            return
        if endpoint.auth == "basic":
            if not oauth.client_ok(config, request.headers.get("Authorization")):
                raise ApiError(401, "client credentials are missing or invalid")
            return
        token = _bearer(request.headers)
        if token is None:
            raise ApiError(401, "Authorization: Bearer <access_token> is required")
        problem = self.state.tokens.check_access(mall_id or None, token)
        if problem is not None:
            raise ApiError(401, problem)
        gate.check_scope(endpoint.route, self.state.tokens.scopes_of(token))

    def _oauth(
        self, request: web.Request, mall_id: str, action: str, raw_path: str, raw_body: bytes
    ) -> web.Response:
        state = self.state
        form = oauth.parse_form(raw_body) if raw_body else {}
        path = f"/api/v2/oauth/{action}"
        record = RecordedRequest(
            mall_id=mall_id,
            method=request.method,
            path=path if path in (OAUTH_AUTHORIZE, OAUTH_TOKEN) else None,
            raw_path=raw_path,
            query=dict(request.query),
            json=None,
            headers=dict(request.headers),
            api="oauth",
            form=form or None,
        )
        state.log.record(record)
        if path == OAUTH_AUTHORIZE and request.method == "GET":
            response = oauth.authorize(state.config, state.tokens, mall_id, request.query)
        elif path == OAUTH_TOKEN and request.method == "POST":
            stats = state.mall(mall_id).stats
            response = oauth.token(state.config, state.tokens, stats, mall_id, request.headers, form)
        else:
            response = _json_response(404, error_body(404, "No API found for the requested URL"))
        record.status = response.status
        return response


#: Faults that change a 200 answer to a GET after the handler made it.
HOSTILE_KINDS = frozenset({FaultKind.MISSING_ROOT, FaultKind.SHORT_PAGE, FaultKind.BAD_COUNT, FaultKind.HTML})


@attrs.frozen(slots=True)
class HtmlPage:
    """An answer body that is an HTML page, not JSON."""

    data: bytes


def _hostile(fault: Fault, route: Route, payload: Any) -> tuple[int, Any] | None:
    """(status, payload) of the hostile answer `fault` makes of a 200, or None when it
    does not apply to this answer."""
    if fault.kind is FaultKind.HTML:
        return (503 if fault.variant == 2 else 200), HtmlPage(HTML_PAGE)
    if isinstance(payload, Encoded):
        payload = json.loads(payload.data)
    changed = hostile_payload(fault, route.response_root, route.response_kind, payload)
    return None if changed is None else (200, changed)


def _echo_credentials(payload: Any, headers: Mapping[str, str]) -> Any:
    """An error body that quotes the request's credentials back."""
    authorization = headers.get("Authorization", "")
    error = dict(payload.get("error", {})) if isinstance(payload, dict) else {}
    error["message"] = f"{error.get('message', '')} (request sent Authorization: {authorization})"
    return {"error": error, "access_token": _bearer(headers) or authorization}


def _bearer(headers: Mapping[str, str]) -> str | None:
    value = headers.get("Authorization", "")
    if value[:7].lower() != "bearer ":
        return None
    token = value[7:].strip()
    return token or None


def _parse_json(raw_body: bytes) -> Any:
    if not raw_body:
        return None
    try:
        return json.loads(raw_body)
    except ValueError:
        return None
