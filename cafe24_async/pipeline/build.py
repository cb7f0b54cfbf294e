"""Checking and rendering a call's arguments before anything is sent.

`prepare(route, args, kwargs)` turns Python values into the path, query and body
the route documents, and raises `ValidationError` (naming the parameter and the
rule) for a missing required value, an unknown name, or a value over a
documented limit. Rendering rules:

- path values are percent-encoded whole, so `/`, `?`, `#`, `@` or `..` cannot
  change the path or the host;
- lists are joined with commas (at most 100 items, or the documented maximum);
- `date` is `YYYY-MM-DD`; `datetime` is ISO-8601 in Korea time (`+09:00`),
  a naive datetime being taken as Korea time already;
- `True`/`False` become the API's `T`/`F`;
- write bodies are `{"shop_no": ..., "request": {...}}` (or `"requests": [...]`
  for the routes that take several objects).
"""

from __future__ import annotations

import difflib
import functools
import logging
import math
import re
from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from types import MappingProxyType
from typing import Any, Literal, NamedTuple
from urllib.parse import quote

import attrs

from cafe24_async.clock import KST
from cafe24_async.dates import add_months, in_korea, korea_moment, parse_date_text
from cafe24_async.errors import ValidationError
from cafe24_async.routes.route import Pagination, Param, Route

log = logging.getLogger("cafe24_async.params")

#: The docs' general cap on comma-separated values.
MAX_LIST_ITEMS = 100
#: Parameters every GET route accepts (docs: "Retrieve specific items").
UNIVERSAL_GET = ("fields",)

_DATE_FORMATS = ("date", "datetime")


class PreparedRequest(NamedTuple):
    """One checked and rendered call (a tuple: the cheapest immutable record, made once
    per call)."""

    route: Route
    #: Path with every placeholder filled and encoded.
    path: str
    query: tuple[tuple[str, str], ...]
    body: dict[str, Any] | None
    #: The route's parameter tables and names (`route_shape(route)`), carried along.
    shape: RouteShape


@attrs.frozen(slots=True)
class RouteShape:
    """What the request path needs to know of a route, worked out once per route."""

    #: `admin.products.get` (`Route.qualified_name`) and `GET /api/v2/...` (for messages).
    qualified_name: str
    label: str
    path_params: tuple[str, ...]
    #: `{name}` of each path parameter, as it stands in the documented path.
    placeholders: tuple[str, ...]
    #: Documented query/body parameters by name (read only).
    documented: Mapping[str, Param]
    #: Parameters every route of the kind accepts (`fields`, `embed`).
    extras: Mapping[str, Param]
    #: Documented parameters that must be given, in documented order.
    required: tuple[str, ...]
    #: Path placeholders documented as whole numbers.
    whole_paths: frozenset[str] = frozenset()


@functools.lru_cache(maxsize=4096)  # the table's 501 routes, and room for routes made on the fly
def route_shape(route: Route) -> RouteShape:
    """The parameter tables of `route`, worked out once per route."""
    documented = {p.name: p for p in route.params if p.location != "path"}
    extras: dict[str, Param] = {}
    if route.method == "GET":
        extras["fields"] = Param("fields", "query", multiple=True)
        if route.embed:
            extras["embed"] = Param("embed", "query", multiple=True, enum=route.embed)
    return RouteShape(
        qualified_name=route.qualified_name,
        label=f"{route.method} {route.path}",
        path_params=route.path_params,
        placeholders=tuple("{" + name + "}" for name in route.path_params),
        documented=MappingProxyType(documented),
        extras=MappingProxyType(extras),
        required=tuple(p.name for p in documented.values() if p.required),
        whole_paths=frozenset(p.name for p in route.params if p.location == "path" and p.type == "integer"),
    )


def _fail(param: str, rule: str, route: Route) -> ValidationError:
    return ValidationError(param, rule, f"{route.method} {route.path}")


def render_datetime(value: datetime) -> str:
    return in_korea(value).astimezone(KST).isoformat(timespec="seconds")


def _check_date_text(param: Param, text: str, route: Route) -> None:
    try:
        parse_date_text(text)
    except ValueError:
        raise _fail(
            param.name, "must be a date (YYYY-MM-DD) or an ISO-8601 datetime", route
        ) from None


def _number_text(name: str, value: int | Decimal, route: Route) -> str:
    """Digits of a number; an int subclass (an IntEnum, say) is written as its int value."""
    try:
        return int.__repr__(value) if isinstance(value, int) else str(value)
    except ValueError:  # an int longer than Python's 4300-digit str() limit
        raise _fail(name, "is too large a number", route) from None


def _check_unicode(name: str, text: str, route: Route) -> None:
    """Text that can be sent: UTF-8 encodable (no lone surrogates), without NUL."""
    if "\x00" in text:
        raise _fail(name, "must not contain NUL characters", route)
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise _fail(name, "must be valid Unicode text (no lone surrogates)", route) from None


def _render_scalar(param: Param, value: Any, route: Route) -> str:
    """One value as the API writes it."""
    if isinstance(value, bool):
        return "T" if value else "F"
    if isinstance(value, datetime):
        try:
            return render_datetime(value)
        except OverflowError:  # out of range once moved to Korea time
            raise _fail(param.name, "is out of the range of dates", route) from None
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (int, Decimal)):
        return _number_text(param.name, value, route)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise _fail(param.name, "must be a finite number", route)
        return repr(value)
    if isinstance(value, str):
        _check_unicode(param.name, value, route)
        return value
    raise _fail(param.name, f"cannot send a value of type {type(value).__name__}", route)


def _check_number(param: Param, value: Any, route: Route) -> None:
    if param.type != "number" and param.minimum is None and param.maximum is None:
        return
    if isinstance(value, bool):
        raise _fail(param.name, "must be a number, not a bool", route)
    try:
        number = Decimal(str(value)) if not isinstance(value, Decimal) else value
    except (InvalidOperation, ValueError):
        raise _fail(param.name, "must be a number", route) from None
    if not number.is_finite():
        raise _fail(param.name, "must be a finite number", route)
    if param.minimum is not None and number < Decimal(str(param.minimum)):
        raise _fail(param.name, f"must be at least {param.minimum:g}", route)
    if param.maximum is not None and number > Decimal(str(param.maximum)):
        raise _fail(param.name, f"must be at most {param.maximum:g}", route)


_SIMPLE_CHARSET = re.compile(r"^[A-Za-z0-9_\-]+$")


def _check_text(param: Param, text: str, route: Route) -> None:
    if param.max_length is not None and len(text) > param.max_length:
        raise _fail(param.name, f"must be at most {param.max_length} characters", route)
    if param.min_length is not None and len(text) < param.min_length:
        raise _fail(param.name, f"must be at least {param.min_length} characters", route)
    charset = param.charset
    if charset and _SIMPLE_CHARSET.match(charset) and not re.fullmatch(f"[{charset}]*", text):
        raise _fail(param.name, f"may only use the characters {param.charset}", route)


def _check_one(param: Param, value: Any, route: Route) -> str:
    if param.type == "integer" and not isinstance(value, bool):
        whole_number(param.name, value, route, 0)
    text = _render_scalar(param, value, route)
    numeric = param.type == "number" or param.minimum is not None or param.maximum is not None
    if numeric and isinstance(value, (int, float, Decimal, str)):
        _check_number(param, value, route)
    if isinstance(value, str):
        if param.format in _DATE_FORMATS or param.type == "date":
            _check_date_text(param, value, route)
        _check_text(param, value, route)
    return text


def _is_list(value: Any) -> bool:
    """Several values: any sequence or set except text."""
    return isinstance(value, (Sequence, AbstractSet)) and not isinstance(value, (str, bytes, bytearray))


def render_query_value(param: Param, value: Any, route: Route) -> str:
    """A query value: one scalar, or a comma-joined list for multi-value params."""
    if _is_list(value):
        items = list(value)
        if not param.multiple and param.name not in ("fields", "embed"):
            raise _fail(param.name, "takes a single value, not a list", route)
        limit = param.max_items or MAX_LIST_ITEMS
        if len(items) > limit:
            raise _fail(param.name, f"takes at most {limit} values", route)
        if not items:
            raise _fail(param.name, "must not be an empty list", route)
        return ",".join(_check_one(param, item, route) for item in items)
    text = _check_one(param, value, route)
    if param.multiple and "," in text:
        limit = param.max_items or MAX_LIST_ITEMS
        if text.count(",") + 1 > limit:
            raise _fail(param.name, f"takes at most {limit} values", route)
    return text


def _body_value(param: Param, value: Any, route: Route) -> Any:
    """A body value: JSON types stay, dates and bools are rendered, limits checked."""
    if isinstance(value, Mapping):
        return _nested_json(param.name, value, route)
    if _is_list(value):
        items = list(value)
        if param.max_items is not None and len(items) > param.max_items:
            raise _fail(param.name, f"takes at most {param.max_items} items", route)
        return [
            _nested_json(param.name, item, route)
            if isinstance(item, (Mapping, list))
            else _body_scalar(param, item, route)
            for item in items
        ]
    return _body_scalar(param, value, route)


#: Depth of objects and lists inside a body value that is still sent.
MAX_NESTING = 32


def _nested_json(name: str, value: Any, route: Route, depth: int = 0) -> Any:
    """An object or list inside a body value, as plain JSON (its fields are not documented
    one by one, so only what JSON can carry is checked: dates become text, and NaN,
    bytes, sets of objects or non-text keys are refused here rather than at sending)."""
    if depth > MAX_NESTING:
        raise _fail(name, f"is nested more than {MAX_NESTING} levels deep", route)
    if value is None or isinstance(value, (bool, str)):
        if isinstance(value, str):
            _check_unicode(name, value, route)
        return value
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise _fail(name, f"has a key of type {type(key).__name__}; keys must be text", route)
            _check_unicode(name, key, route)
            out[key] = _nested_json(f"{name}.{key}", item, route, depth + 1)
        return out
    if _is_list(value):
        return [_nested_json(name, item, route, depth + 1) for item in value]
    if isinstance(value, int):
        _number_text(name, value, route)
        return value
    if isinstance(value, float) and not math.isfinite(value):
        raise _fail(name, "must be a finite number", route)
    if isinstance(value, float):
        return value
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise _fail(name, "must be a finite number", route)
        return str(value)
    if isinstance(value, (date, datetime)):
        return _render_scalar(Param(name, "body"), value, route)
    raise _fail(name, f"cannot send a value of type {type(value).__name__}", route)


def _body_scalar(param: Param, value: Any, route: Route) -> Any:
    text = _check_one(param, value, route)
    if isinstance(value, (bool, date, datetime, Decimal)):
        return text
    return value


def _path_value(name: str, value: Any, route: Route, integer: bool = False) -> str:
    if integer and type(value) is not int:  # a documented whole number: "abc" is refused here
        value = whole_number(name, value, route, 0)
    if type(value) is int:  # the common case: digits (and '-') need no other check or quoting
        text = _number_text(name, value, route)
        if len(text) > 200:
            raise _fail(name, "must be at most 200 characters", route)
        return text
    if value is None or isinstance(value, bool) or not isinstance(value, (int, str)):
        raise _fail(name, "must be a string or an integer", route)
    text = value if isinstance(value, str) else _number_text(name, value, route)
    if text in ("", ".", "..") or "\x00" in text:
        raise _fail(name, "must be a non-empty value other than '.' or '..'", route)
    _check_unicode(name, text, route)
    if len(text) > 200:
        raise _fail(name, "must be at most 200 characters", route)
    return quote(text, safe="")


def bind_path(
    route: Route, args: Sequence[Any], kwargs: dict[str, Any], shape: RouteShape | None = None
) -> str:
    """Fill the path placeholders from positional args, then by name (removed from kwargs)."""
    shape = shape or route_shape(route)
    names = shape.path_params
    if len(args) > len(names):
        raise _fail(
            f"argument {len(names) + 1}",
            f"takes {len(names)} positional path value(s): {', '.join(names) or 'none'}",
            route,
        )
    if len(args) == len(names):  # every placeholder given by position: the usual call
        for name in names:
            if name in kwargs:
                raise _fail(name, "given both by position and by name", route)
        path = route.path
        for placeholder, name, value in zip(shape.placeholders, names, args, strict=True):
            path = path.replace(placeholder, _path_value(name, value, route, name in shape.whole_paths))
        return path
    values = dict(zip(names, args, strict=False))
    for name in names[len(args) :]:
        if name not in kwargs:
            raise _fail(name, "is required (path parameter)", route)
        values[name] = kwargs.pop(name)
    for name in names[: len(args)]:
        if name in kwargs:
            raise _fail(name, "given both by position and by name", route)
    path = route.path
    for name in names:
        text = _path_value(name, values[name], route, name in shape.whole_paths)
        path = path.replace("{" + name + "}", text)
    return path


def whole_number(name: str, value: Any, route: Route, low: int, high: int | None = None) -> int:
    """`value` as an int within [low, high]: an int, or text or a number that is one
    (`"100"`, `100.0`); anything else is refused naming `name` and the rule."""
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal, str)):
        raise _fail(name, "must be a whole number", route)
    try:
        number = Decimal(value.strip() if isinstance(value, str) else str(value))
        integral = number.is_finite() and number == number.to_integral_value()
    except (InvalidOperation, ValueError):
        integral = False
    if not integral:
        raise _fail(name, "must be a whole number", route)
    if number < low:
        raise _fail(name, f"must be at least {low}", route)
    if high is not None and number > high:
        raise _fail(name, f"must be at most {high}", route)
    return int(number)


def _check_paging(route: Route, paging: Pagination, given: dict[str, Any]) -> None:
    """`limit` and `offset` are whole numbers within the documented paging rules, and
    the keyset parameter a whole number (a negative offset is never sent)."""
    if "limit" in given:
        whole_number("limit", given["limit"], route, paging.limit_min, paging.limit_max)
    if "offset" in given:
        whole_number("offset", given["offset"], route, 0, paging.offset_max)
    if paging.keyset and paging.keyset in given:
        whole_number(paging.keyset, given[paging.keyset], route, 0)


def _check_date_span(route: Route, given: dict[str, Any], whole_range: bool = False) -> None:
    span = route.date_range
    if span is None:
        return
    start, end = given.get(span.start), given.get(span.end)
    if start is None or end is None:
        return
    try:
        a, b = _as_datetime(start), _as_datetime(end)
    except (ValueError, OverflowError):
        return  # already reported as a bad date by the per-value check
    if b < a:
        raise _fail(span.end, f"must not be before {span.start}", route)
    if span.max_span_months and not whole_range:
        try:
            limit = add_months(a, span.max_span_months)
        except (ValueError, OverflowError):  # past year 9999: every date is within the span
            return
        if b > limit:
            raise _fail(
                span.end,
                f"must be within {span.max_span_months} months of {span.start} "
                "(iterate() splits longer ranges into windows)",
                route,
            )


def _as_datetime(value: Any) -> datetime:
    return korea_moment(value if isinstance(value, (date, datetime)) else str(value))[0]


#: What to do with a name the docs do not list, or a value outside a documented list
#: of codes: refuse it (the default), send it with a warning, or send it silently.
UnknownParams = Literal["error", "warn", "send"]
POLICIES: tuple[UnknownParams, ...] = ("error", "warn", "send")


def prepare(
    route: Route,
    args: Sequence[Any],
    kwargs: dict[str, Any],
    implicit: Mapping[str, Any] | None = None,
    *,
    whole_range: bool = False,
    policy: UnknownParams = "error",
    shape: RouteShape | None = None,
) -> PreparedRequest:
    """Validate and render one call of `route`. Raises `ValidationError`; sends nothing.

    `implicit` holds values the caller need not give (the Analytics API's
    `mall_id`, filled in from the mall); a value given explicitly wins. With
    `whole_range` a date range may be longer than one request's span (a paged
    read splits it into windows); its ends must still be in order. `policy` says
    what happens to an undocumented name or code; `extra_params={...}` among
    the kwargs is sent unchecked (query values, or merged into a write's body).
    `shape` is `route_shape(route)` when the caller has it at hand (a bound endpoint).
    """
    shape = shape or route_shape(route)
    if not kwargs and not implicit and not shape.required and route.method not in ("POST", "PUT"):
        return PreparedRequest(route, bind_path(route, args, {}, shape), (), None, shape)  # path values only
    kwargs = {**implicit, **kwargs} if implicit else dict(kwargs)
    extra = _extra_params(kwargs.pop("extra_params", None), route)
    path = bind_path(route, args, kwargs, shape)
    many = kwargs.pop("requests", None)
    given = {k: v for k, v in kwargs.items() if v is not None}
    documented, extras = shape.documented, shape.extras
    for name in [n for n in given if n not in documented and n not in extras]:
        if not isinstance(name, str):
            raise _fail(repr(name), "is not a parameter name (names are text)", route)
        extra[name] = given.pop(name)
        _undocumented(route, shape, name, policy)
    if many is None:
        for name in shape.required:
            if name not in given:
                raise _fail(name, "is required", route)
    _check_codes(route, documented, given, policy)
    _check_date_span(route, given, whole_range)
    if route.method in ("POST", "PUT"):
        return PreparedRequest(route, path, (), _build_body(route, documented, given, many, extra), shape)
    if many is not None:
        raise _fail("requests", f"is only for POST and PUT routes, not {route.method}", route)
    query = tuple(
        (name, render_query_value(documented.get(name) or extras[name], value, route))
        for name, value in given.items()
    ) if given else ()
    if route.pagination is not None:
        _check_paging(route, route.pagination, given)
    if extra:
        query += tuple((name, _extra_query_value(name, value, route)) for name, value in extra.items())
    return PreparedRequest(route, path, query, None, shape)


def _extra_params(value: Any, route: Route) -> dict[str, Any]:
    """The caller's `extra_params`: a mapping of text names (None: empty)."""
    if value is None:
        return {}
    if not isinstance(value, Mapping) or not all(isinstance(k, str) and k for k in value):
        raise _fail("extra_params", "must be a dict of parameter names to values", route)
    return {k: v for k, v in value.items() if v is not None}


def _extra_query_value(name: str, value: Any, route: Route) -> str:
    """An unchecked query value, rendered as the API writes values (lists comma-joined)."""
    param = Param(name, "query", multiple=True)
    if _is_list(value):
        return ",".join(_render_scalar(param, item, route) for item in value)
    return _render_scalar(param, value, route)


def _undocumented(route: Route, shape: RouteShape, name: str, policy: UnknownParams) -> None:
    """Refuse (or warn about) a parameter name the docs do not list for `route`."""
    if policy == "send":
        return
    known = [*shape.documented, *shape.extras]
    close = difflib.get_close_matches(name, known, n=3, cutoff=0.6)
    hint = f"did you mean {' or '.join(close)}?" if close else "help() on the call lists its parameters"
    rule = f"is not a documented parameter; {hint} (extra_params={{...}} sends it unchecked)"
    if policy == "error":
        raise _fail(name, rule, route)
    log.warning("%s: %s (%s %s); sent as given", name, rule, route.method, route.path)


def _check_codes(route: Route, documented: Mapping[str, Param], given: dict[str, Any],
                 policy: UnknownParams) -> None:
    """Each value of a parameter with documented codes is one of them."""
    if policy == "send":
        return
    for name, value in given.items():
        param = documented.get(name)
        if param is None or not param.enum:
            continue
        for item in value if _is_list(value) else [value]:
            text = _render_scalar(param, item, route)
            for code in text.split(",") if param.multiple else [text]:
                if code not in param.enum:
                    _unknown_code(route, param, code, policy)


def _unknown_code(route: Route, param: Param, code: str, policy: UnknownParams) -> None:
    close = difflib.get_close_matches(code, param.enum, n=3, cutoff=0.5)
    hint = f"; did you mean {' or '.join(close)}?" if close else ""
    codes = ", ".join(param.enum) if len(param.enum) <= 8 else f"the {len(param.enum)} documented codes"
    rule = f"must be one of {codes}, not {code!r}{hint}"
    if policy == "error":
        raise _fail(param.name, f"{rule} (extra_params={{...}} sends it unchecked)", route)
    log.warning("%s: %s (%s %s); sent as given", param.name, rule, route.method, route.path)


def _build_body(
    route: Route, documented: Mapping[str, Param], given: dict[str, Any], many: Any,
    extra: dict[str, Any],
) -> dict[str, Any]:
    shop_no = given.pop("shop_no", None)
    body: dict[str, Any] = {}
    if shop_no is not None or "shop_no" in documented or route.api == "admin":
        if shop_no is not None:
            shop_param = documented.get("shop_no") or Param("shop_no", "body", type="number")
            shop_no = _body_scalar(shop_param, shop_no, route)  # checked, and JSON-ready
        body["shop_no"] = shop_no if shop_no is not None else 1
    unchecked = {name: _nested_json(name, v, route) for name, v in extra.items()}
    if many is None:
        body["request"] = {name: _body_value(documented[name], v, route) for name, v in given.items()}
        body["request"].update(unchecked)
        return body
    if not _is_list(many) or not many:
        raise _fail("requests", "must be a non-empty list of objects", route)
    if given:
        raise _fail(next(iter(given)), "cannot be combined with requests=[...]", route)
    items = []
    for index, item in enumerate(many):
        if not isinstance(item, Mapping):
            raise _fail(f"requests[{index}]", "must be an object", route)
        fields = {k: v for k, v in item.items() if v is not None}
        for name in fields:
            if name not in documented:
                raise _fail(f"requests[{index}].{name}", "is not a documented parameter", route)
        for param in documented.values():
            if param.required and param.name not in fields and param.name != "shop_no":
                raise _fail(f"requests[{index}].{param.name}", "is required", route)
        items.append({**{n: _body_value(documented[n], v, route) for n, v in fields.items()}, **unchecked})
    body["requests"] = items
    return body


def with_body_records(route: Route, params: dict[str, Any]) -> dict[str, Any]:
    """Merge `request=` into the params, and turn records into dicts (after checking them)."""
    from cafe24_async.models import Record, check_write, unstructure

    params = dict(params)
    body = params.pop("request", None)
    if body is not None:
        if not isinstance(body, (Record, Mapping)):
            where = f"{route.method} {route.path}"
            raise ValidationError("request", "must be a dict or a typed record", where)
        check_write(route, body)
        fields = unstructure(body) if isinstance(body, Record) else dict(body)
        if not all(isinstance(name, str) for name in fields):
            raise ValidationError("request", "must name its fields with text", f"{route.method} {route.path}")
        params = {**{k: v for k, v in fields.items() if v is not None}, **params}
    many = params.get("requests")
    if isinstance(many, (list, tuple)) and any(isinstance(item, Record) for item in many):
        for item in many:
            if isinstance(item, Record):
                check_write(route, item)
        params["requests"] = [unstructure(item) if isinstance(item, Record) else item for item in many]
    return params
