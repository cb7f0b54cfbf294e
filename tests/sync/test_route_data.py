"""Primary keys and change cursors are route data (spec/incremental.json, with sources), and
the README's table of what can be synced says what the data says."""

from __future__ import annotations

import json
import re
from pathlib import Path

from cafe24_async.paging.changes import incremental_routes
from cafe24_async.routes import ROUTES

ROOT = Path(__file__).resolve().parents[2]


def test_every_row_names_its_source_and_a_real_route() -> None:
    spec = json.loads((ROOT / "spec" / "incremental.json").read_text(encoding="utf-8"))
    rows = spec["keys"] + spec["changes"]
    assert all(row["source"].strip() for row in rows)
    listed = {(r.api, r.path) for r in ROUTES if r.method == "GET" and r.action.startswith("list")}
    assert all((row["api"], row["path"]) in listed for row in rows)
    changed = {(r.api, r.path) for r in incremental_routes()}
    assert changed == {(row["api"], row["path"]) for row in spec["changes"]}
    for route in incremental_routes():
        assert route.changes is not None
        if route.changes.date_type is not None:
            enum = next(p.enum for p in route.params if p.name == route.changes.date_type)
            assert set(route.changes.date_types) <= set(enum)
        else:
            assert route.changes.updated is not None
            assert set(route.changes.updated) <= {p.name for p in route.params}


def test_the_readme_table_lists_every_incremental_resource_with_its_key() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Daily sync", 1)[1].split("\n## ", 1)[0]
    table = [line for line in section.splitlines() if line.startswith("| `")]
    shown: dict[str, str | None] = {}
    for line in table:
        names, key = line.split("|")[1:3]
        found = re.findall(r"`([\w.]+)`", key)
        for name in re.findall(r"`([\w.]+)`", names):
            shown[name] = found[0] if found else None
    expected = {}
    for route in incremental_routes():
        name = ".".join(route.namespace)
        expected[name if route.api == "admin" else f"{route.api}.{name}"] = route.primary_key
    assert shown == expected
