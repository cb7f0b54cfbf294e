"""Typed records: the opt-in view of responses as attrs classes, and the checks made on writes.

The client calls four things from here: `model_for` (or `model_for_route`) to learn which
record class a route answers with, `structure` / `structure_many` to build records from
decoded JSON, `unstructure` to turn records (or dicts holding them) back into JSON-ready
data, and `check_write` before sending a create or update body. The record classes
themselves are generated (`generated.py`); the converter that builds them is in
`converter.py`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cafe24_async.errors import ValidationError
from cafe24_async.models import generated
from cafe24_async.models.converter import (
    KST,
    TF,
    Record,
    SourceDateTime,
    SourceDecimal,
    converter,
    structure,
    structure_many,
    unstructure,
)
from cafe24_async.models.generated import ALL_MODELS, MAX_LENGTHS, ROOT_MODELS, ROUTE_MODELS
from cafe24_async.routes.route import Route

__all__ = [
    "ALL_MODELS",
    "KST",
    "TF",
    "Record",
    "SourceDateTime",
    "SourceDecimal",
    "check_write",
    "converter",
    "generated",
    "model_for",
    "model_for_route",
    "structure",
    "structure_many",
    "unstructure",
]

_COUNT = "count"


def _singular(word: str) -> str:
    if word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith("s") and not word.endswith(("ss", "us")):
        return word[:-1]
    return word


def _by_path() -> dict[tuple[str, str], dict[str, type[Record]]]:
    """ROUTE_MODELS by (api, path), then by singular root key."""
    index: dict[tuple[str, str], dict[str, type[Record]]] = {}
    for (api, path, root), model in ROUTE_MODELS.items():
        index.setdefault((api, path), {})[_singular(root)] = model
    return index


_BY_PATH = _by_path()


def model_for(api: str, response_root: str, path: str | None = None) -> type[Record] | None:
    """The record class for a route's response root, or None to keep plain JSON.

    `response_root` may be the singular or the plural key (`product` / `products`). With
    `path` (the documented route path, e.g. `/api/v2/admin/orders/{order_id}`) the answer is
    exact. Without it, one root key can name different resources (`order` is both an order
    and an app store order), so the answer is the least nested documented resource for that
    key; `model_for_route` passes the path for you.
    """
    if not response_root or response_root == _COUNT:
        return None
    if path is not None:
        roots = _BY_PATH.get((api, path))
        return None if roots is None else roots.get(_singular(response_root))
    found = ROOT_MODELS.get((api, response_root))
    if found is None:
        found = ROOT_MODELS.get((api, _singular(response_root)))
    return found


def model_for_route(route: Route) -> type[Record] | None:
    """The record class a route answers with, or None (counts, undocumented resources)."""
    if route.response_kind == _COUNT:
        return None
    return model_for(route.api, route.response_root or "", route.path)


def _fail(route: Route, param: str, rule: str) -> ValidationError:
    return ValidationError(param, rule, f"{route.method} {route.path}")


def check_write(route: Route, payload: Mapping[str, Any] | Record) -> None:
    """Check a create/update body against the documented rules before it is sent.

    `payload` is a record, or a dict: either the whole body (`{"shop_no": 1, "request":
    {...}}`, with `request` an object or a list of objects) or just the request object.
    Required body parameters must be present and not None; strings must respect the
    documented minimum and maximum lengths (the route's parameter rules first, then the
    record class's documented max lengths). Raises `cafe24_async.errors.ValidationError`.
    """
    body = unstructure(payload)
    if not isinstance(body, dict):
        raise _fail(route, "request", "the body must be a JSON object")
    top = {key: value for key, value in body.items() if key not in ("request", "requests")}
    inner = body.get("request", body.get("requests"))
    if inner is None:
        requests: list[Any] = [body]
        top = {}
    elif isinstance(inner, list):
        requests = inner
    else:
        requests = [inner]
    params = {p.name: p for p in route.params if p.location == "body"}
    model = model_for_route(route)
    documented_max = MAX_LENGTHS.get(model, {}) if model is not None else {}
    for index, request in enumerate(requests):
        where = f"request[{index}]." if len(requests) > 1 else ""
        if not isinstance(request, dict):
            raise _fail(route, f"{where}request", "each request must be a JSON object")
        merged = {**top, **request}
        for param in params.values():
            if param.required and param.default is None and merged.get(param.name) is None:
                raise _fail(route, where + param.name, "required")
        for name, value in merged.items():
            if not isinstance(value, str):
                continue
            rule = params.get(name)
            max_length = rule.max_length if rule is not None and rule.max_length else None
            if max_length is None:
                max_length = documented_max.get(name)
            if max_length is not None and len(value) > max_length:
                raise _fail(route, where + name, f"at most {max_length} characters (got {len(value)})")
            if rule is not None and rule.min_length and len(value) < rule.min_length:
                raise _fail(route, where + name, f"at least {rule.min_length} characters (got {len(value)})")
