"""What `help()` and `inspect` tell about the API: docstrings and signatures.

An endpoint coroutine's docstring and signature come from its route row alone:
method, path, scope, paging and date rules, every documented parameter with its
rules (numbers written as people read them: `max 2,147,483,647`), and the call
options every coroutine takes. A namespace's docstring (`namespace_doc`) lists
its actions, each with its call, method and path, and the namespaces below it.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable, Mapping

from cafe24_async.routes import APIS
from cafe24_async.routes.route import Param, Route

#: Options every endpoint coroutine takes besides the documented params.
CALL_OPTIONS = ("typed", "timeout", "retry_writes")

#: What each option besides the documented params does, for the docstrings.
OPTION_TEXT = {
    "fields": "fields: the response fields to return (a list, or a comma-joined string); "
              "fewer fields, smaller answers",
    "embed": "embed: sub-resources to return inside each record ({embeds}), instead of a call each",
    "request": "request: the write's body as one dict or typed record (checked against the "
               "documented required fields and lengths); or the documented params by name",
    "requests": "requests: several bodies at once, a list of dicts or records",
    "extra_params": "extra_params: params the docs do not list yet, sent unchecked "
                    "(query values for GET/DELETE, merged into the body for writes)",
    "typed": "typed: True returns cafe24_async.models records (Decimal prices, aware datetimes, "
             "T/F as bool) instead of dicts; None follows the client's setting",
    "timeout": "timeout: seconds for the whole call (waiting for the bucket, every attempt and "
               "back-off), or a TimeoutSettings for each request's connect/read limits",
    "timeout_iterate": "timeout: seconds for each page's call",
    "retry_writes": "retry_writes: True lets a POST be retried after a 5xx, a dropped connection "
                    "or an unreadable answer (only where sending it twice is harmless); GET, PUT and "
                    "DELETE are retried anyway, and a 429 always",
    "concurrency": "concurrency: pages fetched at once (default: what the bucket allows)",
}


def number(value: float) -> str:
    """A documented bound as people read it: `2,147,483,647`, `0.01`, never `2.14748e+09`."""
    if value == int(value):
        return f"{int(value):,}"
    return f"{value:,.6f}".rstrip("0")


def describe_param(param: Param) -> str:
    rules = []
    if param.required:
        rules.append("required")
    if param.type:
        rules.append(param.type)
    if param.format and param.format != param.type:
        rules.append(param.format)
    if param.minimum is not None:
        rules.append(f"min {number(param.minimum)}")
    if param.maximum is not None:
        rules.append(f"max {number(param.maximum)}")
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


def docstring(route: Route, iterate: bool = False) -> str:
    """The docstring of the coroutine of `route` (of its `iterate` when `iterate`)."""
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
    lines += ["", "Call options:"] + [f"    {text}" for text in option_lines(route, iterate)]
    return "\n".join(lines)


def option_lines(route: Route, iterate: bool = False) -> list[str]:
    """What each option the coroutine takes besides the documented params does."""
    documented = {p.name for p in route.params}
    names = ["fields"] if route.method == "GET" and "fields" not in documented else []
    if route.embed and "embed" not in documented:
        names.append("embed")
    if route.method in ("POST", "PUT"):
        names += ["request", "requests"]
    names.append("extra_params")
    names += ["concurrency", "typed", "timeout_iterate"] if iterate else list(CALL_OPTIONS)
    return [OPTION_TEXT[n].format(embeds=", ".join(route.embed or ())) for n in names]


def call_text(route: Route, owner: str, name: str | None = None) -> str:
    """`mall.admin.products.variants.get(product_no, variant_code, *, ...)`: the call with
    its path values and required keywords."""
    filled_in = set(APIS[route.api].mall_query)
    args = list(route.path_params)
    required = [p.name for p in route.params if p.required and p.location != "path"
                and p.name not in filled_in and p.name.isidentifier() and p.name not in args]
    args += [f"{n}=..." for n in dict.fromkeys(required)]
    target = ".".join((owner, *route.namespace, name or route.action))
    return f"{target}({', '.join(args)})"


#: How each API's namespaces are reached from user code.
API_OWNER = {"admin": "mall.admin", "front": "mall.front", "analytics": "mall.analytics",
             "dcollection": "api.dcollection"}


def namespace_doc(
    api: str, parts: tuple[str, ...], routes: Mapping[str, Route], children: Iterable[str]
) -> str:
    """The docstring of a namespace: its actions (call, method and path, summary) and the
    namespaces below it."""
    owner = API_OWNER.get(api, api)
    where = ".".join((owner, *parts))
    lines = [f"{where}: the {api} API" + (f"'s {'.'.join(parts)} calls" if parts else "")]
    actions: list[tuple[str, Route]] = []
    for action in sorted(routes):
        route = routes[action]
        actions.append((action, route))
        if route.pagination is not None and action.startswith("list"):
            actions.append(("iterate" + action[4:], route))
        if action == "list" and route.changes is not None:
            actions.append(("iterate_changes", route))
    if actions:
        lines += ["", "Actions (coroutines: `await` them; `iterate...` are async iterators, every record):"]
        for name, route in actions:
            summary = route.summary or ""
            text = call_text(route, owner, name).removeprefix(where + ".")
            if name == "iterate_changes":  # its own keyword: the moment changes are read from
                head = text[:-1]
                text = head + ("" if head.endswith("(") else ", ") + "since=...)"
            lines.append(f"    {text}")
            lines.append(f"        {route.method} {route.path}" + (f"  {summary}" if summary else ""))
        lines += ["", f"help({where}.<action>) shows every parameter with its rules and the call options."]
    below = sorted(children)
    if below:
        lines += ["", "Namespaces below: " + ", ".join(below)]
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
