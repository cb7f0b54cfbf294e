"""What an endpoint coroutine tells `help()` and `inspect`: its docstring and signature.

Both come from the route row alone: method, path, scope, paging and date
rules, every documented parameter with its rules, and the call options.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable

from cafe24_async.routes import APIS
from cafe24_async.routes.route import Param, Route

#: Options every endpoint coroutine takes besides the documented params.
CALL_OPTIONS = ("typed", "timeout", "retry_writes")


def describe_param(param: Param) -> str:
    rules = []
    if param.required:
        rules.append("required")
    if param.type:
        rules.append(param.type)
    if param.format and param.format != param.type:
        rules.append(param.format)
    if param.minimum is not None:
        rules.append(f"min {param.minimum:g}")
    if param.maximum is not None:
        rules.append(f"max {param.maximum:g}")
    if param.min_length is not None:
        rules.append(f"min length {param.min_length}")
    if param.max_length is not None:
        rules.append(f"max length {param.max_length}")
    if param.multiple:
        rules.append(f"list, up to {param.max_items or 100} values")
    elif param.max_items is not None:
        rules.append(f"up to {param.max_items} items")
    if param.enum:
        rules.append("one of " + ", ".join(param.enum))
    if param.charset:
        rules.append(f"characters {param.charset}")
    if param.default is not None:
        rules.append(f"default {param.default!r}")
    return f"    {param.name} ({param.location}{': ' + '; '.join(rules) if rules else ''})"


def docstring(route: Route) -> str:
    lines = [
        route.summary or f"{route.method} {route.path}",
        "",
        f"{route.method} {route.path}",
        f"Scope: {route.scope or 'none'}",
    ]
    if route.legacy:
        lines.append(
            "Legacy route of the older reference"
            + (f"; replaced by {route.replaced_by}" if route.replaced_by else "")
        )
    if route.request_limit:
        lines.append(f"Request limit: {route.request_limit}")
    if route.pagination:
        pg = route.pagination
        paging = f"Paging: limit {pg.limit_min}-{pg.limit_max}"
        if pg.offset_max is not None:
            paging += f", offset up to {pg.offset_max}"
        if pg.keyset:
            paging += f", continues past the cap with {pg.keyset}"
        lines.append(paging)
    if route.date_range:
        dr = route.date_range
        rule = f"Dates: {dr.start}..{dr.end}"
        if dr.required:
            rule += " (required)"
        if dr.max_span_months:
            rule += f", at most {dr.max_span_months} months per request"
        lines.append(rule)
    if route.embed:
        lines.append("Embed: " + ", ".join(route.embed))
    lines.append(f"Returns: {_returns(route)}")
    params = [p for p in route.params]
    if params:
        lines += ["", "Parameters:"] + [describe_param(p) for p in params]
    return "\n".join(lines)


def _returns(route: Route) -> str:
    return {
        "list": f"list of dicts (the '{route.response_root}' list)",
        "count": "int",
        "object": f"dict (the '{route.response_root}' object)",
    }[route.response_kind]


def signature(route: Route, extra: Iterable[str] = ()) -> inspect.Signature:
    kinds = inspect.Parameter
    params = [kinds("mall", kinds.POSITIONAL_ONLY)]
    params += [kinds(name, kinds.POSITIONAL_OR_KEYWORD) for name in route.path_params]
    seen = set(route.path_params)
    filled_in = set(APIS[route.api].mall_query)  # the client fills these from the mall
    for p in route.params:
        if p.location == "path" or p.name in seen or not p.name.isidentifier():
            continue
        seen.add(p.name)
        default = kinds.empty if p.required and p.name not in filled_in else None
        params.append(kinds(p.name, kinds.KEYWORD_ONLY, default=default))
    names = [*extra, "fields"] if route.method == "GET" else list(extra)
    if route.embed:
        names.append("embed")
    if route.method in ("POST", "PUT"):
        names += ["requests", "request"]
    names.append("extra_params")  # sent unchecked: what the docs do not list yet
    names += [o for o in CALL_OPTIONS if not (extra and o == "retry_writes")]
    params += [kinds(n, kinds.KEYWORD_ONLY, default=None) for n in names if n not in seen]
    return inspect.Signature(params)
