"""Generate the typed records and the documented response examples from the API references.

Run from the repository root:

    python scripts/generate_models.py          # rewrite the outputs
    python scripts/generate_models.py --check  # exit 1 if they are out of date

Inputs: `spec/admin-api-reference.txt` (one "<Resource> properties" section per resource,
each attribute with its badges, title, description and codes), `spec/front-api-reference-ko.txt`
(the same sections as tables) and the route table (`cafe24_async.routes.ROUTES`, generated from
`spec/endpoints.json`) for the response roots.

Outputs: `cafe24_async/models/generated.py` (one attrs class per documented resource, plus the
route-to-model tables) and `tests/models/examples/{admin,front}.json` (every response example
of the references, with the route it belongs to), which the round-trip test reads.

Typing rules (the only judgement made here):
- a field whose documented codes are exactly T and F is a flag (`TF`, bool in Python);
- a field with the `timezone` badge, or named `*_date`/`*_datetime` whose every example value
  is an ISO date, is a `datetime`;
- a field named as an amount (`price`, `*_price`, `*_amount`, `*_fee`, `commission`,
  `*_mileage`, `*_deposit`, optionally followed by `_min`/`_max`) with no documented codes,
  whose examples (if any show it) include a decimal string and nothing but numbers, is a
  `Decimal`;
- a field named after a sub-resource that has its own section ("Orders" + `items` is
  "Orders items") holds that record, or a list of them, as the examples show;
- any other field has the JSON types its examples show (with the scalar types the same
  attribute name shows in other resources' examples), else `str` when a length or charset
  is documented, a number when a numeric range is, or `Any`.
The Korean reference prints only the first code of each list and few badges, so a front field
takes the flag/date/decimal decision of the same field in the admin section of the same title.
"""

from __future__ import annotations

import json
import keyword
import re
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from generated_files import write_or_check

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cafe24_async.routes import ROUTES  # noqa: E402

ADMIN_REF = ROOT / "spec" / "admin-api-reference.txt"
FRONT_REF = ROOT / "spec" / "front-api-reference-ko.txt"
OUT_MODULE = ROOT / "cafe24_async" / "models" / "generated.py"
OUT_EXAMPLES = ROOT / "tests" / "models" / "examples"

NAME = re.compile(r"^[a-z][a-z0-9_]*$")
CODE = re.compile(r"^([A-Za-z0-9]{1,5})\s*:\s*\S")
PLACEHOLDER = re.compile(r"\{[^}]*\}")
DEFINITION = re.compile(r"^(GET|POST|PUT|DELETE) '(https://[^/]+)?(/[^']*)'$")
AMOUNT = re.compile(r"^(.+_)?(price|amount|fee|commission|mileage|deposit)(_min|_max)?$")
ENTITY_CAPTION = re.compile(r"^[\w ]*Entity( 관계도)?$")  # a diagram's caption, not prose
DECIMAL_TEXT = re.compile(r"^-?\d+(\.\d+)?$")
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([+-]\d{2}:?\d{2}|Z)?)?$")

ADMIN_BADGES: list[tuple[str, re.Pattern[str]]] = [
    ("max_length", re.compile(r"^Max Length : \[(\d+)\]$")),
    ("min_length", re.compile(r"^Min Length : \[(\d+)\]$")),
    ("charset", re.compile(r"^Type : \[(.+)\]$")),
    ("length", re.compile(r"^Length Min : \[(\d+)\]~Max : \[(\d+)\]$")),
    ("range", re.compile(r"^Min : \[(-?[\d.]+)\]~Max : \[(-?[\d.]+)\]$")),
    ("min", re.compile(r"^Min : \[(-?[\d.]+)\]$")),
    ("max", re.compile(r"^Max : \[(-?[\d.]+)\]$")),
    ("array_max", re.compile(r"^Array Max : \[(\d+)\]$")),
    ("timezone", re.compile(r"^timezone$")),
    ("date", re.compile(r"^Date$")),
]
FRONT_BADGES: list[tuple[str, re.Pattern[str]]] = [
    ("max_length", re.compile(r"^최대글자수 : \[(\d+)자\]$")),
    ("charset", re.compile(r"^형식 : \[(.+)\]$")),
    ("range", re.compile(r"^최소: \[(-?[\d.]+)\]~최대: \[(-?[\d.]+)\]$")),
    ("max", re.compile(r"^최대값: \[(-?[\d.]+)\]$")),
    ("min", re.compile(r"^최소값: \[(-?[\d.]+)\]$")),
    ("array_max", re.compile(r"^배열 최대사이즈: \[(\d+)\]$")),
    ("timezone", re.compile(r"^timezone$")),
    ("required", re.compile(r"^Required$")),
]
JSON_TYPES = {
    "bool": "bool",
    "int": "int",
    "float": "float",
    "str": "str",
    "list": "list[Any]",
    "dict": "dict[str, Any]",
}
TYPE_ORDER = ["bool", "int", "float", "str", "list", "dict"]


@dataclass
class Field:
    name: str
    title: str
    badges: dict[str, tuple[str, ...]]
    codes: list[str]
    observed: list[Any] = field(default_factory=list)
    kind: str = "json"  # flag, datetime, decimal, record, records, json
    target: Section | None = None
    json_types: set[str] = field(default_factory=set)

    @property
    def max_length(self) -> int | None:
        if "max_length" in self.badges:
            return int(self.badges["max_length"][0])
        if "length" in self.badges:
            return int(self.badges["length"][1])
        return None


@dataclass
class Example:
    method: str
    doc_path: str
    body: Any


@dataclass
class Section:
    api: str
    title: str
    intro: str
    fields: list[Field]
    endpoints: list[tuple[str, str]] = field(default_factory=list)
    examples: list[Example] = field(default_factory=list)

    @property
    def class_name(self) -> str:
        name = "".join(singular(w).capitalize() for w in self.title.split())
        return name if self.api == "admin" else f"Front{name}"

    @property
    def roots(self) -> set[str]:
        return {k for e in self.examples if isinstance(e.body, dict) for k in e.body} - {"count"}


def singular(word: str) -> str:
    if word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith("s") and not word.endswith(("ss", "us")):
        return word[:-1]
    return word


def paragraphs(lines: list[str]) -> list[list[str]]:
    out: list[list[str]] = []
    cur: list[str] = []
    for s in lines:
        if s:
            cur.append(s)
        elif cur:
            out.append(cur)
            cur = []
    if cur:
        out.append(cur)
    return out


def match_badge(text: str, table: list[tuple[str, re.Pattern[str]]]) -> tuple[str, tuple[str, ...]] | None:
    for key, rx in table:
        m = rx.match(text)
        if m:
            return key, m.groups()
    return None


def admin_badges(line: str) -> list[tuple[str, tuple[str, ...]]] | None:
    """The badges of one line ("Type : [A-Z0-9] Max Length : [8]" holds two), or None."""
    found = []
    for part in re.split(r"\s+(?=(?:Max Length|Min Length|Type) : \[)", line):
        badge = match_badge(part, ADMIN_BADGES)
        if badge is None:
            return None
        found.append(badge)
    return found


def first_sentence(text: str) -> str:
    text = " ".join(text.split())
    m = re.match(r"(.+?[.!?])(\s|$)", text)
    return (m.group(1) if m else text)[:200]


def endpoint_blocks(
    lines: list[str], start: int, end: int, terminator: str
) -> tuple[list[tuple[str, str]], list[Example]]:
    """The `Definition` lines and `Response example:` bodies between two section headings."""
    endpoints: list[tuple[str, str]] = []
    examples: list[Example] = []
    current: tuple[str, str] | None = None
    for i in range(start, end):
        s = lines[i]
        if s == "Definition":
            j = i + 1
            while not lines[j]:
                j += 1
            m = DEFINITION.match(lines[j])
            if m:
                current = (m.group(1), m.group(3))
                endpoints.append(current)
        elif s == "Response example:" and current is not None:
            k = i + 1
            while k < end and lines[k] != terminator:
                k += 1
            text = "\n".join(lines[i + 1 : k]).strip()
            try:
                body = json.loads(text)
            except json.JSONDecodeError:
                continue  # the reference is cut short in its last example
            examples.append(Example(current[0], current[1], body))
    return endpoints, examples


def parse_admin(text: str) -> list[Section]:
    lines = [line.strip() for line in text.split("\n")]
    titles = [line.strip(" •") for line in text.split("\n")[:100] if line.startswith("  • ")]
    heads = [i for i, s in enumerate(lines) if s.endswith(" properties") and s[:-11] in titles]
    sections: list[Section] = []
    for n, i in enumerate(heads):
        end = heads[n + 1] if n + 1 < len(heads) else len(lines)
        title = lines[i][:-11]
        j = i + 1
        while j < end and lines[j] != "Definition":
            j += 1
        k = j - 1  # the heading of the first endpoint closes the attribute list
        while k > i and not lines[k]:
            k -= 1
        intro_start = i - 1
        while intro_start > 0 and lines[intro_start] != title:
            intro_start -= 1
        intro_paras = paragraphs([s for s in lines[intro_start + 1 : i] if not ENTITY_CAPTION.match(s)])
        intro = " ".join(intro_paras[0]) if intro_paras else ""
        fields: list[Field] = []
        chunks: list[tuple[str, list[list[str]]]] = []
        for para in paragraphs(lines[i + 1 : k]):
            if para[0] == "Attribute Description":
                para = para[1:]
            if not para:
                continue
            is_name = len(para) == 1 or (len(para) == 2 and para[1] == "Required")
            if is_name and NAME.match(para[0]) and para[0] != "timezone":
                chunks.append((para[0], []))
            elif chunks:
                chunks[-1][1].append(para)
        for name, paras in chunks:
            badges: dict[str, tuple[str, ...]] = {}
            while paras and all(admin_badges(s) for s in paras[0]):
                for s in paras.pop(0):
                    badges.update(admin_badges(s) or [])
            title_text = " ".join(paras[0]) if paras else ""
            codes = [m.group(1) for p in paras[1:] for s in p for m in [CODE.match(s)] if m]
            fields.append(Field(name, title_text, badges, codes))
        endpoints, examples = endpoint_blocks(lines, i, end, "Specification")
        sections.append(Section("admin", title, intro, fields, endpoints, examples))
    return sections


FRONT_ROW = re.compile(r"^([a-z][a-z0-9_]*?)(Required)?((?: [^|]*?)?) \|(.*)$")


def parse_front(text: str) -> list[Section]:
    lines = [line.strip() for line in text.split("\n")]
    heads = [
        i
        for i, s in enumerate(lines)
        if s.endswith(" properties") and i + 1 < len(lines) and lines[i + 1].startswith("Attribute |")
    ]
    sections: list[Section] = []
    for n, i in enumerate(heads):
        end = heads[n + 1] if n + 1 < len(heads) else len(lines)
        title = lines[i][:-11]
        j = i + 1
        while j < end and lines[j] != "Definition":
            j += 1
        intro_start = i - 1
        while intro_start > 0 and lines[intro_start] != title:
            intro_start -= 1
        intro = " ".join(lines[intro_start + 1 : i][:1])
        rows: list[tuple[str, dict[str, tuple[str, ...]], list[str]]] = []
        for s in lines[i + 3 : j - 1]:
            m = FRONT_ROW.match(s)
            badge_text = m.group(3).strip() if m else ""
            found = match_badge(badge_text, FRONT_BADGES) if badge_text else None
            if m and (not badge_text or found):
                badges = {found[0]: found[1]} if found else {}
                rows.append((m.group(1), badges, [m.group(4).strip(" |")]))
            elif rows:
                rows[-1][2].append(s.strip(" |"))
        fields: list[Field] = []
        seen: set[str] = set()
        for name, badges, desc in rows:
            if name.endswith("embed") and name[:-5] in seen:
                continue  # "<field>embed" rows repeat an embeddable field
            seen.add(name)
            text_ = " ".join(d for d in desc if d)
            codes = [m.group(1) for m in re.finditer(r"(?:^|\s)([A-Z0-9]{1,5}) : \S", text_)]
            fields.append(Field(name, text_, badges, codes))
        endpoints, examples = endpoint_blocks(lines, i, end, "기본스펙")
        if fields:
            sections.append(Section("front", title, intro, fields, endpoints, examples))
    return sections


def records_of(section: Section) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for ex in section.examples:
        if not isinstance(ex.body, dict):
            continue
        for key, value in ex.body.items():
            if key == "count":
                continue
            items = value if isinstance(value, list) else [value]
            out += [x for x in items if isinstance(x, dict)]
    return out


def link_and_observe(sections: list[Section]) -> None:
    """Attach nested sections, then collect every example value of every field."""
    by_title = {(s.api, s.title.lower()): s for s in sections}
    for s in sections:
        for f in s.fields:
            sub = by_title.get((s.api, f"{s.title} {f.name}".lower()))
            if sub is not None and sub is not s and sub.fields:
                f.target = sub

    def observe(section: Section, record: dict[str, Any], depth: int = 0) -> None:
        fields = {f.name: f for f in section.fields}
        for key, value in record.items():
            f = fields.get(key)
            if f is None:
                continue
            f.observed.append(value)
            if f.target is not None and depth < 5:
                items = value if isinstance(value, list) else [value]
                for item in items:
                    if isinstance(item, dict):
                        observe(f.target, item, depth + 1)

    for s in sections:
        for record in records_of(s):
            observe(s, record)


def decide_kinds(sections: list[Section]) -> None:
    admin_by_title = {s.title: {f.name: f for f in s.fields} for s in sections if s.api == "admin"}
    for s in sections:
        for f in s.fields:
            values = [v for v in f.observed if v is not None]
            if f.target is not None:
                shapes = {type(v).__name__ for v in values}
                if shapes == {"dict"}:
                    f.kind = "record"
                    continue
                if shapes == {"list"} and all(isinstance(x, dict) for v in values for x in v):
                    f.kind = "records"
                    continue
                if not shapes:
                    roots = records_roots(f.target)
                    if f.name in roots or len(set(roots.values())) == 1:
                        f.kind = roots.get(f.name) or next(iter(roots.values()))
                        continue
                f.target = None
            twin = admin_by_title.get(s.title, {}).get(f.name) if s.api == "front" else None
            if twin is not None and twin.title:
                f.title = twin.title  # the English title reads better in the generated code
            if twin is not None and twin.kind in ("flag", "datetime", "decimal"):
                f.kind = twin.kind
                continue
            if set(f.codes) == {"T", "F"} and all(v in ("T", "F") for v in values):
                f.kind = "flag"
            elif "timezone" in f.badges or (
                re.search(r"(^|_)(date|datetime)$", f.name)
                and values
                and all(isinstance(v, str) and ISO_DATE.match(v) for v in values)
            ):
                f.kind = "datetime"
            elif (
                AMOUNT.match(f.name)
                and not f.codes
                and (not values or any(isinstance(v, str) and DECIMAL_TEXT.match(v) for v in values))
                and all(
                    (isinstance(v, str) and DECIMAL_TEXT.match(v))
                    or (isinstance(v, int | float) and not isinstance(v, bool))
                    for v in values
                )
            ):
                f.kind = "decimal"


def gather_json_types(sections: list[Section]) -> None:
    """JSON types of each plain field: its own examples, plus what the same attribute name
    shows elsewhere in the references (`shop_no` is "1" in the order examples and 1 in the
    product examples; both are what the server sends)."""
    scalars = {"bool", "int", "float", "str"}
    by_name: dict[str, set[str]] = defaultdict(set)
    for s in sections:
        for f in s.fields:
            by_name[f.name].update(type(v).__name__ for v in f.observed if v is not None)
    for s in sections:
        for f in s.fields:
            own = {type(v).__name__ for v in f.observed if v is not None}
            elsewhere = by_name[f.name]
            f.json_types = own | (elsewhere & scalars) if own else set(elsewhere)


def records_roots(section: Section) -> dict[str, str]:
    """Root keys of a section's examples: `records` for arrays, `record` for objects."""
    out: dict[str, str] = {}
    for ex in section.examples:
        if isinstance(ex.body, dict):
            for key, value in ex.body.items():
                if isinstance(value, list):
                    out.setdefault(key, "records")
                elif isinstance(value, dict):
                    out.setdefault(key, "record")
    return out


def annotation(f: Field) -> str:
    if f.kind == "flag":
        return "TF"
    if f.kind == "datetime":
        return "datetime | None"
    if f.kind == "decimal":
        return "Decimal | None"
    if f.kind == "record":
        assert f.target is not None
        return f"{f.target.class_name} | None"
    if f.kind == "records":
        assert f.target is not None
        return f"list[{f.target.class_name}] | None"
    seen = set(f.json_types)
    if not seen and {"max_length", "min_length", "charset", "length"} & f.badges.keys():
        seen = {"str"}
    if not seen and {"range", "min", "max"} & f.badges.keys():
        bounds = [b for k in ("range", "min", "max") for b in f.badges.get(k, ())]
        seen = {"float" if any("." in b for b in bounds) else "int"}
    if not seen:
        return "Any"
    if "float" in seen:
        seen.discard("int")
    return " | ".join(JSON_TYPES[t] for t in TYPE_ORDER if t in seen) + " | None"


def comment(f: Field) -> str:
    text = first_sentence(f.title)
    if len(text) > 70:
        text = text[:67].rstrip() + "..."
    notes = []
    if f.max_length is not None:
        notes.append(f"max {f.max_length}")
    return text + (f" ({', '.join(notes)})" if notes else "")


def ordered(sections: list[Section]) -> list[Section]:
    """Sections with every nested record's class before the class that holds it."""
    out: list[Section] = []
    done: set[int] = set()

    def visit(s: Section) -> None:
        if id(s) in done:
            return
        done.add(id(s))
        for f in s.fields:
            if f.target is not None:
                visit(f.target)
        out.append(s)

    for s in sections:
        visit(s)
    return out


def normalized(path: str) -> str:
    return PLACEHOLDER.sub("{}", path)


def namespace(path: str) -> tuple[str, ...]:
    return tuple(seg for seg in path.strip("/").split("/") if not seg.startswith("{"))


def route_models(sections: list[Section]) -> dict[tuple[str, str, str], Section]:
    """(api, path, response_root) of every route that answers a documented resource."""
    documented: dict[tuple[str, str, str], Section] = {}
    spaces: dict[tuple[str, tuple[str, ...]], Section] = {}
    for s in sections:
        for method, path in s.endpoints:
            documented[(s.api, method, normalized(path))] = s
            spaces.setdefault((s.api, namespace(path)), s)

    def root_fits(section: Section, root: str) -> bool:
        known = section.roots | {singular(r) for r in section.roots}
        return root in known or singular(root) in known

    out: dict[tuple[str, str, str], Section] = {}
    by_path = {(r.api, r.method, r.path): r for r in ROUTES}
    for r in ROUTES:
        if r.response_kind == "count" or not r.response_root:
            continue
        found = documented.get((r.api, r.method, normalized(r.path)))
        if found is None:
            candidate = spaces.get((r.api, namespace(r.path)))
            if candidate is not None and root_fits(candidate, r.response_root):
                found = candidate
        if found is None:
            continue
        out[(r.api, r.path, r.response_root)] = found
        twin = by_path.get((r.api, r.method, r.replaced_by or ""))
        if twin is not None and twin.response_root and twin.response_kind != "count":
            out.setdefault((twin.api, twin.path, twin.response_root), found)
    return dict(sorted(out.items()))


def root_models(pairs: dict[tuple[str, str, str], Section]) -> dict[tuple[str, str], Section]:
    """Best guess per (api, root) for callers that know no path: the least nested resource."""
    found: dict[tuple[str, str], set[int]] = defaultdict(set)
    by_id: dict[int, Section] = {}
    for (api, _path, root), s in pairs.items():
        found[(api, root)].add(id(s))
        by_id[id(s)] = s
    out: dict[tuple[str, str], Section] = {}
    for key, ids in sorted(found.items()):
        ranked = sorted((len(by_id[i].title.split()), by_id[i].title) for i in ids)
        if len(ranked) > 1 and ranked[0][0] == ranked[1][0]:
            continue  # two resources equally likely: no guess
        out[key] = next(by_id[i] for i in ids if by_id[i].title == ranked[0][1])
    return out


HEADER = '''"""Typed records for every resource whose properties the API references document.

Generated by scripts/generate_models.py from spec/admin-api-reference.txt,
spec/front-api-reference-ko.txt and the route table; do not edit.

Each class is `attrs.define(kw_only=True)`: slotted (small, fast to build), mutable (a
fetched record can be changed and sent back) and built with keyword arguments only. Every
field is optional and defaults to None, because the API leaves fields out (`fields=`,
embeds, older API versions). Field types:

- `TF`: a documented "T"/"F" flag, True/False in Python;
- `datetime`: timezone-aware; a value without offset is read as KST (+09:00);
- `Decimal`: an amount, read from the exact text the server sent;
- another record class, or a list of them, for a documented sub-resource;
- otherwise the JSON types the documented examples show for the attribute (`Any` when
  none shows it).

Keys the server sends that are not listed here, and values that do not fit their field's
type, are kept verbatim in `extra` (see cafe24_async/models/converter.py), so
`unstructure(structure(x)) == x`.
"""

from datetime import datetime
from decimal import Decimal
from typing import Any

import attrs

from cafe24_async.models.converter import TF, Record'''


def class_text(s: Section) -> str:
    doc = f"{s.title} ({s.api} reference)."
    if s.intro:
        doc += f" {first_sentence(s.intro)}"
    lines = ["", "", "@attrs.define(kw_only=True)", f"class {s.class_name}(Record):"]
    wrapped = wrap(doc, 92)
    if len(wrapped) == 1:
        lines.append(f'    """{wrapped[0]}"""')
    else:
        lines.append(f'    """{wrapped[0]}')
        lines += [f"    {w}" for w in wrapped[1:]]
        lines.append('    """')
    lines.append("")
    for f in s.fields:
        if keyword.iskeyword(f.name) or f.name in ("extra", "_keys"):
            raise SystemExit(f"field name {f.name!r} of {s.title} needs an alias")
        lines.append(f"    {f.name}: {annotation(f)} = None  # {comment(f)}")
    return "\n".join(lines)


def wrap(text: str, width: int) -> list[str]:
    words = text.replace('"""', "'''").replace("\\", "/").split()
    out: list[str] = []
    cur = ""
    for w in words:
        if cur and len(cur) + 1 + len(w) > width:
            out.append(cur)
            cur = w
        else:
            cur = f"{cur} {w}" if cur else w
    if cur:
        out.append(cur)
    return out or [""]


def module_text(sections: list[Section]) -> str:
    pairs = route_models(sections)
    roots = root_models(pairs)
    parts = [HEADER]
    for s in ordered(sections):
        parts.append(class_text(s))
    parts.append("")
    parts.append("")
    parts.append("#: Documented max lengths per record class, for the checks made before a write.")
    parts.append("MAX_LENGTHS: dict[type[Record], dict[str, int]] = {")
    for s in sections:
        limits = {f.name: f.max_length for f in s.fields if f.max_length is not None}
        if limits:
            inner = ", ".join(f"{k!r}: {v}" for k, v in limits.items())
            parts.append(f"    {s.class_name}: {{{inner}}},")
    parts.append("}")
    parts.append("")
    parts.append("#: The record class of each (api, route path, response root) that answers one.")
    parts.append("ROUTE_MODELS: dict[tuple[str, str, str], type[Record]] = {")
    for (api, path, root), s in pairs.items():
        parts.append(f"    ({api!r}, {path!r}, {root!r}): {s.class_name},")
    parts.append("}")
    parts.append("")
    parts.append("#: Best guess per (api, response root) when the route path is not known.")
    parts.append("ROOT_MODELS: dict[tuple[str, str], type[Record]] = {")
    for (api, root), s in roots.items():
        parts.append(f"    ({api!r}, {root!r}): {s.class_name},")
    parts.append("}")
    parts.append("")
    parts.append("ALL_MODELS: tuple[type[Record], ...] = (")
    for s in sections:
        parts.append(f"    {s.class_name},")
    parts.append(")")
    parts.append("")
    return "\n".join(parts)


def examples_text(sections: list[Section], api: str) -> str:
    routes = {(r.api, r.method, normalized(r.path)): r for r in ROUTES if not r.legacy}
    legacy = {(r.api, r.method, normalized(r.path)): r for r in ROUTES if r.legacy}
    rows = []
    for s in sections:
        if s.api != api:
            continue
        for ex in s.examples:
            key = (api, ex.method, normalized(ex.doc_path))
            route = routes.get(key) or legacy.get(key)
            rows.append(
                {
                    "section": s.title,
                    "method": ex.method,
                    "doc_path": ex.doc_path,
                    "route_path": route.path if route else None,
                    "body": ex.body,
                }
            )
    return json.dumps(rows, indent=1, ensure_ascii=False) + "\n"


def build() -> dict[Path, str]:
    admin = parse_admin(ADMIN_REF.read_text(encoding="utf-8"))
    front = parse_front(FRONT_REF.read_text(encoding="utf-8"))
    everything = admin + front
    # count-only sections ("Products cart", "Products hits") still own examples, not models
    link_and_observe(everything)
    decide_kinds(everything)
    gather_json_types(everything)
    modelled = [s for s in everything if s.fields]
    names = [s.class_name for s in modelled]
    if len(names) != len(set(names)):
        raise SystemExit(f"class name clash: {sorted(n for n in names if names.count(n) > 1)}")
    return {
        OUT_MODULE: module_text(modelled),
        OUT_EXAMPLES / "admin.json": examples_text(everything, "admin"),
        OUT_EXAMPLES / "front.json": examples_text(everything, "front"),
    }


def main() -> int:
    return write_or_check(build(), "generate_models.py", (__doc__ or "").splitlines()[0])


if __name__ == "__main__":
    sys.exit(main())
