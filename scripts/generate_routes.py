"""Generate the route table from the endpoint inventory in `spec/endpoints.json`,
corrected by the field facts in `spec/overrides.json`.

Run from the repository root:

    python scripts/generate_routes.py          # rewrite the generated modules
    python scripts/generate_routes.py --check  # exit 1 if they are out of date

It writes one module per API under `cafe24_async/routes/` (admin, front, analytics,
dcollection, and legacy for the older reference's paths), each row plain data, and
the README section "Where the live API differs from the docs" from the overrides
(between its `overrides:start` / `overrides:end` markers).

Overrides (each row with its source): parameters every route of an API takes
(`api_params`), facts about parameters the reference leaves out where they
occur (`param_facts`: a date format, a whole-number type), parameters a route
takes that the reference leaves out
(`add_params`), codes a parameter takes beside the ones its list gives
(`add_codes`: name -> codes), and answer shapes (`lone_object`: one object where
the reference shows a list). Adding a correction is adding a row there.

`spec/incremental.json` gives each list route its primary key (by the rule
written there, or a row) and, where the route can tell what changed in a
period, its change cursor (`Route.primary_key`, `Route.changes`).

Naming rules (the only judgement made here):
- the namespace is the path below the API's base path, placeholders dropped;
- GET ending in `/count` is `count` on the parent namespace;
- GET is `list` when the route pages or answers an array, else `get`;
- POST is `create`, PUT `update`, DELETE `delete`;
- when two routes of one namespace get the same action, the one acting on the
  whole collection (no trailing placeholder) gets `_many` (`orders.update_many`),
  and otherwise the one scoped under a parent gets `_by_<placeholder>`
  (`products.customproperties.get_by_product_no`);
- Python keywords get a trailing underscore (`orders.return_`).
"""

from __future__ import annotations

import json
import keyword
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

from generated_files import write_or_check

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "spec" / "endpoints.json"
OVERRIDES = ROOT / "spec" / "overrides.json"
INCREMENTAL = ROOT / "spec" / "incremental.json"
OUT = ROOT / "cafe24_async" / "routes"
README = ROOT / "README.md"
MARK_START, MARK_END = "<!-- overrides:start -->", "<!-- overrides:end -->"

BASE_PATHS = {"admin": "/api/v2/admin", "front": "/api/v2", "analytics": "", "dcollection": "/api"}
ACTIONS = {"POST": "create", "PUT": "update", "DELETE": "delete"}


def segments(api: str, path: str) -> list[str]:
    return [s for s in path[len(BASE_PATHS[api]) :].strip("/").split("/") if s]


def ident(name: str) -> str:
    return f"{name}_" if keyword.iskeyword(name) else name


def base_naming(e: dict[str, Any]) -> tuple[tuple[str, ...], str]:
    segs = segments(e["api"], e["path"])
    trailing = segs[-1].startswith("{")
    ns = tuple(ident(s) for s in segs if not s.startswith("{"))
    method = e["method"]
    if method == "GET" and ns[-1] == "count" and not trailing:
        return ns[:-1], "count"
    if method == "GET":
        is_list = not trailing and (
            e.get("pagination") is not None or e.get("response_root_type") == "array"
        )
        return ns, "list" if is_list else "get"
    return ns, ACTIONS[method]


def assign_names(entries: list[dict[str, Any]]) -> None:
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = defaultdict(list)
    for e in entries:
        ns, action = base_naming(e)
        e["_ns"], e["_action"] = ns, action
        groups[(e["api"], ns, action)].append(e)
    for group in groups.values():
        if len(group) < 2:
            continue
        for e in group:
            segs = segments(e["api"], e["path"])
            placeholders = [s.strip("{}") for s in segs if s.startswith("{")]
            if not segs[-1].startswith("{") and any(
                segments(o["api"], o["path"])[-1].startswith("{") for o in group if o is not e
            ):
                e["_action"] += "_many"
            elif placeholders and len(placeholders) == max(
                sum(s.startswith("{") for s in segments(o["api"], o["path"])) for o in group
            ):
                e["_action"] += "_by_" + placeholders[0]
    seen: dict[tuple[Any, ...], str] = {}
    for e in entries:
        key = (e["api"], e["_ns"], e["_action"])
        if key in seen:
            raise SystemExit(f"name clash: {key} for {e['path']} and {seen[key]}")
        seen[key] = e["path"]


def param_row(p: dict[str, Any]) -> str:
    args = [repr(p["name"]), repr(p["in"])]
    fields: list[tuple[str, Any, Any]] = [
        ("required", p.get("required", False), False),
        ("type", p.get("type"), None),
        ("minimum", p.get("min"), None),
        ("maximum", p.get("max"), None),
        ("min_length", p.get("min_length"), None),
        ("max_length", p.get("max_length"), None),
        ("multiple", p.get("multiple", False), False),
        ("max_items", p.get("max_items") or p.get("multiple_max"), None),
        ("enum", tuple(p.get("enum") or ()), ()),
        ("format", p.get("format"), None),
        ("charset", p.get("charset"), None),
        ("default", p.get("default"), None),
    ]
    args += [f"{k}={v!r}" for k, v, dflt in fields if v != dflt]
    return f"P({', '.join(args)})"


def ordered_params(e: dict[str, Any]) -> list[dict[str, Any]]:
    """Path params first, in path order (a placeholder missing from the list is added)."""
    placeholders = [s.strip("{}") for s in segments(e["api"], e["path"]) if s.startswith("{")]
    by_name = {p["name"]: p for p in e["params"] if p["in"] == "path"}
    path = [by_name.get(n, {"name": n, "in": "path", "required": True}) for n in placeholders]
    for p in path:
        p["required"] = True
    return path + [p for p in e["params"] if p["in"] != "path"]


def route_row(e: dict[str, Any], legacy: bool) -> str:
    kind = {"array": "list", "number": "count"}.get(e.get("response_root_type") or "", "object")
    if legacy and not e.get("response_root_type"):
        kind = "count" if e["_action"] == "count" else ("list" if e["_action"] == "list" else "object")
    root = e.get("response_root")
    if legacy and root is None:
        last = [s for s in segments(e["api"], e["path"]) if not s.startswith("{")][-1]
        root = "count" if kind == "count" else (last if kind == "list" else last.rstrip("s"))
    limit = e.get("seed_request_limit") or e.get("doc_request_limit")
    if e["api"] in ("front", "dcollection") and e.get("doc_request_limit"):
        limit = e["doc_request_limit"]
    lines = [
        "    Route(",
        f"        api={e['api']!r}, method={e['method']!r}, path={e['path']!r},",
        f"        namespace={e['_ns']!r}, action={e['_action']!r},",
        f"        summary={(e.get('name') or '').strip()!r}, scope={e.get('scope')!r},",
    ]
    extra = []
    if limit:
        extra.append(f"request_limit={limit!r}")
    if root:
        extra.append(f"response_root={root!r}")
    extra.append(f"response_kind={kind!r}")
    if e.get("lone_object"):
        extra.append("lone_object=True")
    if legacy:
        extra.append("legacy=True")
        if e.get("probable_current_path"):
            extra.append(f"replaced_by={e['probable_current_path']!r}")
    if e.get("_key"):
        extra.append(f"primary_key={e['_key']!r}")
    lines.append(f"        {', '.join(extra)},")
    if e.get("_changes"):
        lines.append(f"        changes=Changes({e['_changes']}),")
    pg = e.get("pagination")
    if pg and not pg.get("limit_max"):  # no documented max: the documented limit param or default
        limit_param = next((p for p in e["params"] if p["name"] == "limit"), {})
        pg = dict(pg, limit_max=limit_param.get("max") or pg.get("limit_default"))
    if pg and pg.get("limit_max"):
        pargs = [f"limit_max={pg['limit_max']!r}"]
        for k, dflt in (("limit_min", 1), ("limit_default", None), ("offset_max", None),
                        ("has_offset", True), ("keyset", None)):
            if pg.get(k, dflt) != dflt:
                pargs.append(f"{k}={pg[k]!r}")
        lines.append(f"        pagination=Pagination({', '.join(pargs)}),")
    dr = e.get("date_range")
    if dr:
        dargs = [repr(dr["start"]), repr(dr["end"])]
        if dr.get("required"):
            dargs.append("required=True")
        if dr.get("max_span_months"):
            dargs.append(f"max_span_months={dr['max_span_months']!r}")
        lines.append(f"        date_range=DateRange({', '.join(dargs)}),")
    if e.get("embed"):
        lines.append(f"        embed={tuple(e['embed'])!r},")
    params = ordered_params(e)
    if params:
        lines.append("        params=(")
        lines += [f"            {param_row(p)}," for p in params]
        lines.append("        ),")
    lines.append("    ),")
    return "\n".join(lines)


def module_text(api: str, rows: list[str], legacy: bool) -> str:
    what = (
        "paths of the older reference that the current inventory no longer lists"
        if legacy
        else f"every {api} endpoint of the inventory"
    )
    body = "\n".join(rows)
    used = [name for name in ("Changes", "DateRange", "Pagination") if f"{name}(" in body]
    return "\n".join(
        [
            f'"""Route table: {what}.',
            "",
            "Generated by scripts/generate_routes.py from spec/endpoints.json; do not edit.",
            '"""',
            "",
            f"from cafe24_async.routes.route import {', '.join([*used, 'Route'])}",
            "from cafe24_async.routes.route import Param as P",
            "",
            "ROUTES: tuple[Route, ...] = (",
            *rows,
            ")",
            "",
        ]
    )


def apply_overrides(entries: list[dict[str, Any]], overrides: dict[str, Any]) -> None:
    """Merge the field corrections into the inventory's entries (in place)."""
    for row in overrides["api_params"]:
        for e in entries:
            if e["api"] != row["api"] or any(p["name"] == row["param"]["name"] for p in e["params"]):
                continue
            where = "query" if e["method"] in ("GET", "DELETE") else "body"
            e["params"] = [*e["params"], {**row["param"], "in": where}]
    for row in overrides["param_facts"]:
        for e in entries:
            e["params"] = [
                {**p, **row["set"]} if p["name"] in row["names"] and p["in"] in row["in"] else p
                for p in e["params"]
            ]
    by_key = {(e["method"], e["path"]): e for e in entries}
    for row in overrides["routes"]:
        e = by_key.get((row["method"], row["path"]))
        if e is None:
            raise SystemExit(f"overrides.json: no route {row['method']} {row['path']}")
        known = {p["name"] for p in e["params"]}
        e["params"] = [*e["params"], *(p for p in row.get("add_params", ()) if p["name"] not in known)]
        for name, codes in row.get("add_codes", {}).items():
            e["params"] = add_codes(e, name, codes)
        if row.get("lone_object"):
            e["lone_object"] = True


def add_codes(entry: dict[str, Any], name: str, codes: list[str]) -> list[dict[str, Any]]:
    """The entry's params with `codes` added after the listed codes of param `name`."""
    if not any(p["name"] == name and p.get("enum") for p in entry["params"]):
        raise SystemExit(f"overrides.json: {entry['method']} {entry['path']} has no code list {name}")
    return [
        {**p, "enum": [*p["enum"], *(c for c in codes if c not in p["enum"])]} if p["name"] == name else p
        for p in entry["params"]
    ]


def apply_incremental(entries: list[dict[str, Any]], incremental: dict[str, Any]) -> None:
    """Primary keys and change cursors of list routes (`_key`, `_changes`), in place: a key
    is the last placeholder of a route one level below the list (`keys_rule`), or a row."""
    below: dict[tuple[str, str], str] = {}
    for e in entries:
        parent, _, last = e["path"].rpartition("/")
        if last.startswith("{") and not e["_legacy"]:
            below.setdefault((e["api"], parent), last.strip("{}"))
    rows = {(r["api"], r["path"]): r for r in incremental["keys"]}
    for e in entries:
        if e["method"] == "GET" and e["_action"].startswith("list"):
            row = rows.get((e["api"], e["path"]))
            e["_key"] = row["key"] if row else below.get((e["api"], e["path"]))
    by_path = {(e["api"], e["path"]): e for e in entries if e["method"] == "GET" and not e["_legacy"]}
    for row in incremental["changes"]:
        e = by_path.get((row["api"], row["path"]))
        if e is None or not e["_action"].startswith("list"):
            raise SystemExit(f"incremental.json: no list route GET {row['path']}")
        names = {p["name"] for p in e["params"]}
        wanted = [*row.get("updated", ()), *([row["date_type"]] if "date_type" in row else ())]
        if any(n not in names for n in wanted):
            raise SystemExit(f"incremental.json: GET {row['path']} does not take {wanted}")
        if "updated" in row:
            e["_changes"] = f"updated={tuple(row['updated'])!r}, field={row['field']!r}"
        else:
            e["_changes"] = f"date_type={row['date_type']!r}, date_types={tuple(row['date_types'])!r}"


def overrides_section(overrides: dict[str, Any]) -> str:
    """The README section's body: one line per correction, with its source."""
    lines = ["| Where | What the live API does | Source |", "|---|---|---|"]
    for row in overrides["api_params"]:
        lines.append(f"| every {row['api']} route | takes `{row['param']['name']}` "
                     f"({row['where']}) | {row['source']} |")
    for row in overrides["param_facts"]:
        fact = ", ".join(f"{k} {v}" for k, v in row["set"].items())
        names = ", ".join(f"`{n}`" for n in row["names"])
        where = " and ".join(row["in"])
        lines.append(f"| {where} parameters {names} | are checked as {fact} | {row['source']} |")
    for row in overrides["routes"]:
        what = [f"takes `{p['name']}` ({p['in']})" for p in row.get("add_params", ())]
        for name, codes in row.get("add_codes", {}).items():
            listed = ", ".join(f"`{c}`" for c in codes)
            what.append(f"takes `{name}` values {listed} beside the listed codes")
        if row.get("lone_object"):
            what.append("may answer one object where the docs show a list (read as a one-element list)")
        if row.get("note"):
            what.append(row["note"])
        lines.append(f"| `{row['method']} {row['path']}` | {'; '.join(what)} | {row['source']} |")
    return "\n".join(lines)


def readme_text(overrides: dict[str, Any]) -> str:
    text = README.read_text(encoding="utf-8")
    head, found, rest = text.partition(MARK_START)
    _, found_end, tail = rest.partition(MARK_END)
    if not (found and found_end):
        raise SystemExit(f"README.md lacks the markers {MARK_START} ... {MARK_END}")
    return f"{head}{MARK_START}\n{overrides_section(overrides)}\n{MARK_END}{tail}"


def build() -> dict[str, str]:
    spec = json.loads(SPEC.read_text(encoding="utf-8"))
    overrides = json.loads(OVERRIDES.read_text(encoding="utf-8"))
    current = spec["endpoints"]
    apply_overrides([*current, *spec["seed_only_endpoints"]], overrides)
    legacy = spec["seed_only_endpoints"]
    by_key = {(e["method"], e["path"]): e for e in current}
    for e in legacy:  # a legacy path answers like the current path that replaced it
        twin = by_key.get((e["method"], e.get("probable_current_path")))
        if twin:
            e.setdefault("response_root_type", twin["response_root_type"])
            e.setdefault("response_root", twin["response_root"])
    everything = [dict(e, _legacy=False) for e in current] + [dict(e, _legacy=True) for e in legacy]
    assign_names(everything)
    apply_incremental(everything, json.loads(INCREMENTAL.read_text(encoding="utf-8")))
    files: dict[str, str] = {}
    for api in ("admin", "front", "analytics", "dcollection"):
        rows = [route_row(e, False) for e in everything if e["api"] == api and not e["_legacy"]]
        files[f"{api}.py"] = module_text(api, rows, False)
    files["legacy.py"] = module_text(
        "legacy", [route_row(e, True) for e in everything if e["_legacy"]], True
    )
    return files


def main() -> int:
    outputs = {OUT / name: text for name, text in build().items()}
    outputs[README] = readme_text(json.loads(OVERRIDES.read_text(encoding="utf-8")))
    return write_or_check(outputs, "generate_routes.py", (__doc__ or "").splitlines()[0])


if __name__ == "__main__":
    sys.exit(main())
