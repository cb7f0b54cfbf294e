"""Generate the typed API surface and the route reference from the route table.

Run from the repository root, after `scripts/generate_routes.py` (and
`scripts/generate_models.py`, whose record classes the typed overloads name):

    python scripts/generate_api_types.py          # rewrite the outputs
    python scripts/generate_api_types.py --check  # exit 1 if they are out of date

Outputs:

- `cafe24_async/api_types.py`: one `Protocol` per namespace (`Admin_Products_Variants`),
  with an attribute per child namespace and a method per action, so a type checker and
  an editor know every `mall.admin...` call the binder builds at runtime: its path
  params (positional or by name), its documented params (keyword-only, required ones
  without a default), the call options and the return type;
- `docs/routes.md`: one line per route (Python call, HTTP method and path, scope,
  paging and date rules), grouped by API and resource, to grep for a known path.

Typing rules (the only judgement made here; the runtime checks stay in `pipeline/build.py`):

- path params: `int` where the docs say integer or number (`product_no`), `str` where
  they say string (`variant_code`, `order_id`), else `int | str`;
- "number": `int`, or `int | float | Decimal` when a documented bound is fractional
  or the name is an amount, rate or weight;
- "date"/"datetime" (type or format), the route's date-range params, and untyped
  params named `*_date`: `date | datetime | str`;
- codes that are only T and F: `bool | Literal["T", "F"]` (bools are sent as T/F);
  other documented codes: `Literal[...]`, plus `int` when every code is a plain number;
- "string": `str`; "object": `Mapping[str, Any]`; "array": `Sequence[Any]`;
- params taking several values: `Sequence[X] | X | str` (a comma-joined string works);
- anything the docs do not type: `Any`.

Return types: `list[dict[str, Any]]`, `int` or `dict[str, Any]` by the route's response
kind; where the models package maps the route to a record class, two overloads return
that class (a list of them for lists) for `typed=True` and dicts otherwise.

One signature per coroutine wherever the return type allows it, so that mypy names the
parameter of a wrong-typed argument ('Argument "limit" to "count" of "Admin_Products" has
incompatible type "str"; expected "int | None"') instead of listing overloads. Overloads
are kept only for `typed=True` where a record class exists. A write's body may be given
as documented params, as `request=` or as `requests=[...]`, all in one signature; its
required fields are checked at run time (`ValidationError` naming them) since a type
cannot say "these names, or `request`".
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Iterable
from pathlib import Path

from generated_files import write_or_check

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cafe24_async.api import (  # noqa: E402
    CALL_OPTIONS,
    NamespaceNode,
    api_tree,
    endpoint_function,
    iterator_function,
    iterator_name,
)
from cafe24_async.api.binder import changes_function  # noqa: E402
from cafe24_async.paging.changes import cursor_params  # noqa: E402
from cafe24_async.routes import APIS, ROUTES  # noqa: E402
from cafe24_async.routes.route import Param, Route  # noqa: E402

OUT_MODULE = ROOT / "cafe24_async" / "api_types.py"
OUT_DOCS = ROOT / "docs" / "routes.md"
API_ORDER = ("admin", "front", "analytics", "dcollection")
#: How each API is reached from user code.
API_OWNER = {
    "admin": "mall.admin",
    "front": "mall.front",
    "analytics": "mall.analytics",
    "dcollection": "client.dcollection",
}
API_TITLE = {
    "admin": "Admin API",
    "front": "Front API",
    "analytics": "Analytics API",
    "dcollection": "D.Collection API",
}
AMOUNT = re.compile(r"(^|_)(price|amount|fee|commission|mileage|deposit|point|points|rate|ratio|weight)(_|$)")
PLAIN_NUMBER = re.compile(r"^-?[1-9][0-9]*$|^0$")
#: Names written unqualified in annotations; no namespace or action may shadow them.
RESERVED = {
    "Any", "AsyncIterator", "Literal", "Mapping", "Protocol", "Sequence", "TypeAlias",
    "builtins", "bool", "date", "datetime", "Decimal", "dict", "float", "int", "models",
    "overload", "str", "timedelta", "DateLike", "Fields", "JsonObject", "Number", "PathValue",
}

ModelLookup = Callable[[Route], "type | None"]


# -- the types of params ---------------------------------------------------------------


def literal(codes: Iterable[str]) -> str:
    return "Literal[" + ", ".join(json.dumps(c, ensure_ascii=False) for c in codes) + "]"


def is_fractional(value: float | None) -> bool:
    return value is not None and value != int(value)


def scalar_type(param: Param, route: Route) -> str:
    """The type of one value of `param`."""
    date_range = route.date_range
    if param.enum and set(param.enum) <= {"T", "F"}:
        return f"bool | {literal(param.enum)}"
    if param.type == "integer":
        return "int"
    if param.type == "number":
        if is_fractional(param.minimum) or is_fractional(param.maximum) or AMOUNT.search(param.name):
            return "Number"
        return "int"
    if param.type in ("date", "datetime") or param.format in ("date", "datetime"):
        return "DateLike"
    if param.type is None and (
        (date_range is not None and param.name in (date_range.start, date_range.end))
        or param.name.endswith("_date")
    ):
        return "DateLike"
    if param.type == "object":
        return "Mapping[str, Any]"
    if param.type == "array":
        return "Sequence[Any]"
    if param.enum:
        if all(PLAIN_NUMBER.match(c) for c in param.enum):
            return f"{literal(param.enum)} | int"
        return literal(param.enum)
    if param.type == "string":
        return "str"
    return "Any"


def path_type(param: Param | None) -> str:
    """The annotation of a path placeholder: its documented type, else `PathValue`."""
    if param is not None and param.type in ("integer", "number"):
        return "int"
    if param is not None and param.type == "string":
        return "str"
    return "PathValue"


def param_type(param: Param, route: Route) -> str:
    """The annotation of `param` (without `| None`)."""
    one = scalar_type(param, route)
    if not param.multiple:
        return one
    if one == "Any":
        return "Sequence[int | str] | int | str"
    if one in ("str", "DateLike") or one.startswith("Literal["):
        return f"Sequence[{one}] | str"
    return f"Sequence[{one}] | {one} | str"


# -- signatures --------------------------------------------------------------------------


class Arg:
    """One parameter of a generated signature."""

    def __init__(self, name: str, annotation: str, required: bool) -> None:
        self.name = name
        self.annotation = annotation
        self.required = required

    def render(self) -> str:
        if self.required:
            return f"{self.name}: {self.annotation}"
        optional = self.annotation if self.annotation == "Any" else f"{self.annotation} | None"
        return f"{self.name}: {optional} = None"


def documented_args(route: Route) -> tuple[list[Arg], list[Arg]]:
    """(path params, keyword-only documented params), as the binder orders them."""
    in_path = {p.name: p for p in route.params if p.location == "path"}
    path = [Arg(name, path_type(in_path.get(name)), True) for name in route.path_params]
    seen = set(route.path_params)
    keywords = []
    for p in route.params:
        if p.location == "path" or p.name in seen or not p.name.isidentifier():
            continue
        if p.name == "self":
            raise SystemExit(f"{route.method} {route.path}: a param named self cannot be a method param")
        seen.add(p.name)
        filled_in = p.name in APIS[route.api].mall_query  # the client fills it from the mall
        keywords.append(Arg(p.name, param_type(p, route), p.required and not filled_in))
    if route.api == "admin" and route.method in ("POST", "PUT") and "shop_no" not in seen:
        keywords.append(Arg("shop_no", "int", False))  # every admin write accepts it
    return path, keywords


def extra_args(route: Route, iterate: bool) -> list[Arg]:
    """`fields`, `embed`: what the binder adds besides the documented params."""
    names = {a.name for a in documented_args(route)[1]}
    extra = []
    if route.method == "GET" and "fields" not in names:
        extra.append(Arg("fields", "Fields", False))
    if route.embed and "embed" not in names:
        extra.append(Arg("embed", f"Sequence[{literal(route.embed)}] | str", False))
    if iterate:
        extra.append(Arg("concurrency", "int", False))
    extra.append(Arg("extra_params", "Mapping[str, Any]", False))  # sent unchecked
    return extra


OPTION_TYPES = {"typed": "bool", "timeout": "Timeout", "retry_writes": "bool"}


def option_args(iterate: bool, typed: str | None) -> list[Arg]:
    """`typed`, `timeout`, `retry_writes` (iterators take no `retry_writes`).

    `typed` is the overload's annotation: None for `bool | None = None`, "True" for
    a required `Literal[True]`, "False" for `Literal[False] | None = None`.
    """
    args = []
    for name in CALL_OPTIONS:
        if iterate and name == "retry_writes":
            continue
        if name == "typed" and typed == "True":
            args.append(Arg("typed", "Literal[True]", True))
        elif name == "typed" and typed == "False":
            args.append(Arg("typed", "Literal[False]", False))
        elif name == "timeout" and iterate:
            args.append(Arg(name, "float", False))  # seconds for each page's call
        else:
            args.append(Arg(name, OPTION_TYPES[name], False))
    return args


def render_def(name: str, is_async: bool, path: list[Arg], keywords: list[Arg], returns: str,
               doc: str | None, overload: bool) -> list[str]:
    lines = ["    @overload"] if overload else []
    lines.append(f"    {'async def' if is_async else 'def'} {name}(")
    lines.append("        self,")
    lines += [f"        {a.render()}," for a in path]
    lines.append("        *,")
    lines += [f"        {a.render()}," for a in keywords]
    if doc is None:
        lines.append(f"    ) -> {returns}: ...")
    else:
        lines.append(f"    ) -> {returns}:")
        lines += docstring_lines(doc)
    return lines


def docstring_lines(doc: str) -> list[str]:
    text = doc.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    lines = [line.rstrip() for line in text.strip().splitlines()]
    body = [f"        {line}" if line else "" for line in lines]
    body[0] = '        """' + body[0].lstrip()
    if body[-1].endswith('"'):
        body.append('        """')
    else:
        body[-1] += '"""'
    return body


def model_name(model: type | None) -> str | None:
    if model is None:
        return None
    module = model.__module__
    if module != "cafe24_async.models.generated":
        raise SystemExit(f"record class {model!r} is not in cafe24_async.models.generated")
    return f"models.{model.__qualname__}"


def action_lines(route: Route, name: str, model: str | None) -> list[str]:
    """The method (or overloads) of one action: `get`, `list`, `iterate`..."""
    iterate = name != route.action
    path, documented = documented_args(route)
    extra = extra_args(route, iterate)
    if name == "iterate_changes":  # the period first: what a reader of the signature looks for
        documented = [a for a in documented if a.name not in cursor_params(route)]
        extra = [Arg("since", "DateLike", True), Arg("until", "DateLike", False),
                 Arg("lookback", "float | timedelta", False), Arg("date_types", "Sequence[str]", False),
                 *extra]
    if iterate:
        bound = changes_function(route) if name == "iterate_changes" else iterator_function(route, name)
        doc = bound.__doc__
        plain, typed_return = "AsyncIterator[JsonObject]", f"AsyncIterator[{model}]"
    else:
        doc = endpoint_function(route).__doc__
        plain = {"list": "builtins.list[JsonObject]", "count": "int", "object": "JsonObject"}[
            route.response_kind
        ]
        typed_return = f"builtins.list[{model}]" if route.response_kind == "list" else f"{model}"
    if route.response_kind == "count":
        model = None
    writes = route.method in ("POST", "PUT")
    body = f"{model} | Mapping[str, Any]" if model else "Mapping[str, Any]"
    if writes:  # the body as params, `request=` or `requests=[...]`: required fields checked at run time
        shape = [Arg(a.name, a.annotation, False) for a in documented]
        shape += [*extra, Arg("requests", f"Sequence[{body}]", False), Arg("request", body, False)]
    else:
        shape = documented + extra
    variants: list[tuple[list[Arg], str]] = []
    if model is None:
        variants.append((shape + option_args(iterate, None), plain))
    else:
        variants.append((shape + option_args(iterate, "False"), plain))
        variants.append((shape + option_args(iterate, "True"), typed_return))
    overload = len(variants) > 1
    lines: list[str] = []
    for index, (keywords, returns) in enumerate(variants):
        # Required keywords first: they are what a reader of the signature looks for.
        ordered = [a for a in keywords if a.required] + [a for a in keywords if not a.required]
        lines += render_def(name, not iterate, path, ordered, returns,
                            doc if index == 0 else None, overload)
    return lines


# -- the module ------------------------------------------------------------------------


def class_name(api: str, parts: tuple[str, ...]) -> str:
    def camel(word: str) -> str:
        return "".join(piece.capitalize() for piece in word.split("_") if piece)

    return "_".join([camel(api), *(camel(p) for p in parts)])


def walk(node: NamespaceNode, parts: tuple[str, ...] = ()) -> Iterable[tuple[tuple[str, ...], NamespaceNode]]:
    yield parts, node
    for name in sorted(node.children):
        yield from walk(node.children[name], (*parts, name))


def protocol_lines(api: str, parts: tuple[str, ...], node: NamespaceNode, lookup: ModelLookup | None,
                   used_models: set[str]) -> list[str]:
    name = class_name(api, parts)
    where = ".".join((API_OWNER[api], *parts))
    lines = ["", "", f"class {name}(Protocol):", f'    """`{where}`."""']
    for child in sorted(node.children):
        check_name(child, where)
        lines.append(f"    {child}: {class_name(api, (*parts, child))}")
    for action in sorted(node.routes):
        route = node.routes[action]
        check_name(action, where)
        model = model_name(lookup(route)) if lookup is not None else None
        if model is not None and route.response_kind != "count":
            used_models.add(model)
        lines.append("")
        lines += action_lines(route, action, model)
        iterator = iterator_name(action)
        if route.pagination is not None and iterator is not None:
            check_name(iterator, where)
            lines.append("")
            lines += action_lines(route, iterator, model)
        if action == "list" and route.changes is not None:
            lines.append("")
            lines += action_lines(route, "iterate_changes", model)
    return lines


def check_name(name: str, where: str) -> None:
    if name in RESERVED:
        raise SystemExit(f"{where}.{name} would shadow a name the annotations use; rename it")


def model_lookup() -> ModelLookup | None:
    """The models package's route-to-record lookup, or None while it does not exist."""
    try:
        from cafe24_async import models
    except ImportError:
        return None
    exact: ModelLookup | None = getattr(models, "model_for_route", None)
    if exact is not None:
        return exact
    loose: Callable[[str, str], type | None] | None = getattr(models, "model_for", None)
    if loose is None:
        return None
    return lambda route: loose(route.api, route.response_root or "")


MODULE_HEAD = '''"""Static types of every namespace and endpoint coroutine the binder builds at runtime.

`cafe24_async.binder` turns the route table into namespaces and coroutines when the
program runs, so a type checker or an editor would see only `Any` behind
`mall.admin`. This module describes the same tree as `Protocol` classes, one per
namespace (`Admin_Products_Variants` is `mall.admin.products.variants`): child
namespaces are attributes; each action is a method with the documented params
(path params positional or by name, the rest keyword-only, required ones without a
default), their documented types where the docs give them, and the return type.

`Mall` and `Cafe24.dcollection` are declared with these types; the module is only
imported when type checking (or by code that wants to annotate with it), so
importing `cafe24_async` does not build these classes.

Where a route answers with a record class of `cafe24_async.models`, overloads return
it for `typed=True`; `typed=None` is typed as the client default `typed=False`, so a
client created with `typed=True` should pass `typed=True` to get the record types.

Generated by scripts/generate_api_types.py from the route table; do not edit.
"""

from __future__ import annotations

import builtins
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeAlias, overload

from cafe24_async.transport import TimeoutSettings

if TYPE_CHECKING:
    from cafe24_async.models import generated as models

#: One decoded JSON object, as the API answers it.
JsonObject: TypeAlias = dict[str, Any]
#: A path placeholder value.
PathValue: TypeAlias = int | str
#: A date param: `date`/`datetime` objects are rendered for you (Korea time), text is checked.
DateLike: TypeAlias = date | datetime | str
#: A number param that may be fractional.
Number: TypeAlias = int | float | Decimal
#: `fields=`: the response fields to return, as a list or a comma-joined string.
Fields: TypeAlias = Sequence[str] | str
#: `timeout=`: seconds for the whole call (retries included), or per-request limits.
Timeout: TypeAlias = float | TimeoutSettings

__all__ = [
{names}
]
'''


def module_text(lookup: ModelLookup | None) -> str:
    body: list[str] = []
    names: list[str] = []
    used_models: set[str] = set()
    for api in API_ORDER:
        for parts, node in walk(api_tree(api)):
            names.append(class_name(api, parts))
            body += protocol_lines(api, parts, node, lookup, used_models)
    if len(set(names)) != len(names):
        raise SystemExit("two namespaces map to one Protocol name")
    exported = sorted([*names, "DateLike", "Fields", "JsonObject", "Number", "PathValue", "Timeout"])
    head = MODULE_HEAD.replace("{names}", "\n".join(f'    "{n}",' for n in exported))
    if not used_models:
        head = head.replace("TYPE_CHECKING, ", "").replace(
            "\nif TYPE_CHECKING:\n    from cafe24_async.models import generated as models\n", ""
        )
    text = head + "\n".join(body) + "\n"
    return text


# -- the route reference -------------------------------------------------------------------


def call_text(route: Route, name: str | None = None) -> str:
    """`mall.admin.products.variants.get(product_no, variant_code)` with required keywords."""
    path, keywords = documented_args(route)
    args = [a.name for a in path] + [f"{a.name}=…" for a in keywords if a.required]
    target = ".".join((API_OWNER[route.api], *route.namespace, name or route.action))
    return f"{target}({', '.join(args)})"


def rules_text(route: Route) -> str:
    rules = []
    if route.legacy:
        rules.append("legacy" + (f", replaced by `{route.replaced_by}`" if route.replaced_by else ""))
    pg = route.pagination
    if pg is not None:
        paging = f"limit ≤ {pg.limit_max}"
        if pg.offset_max is not None:
            paging += f", offset ≤ {pg.offset_max}"
        if pg.keyset:
            paging += f", then `{pg.keyset}`"
        rules.append(paging)
        iterator = iterator_name(route.action)
        if iterator:
            rules.append(f"`{iterator}()` for all")
    dr = route.date_range
    if dr is not None:
        dates = f"dates `{dr.start}`..`{dr.end}`"
        if dr.required:
            dates += " required"
        if dr.max_span_months:
            dates += f", ≤ {dr.max_span_months} months each"
        rules.append(dates)
    if route.request_limit:
        rules.append(f"request limit {route.request_limit}")
    return "; ".join(rules)


def cell(text: str) -> str:
    return text.replace("|", "\\|")


def docs_text() -> str:
    lines = [
        "# Route reference",
        "",
        "Every documented endpoint and the Python call that reaches it, one line per route,",
        "grouped by API and resource. Search this file for the HTTP path you know. Any route",
        "can also be called by its method and path:",
        "`await mall.call(\"GET\", \"/api/v2/admin/products/{product_no}\", product_no=1)`.",
        "",
        "Path params are positional (or by name); `name=…` marks a required keyword param;",
        "every other documented param is an optional keyword. `help()` on a coroutine shows",
        "all of its params and their rules.",
        "",
        "Generated by `scripts/generate_api_types.py` from the route table; do not edit.",
        "",
        f"{len(ROUTES)} routes.",
    ]
    for api in API_ORDER:
        routes = [r for r in ROUTES if r.api == api]
        definition = APIS[api]
        lines += ["", f"## {API_TITLE[api]} (`{API_OWNER[api]}`)", ""]
        lines.append(f"Base URL `{definition.base_url}`; {len(routes)} routes.")
        resources: dict[str, list[Route]] = {}
        for route in routes:
            resources.setdefault(route.namespace[0] if route.namespace else "(root)", []).append(route)
        for resource in sorted(resources):
            lines += ["", f"### {api}.{resource}", ""]
            lines += ["| Python | HTTP | Scope | Paging and dates |", "|---|---|---|---|"]
            ordered = sorted(resources[resource], key=lambda r: (r.path, r.method, r.action))
            for route in ordered:
                lines.append(
                    f"| `{cell(call_text(route))}` | `{route.method} {cell(route.path)}` "
                    f"| {cell(route.scope or '—')} | {cell(rules_text(route) or '—')} |"
                )
    return "\n".join(lines) + "\n"


# -- main ----------------------------------------------------------------------------------


def build() -> dict[Path, str]:
    return {OUT_MODULE: module_text(model_lookup()), OUT_DOCS: docs_text()}


def main() -> int:
    return write_or_check(build(), "generate_api_types.py", (__doc__ or "").splitlines()[0])


if __name__ == "__main__":
    sys.exit(main())
