"""Turning a response body into what the caller asked for.

Cafe24 wraps every answer in a root key (`{"products": [...]}`,
`{"count": 12}`, `{"product": {...}}`). The wrapper is removed here: a list
route gives a list of dicts, a count route an int, a single route a dict. A 2xx
body that is not JSON, or lacks the documented root, is a `DecodeError`, never a
silent partial page.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from cafe24_async import jsonio
from cafe24_async.backoff import parse_retry_after
from cafe24_async.clock import Clock
from cafe24_async.errors import ApiVersionError, BadRequestError, Cafe24Error, DecodeError, api_error
from cafe24_async.routes.route import Route
from cafe24_async.transport import RawResponse, header_name


class MultiStatus(list[Any]):
    """A 207 answer: one result per requested object, some of which failed."""

    @property
    def failed(self) -> list[Any]:
        return [item for item in self if isinstance(item, dict) and _item_failed(item)]

    @property
    def succeeded(self) -> list[Any]:
        return [item for item in self if not (isinstance(item, dict) and _item_failed(item))]


def _item_failed(item: dict[str, Any]) -> bool:
    if "error" in item:
        return True
    code = item.get("status_code", item.get("code"))
    try:
        return code is not None and int(code) >= 400
    except (TypeError, ValueError):
        return False


T = TypeVar("T")

#: The answer headers read here.
CONTENT_TYPE = header_name("Content-Type")
TRACE_ID = header_name("x-trace_id")
RETRY_AFTER = header_name("Retry-After")


def parse_json(status: int, body: bytes, route: Route, headers: Mapping[str, str] | None = None) -> Any:
    """The JSON document of a response, or `DecodeError` naming the content type in
    `headers` (an HTML page from an overloaded server, say), never the body itself."""
    if not body:
        return None
    try:
        return jsonio.loads(body)
    except ValueError:
        content_type = headers.get(CONTENT_TYPE) if headers is not None else None
        kind = content_type.split(";")[0].strip() if content_type else "no content type"
        raise DecodeError(
            status,
            f"response body is not valid JSON ({kind}, {len(body)} bytes, maybe cut short)",
            method=route.method,
            path=route.path,
        ) from None


def unwrap(status: int, document: Any, route: Route) -> Any:
    """The value under the route's documented root key, checked against its kind.

    A list route gives a list of objects, a count route a non-negative int, an
    object route what its root holds. A missing root, or a root of the wrong kind,
    is a `DecodeError` (retried like a 5xx by the request path): never an empty
    page, never the wrapper's keys taken for records.
    """
    if document is None and route.method == "DELETE":
        return None
    if not isinstance(document, dict):
        raise _fault(status, "response is not a JSON object", route)
    root = route.response_root
    if root not in document:
        keys = ", ".join(sorted(map(str, document))[:5]) or "none"
        raise _fault(status, f"response has no '{root}' (its keys: {keys})", route)
    value = document[root]
    kind = route.response_kind
    if kind == "count":
        if type(value) is not int or value < 0:
            raise _fault(status, f"'{root}' is not a non-negative integer", route)
        return value
    if kind == "list":
        if isinstance(value, dict) and route.lone_object:
            value = [value]  # the live API answers one object where the docs show a list
        if not isinstance(value, list):
            raise _fault(status, f"'{root}' is not a list", route)
        if not all(isinstance(item, dict) for item in value):
            raise _fault(status, f"'{root}' holds items that are not objects", route)
        return MultiStatus(value) if status == 207 else value
    if value is not None and not isinstance(value, (dict, list)):
        raise _fault(status, f"'{root}' is neither an object nor a list", route)
    return value


def _fault(status: int, problem: str, route: Route) -> DecodeError:
    return DecodeError(status, problem, method=route.method, path=route.path)


def read_answer(
    raw: RawResponse, route: Route, secrets: Callable[[T], Iterable[str | None]], sent: T, clock: Clock
) -> tuple[Any, Cafe24Error | None, float | None]:
    """One answer as `(value, error, retry_after)`: the unwrapped value of a 2xx, or the
    library error it stands for (with `secrets(sent)` masked wherever the server echoed
    them; `sent` is the token the request carried), with the seconds its `Retry-After`
    asks for."""
    if 200 <= raw.status < 300:
        try:
            document = parse_json(raw.status, raw.body, route, raw.headers)
            return unwrap(raw.status, document, route), None, None
        except DecodeError as exc:
            return None, exc, None
    try:
        document = parse_json(raw.status, raw.body, route)
    except DecodeError:
        document = None
    trace_id = raw.headers.get(TRACE_ID)
    error = api_error(raw.status, document, route.method, route.path, secrets(sent), trace_id)
    return None, error, parse_retry_after(raw.headers.get(RETRY_AFTER), clock.now())


def structure_value(route: Route, value: Any) -> Any:
    """A decoded value as the route's typed records (attrs models), where one is documented."""
    from cafe24_async.models import model_for_route, structure, structure_many

    model = model_for_route(route)
    if model is None:
        return value
    if isinstance(value, list):
        return structure_many(value, model)
    if isinstance(value, dict):
        return structure(value, model)
    return value


_VERSION_DEFAULT = re.compile(r"default value for the app version is (\d{4}-\d{2}-\d{2})")


def version_error(error: Cafe24Error, pinned: str | None) -> Cafe24Error:
    """A 400 that refuses the pinned API version, as `ApiVersionError` naming the version
    sent and the server's default; any other error as it is."""
    if not isinstance(error, BadRequestError):
        return error
    found = _VERSION_DEFAULT.search(error.message)
    if found is None:
        return error
    return ApiVersionError(error, pinned, found.group(1))
