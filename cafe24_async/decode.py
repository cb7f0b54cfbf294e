"""Turning a response body into what the caller asked for.

Cafe24 wraps every answer in a root key (`{"products": [...]}`,
`{"count": 12}`, `{"product": {...}}`). The wrapper is removed here: a list
route gives a list of dicts, a count route an int, a single route a dict. A 2xx
body that is not JSON, or lacks the documented root, is a `DecodeError`, never a
silent partial page.
"""

from __future__ import annotations

import json
from typing import Any

from cafe24_async.errors import DecodeError
from cafe24_async.routes.route import Route


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


def parse_json(status: int, body: bytes, route: Route) -> Any:
    """The JSON document of a response, or `DecodeError`."""
    if not body:
        return None
    try:
        return json.loads(body)
    except ValueError:
        raise DecodeError(
            status,
            f"response body is not valid JSON ({len(body)} bytes, maybe cut short)",
            method=route.method,
            path=route.path,
        ) from None


def unwrap(status: int, document: Any, route: Route) -> Any:
    """Remove the root key the route documents."""
    if route.response_kind == "count":
        if isinstance(document, dict) and isinstance(document.get("count"), int):
            return document["count"]
        raise DecodeError(status, "count response without an integer 'count'",
                          method=route.method, path=route.path)
    if not isinstance(document, dict):
        if document is None and route.method == "DELETE":
            return None
        raise DecodeError(status, "response is not a JSON object", method=route.method,
                          path=route.path)
    root = route.response_root
    if root is not None and root in document:
        value = document[root]
    elif len(document) == 1:
        value = next(iter(document.values()))
    else:
        return document
    if route.response_kind == "list" and not isinstance(value, list):
        raise DecodeError(status, f"'{root}' is not a list", method=route.method, path=route.path)
    if status == 207 and isinstance(value, list):
        return MultiStatus(value)
    return value
