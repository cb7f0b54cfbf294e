"""The route table against the endpoint inventory, and the namespaces built from it."""

from __future__ import annotations

import inspect
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from cafe24_async import Cafe24
from cafe24_async.routes import ROUTES, find_route

SPEC = json.loads((Path(__file__).parents[2] / "spec" / "endpoints.json").read_text(encoding="utf-8"))


def resolve(mall: Any, route: Any, client: Any = None) -> Any:
    """The coroutine of `route` on `mall` (D.Collection routes on `client.dcollection`)."""
    target = client.dcollection if route.api == "dcollection" else getattr(mall, route.api)
    for part in route.namespace:
        target = getattr(target, part)
    return getattr(target, route.action)


def test_every_inventory_endpoint_is_one_row() -> None:
    current = {(e["method"], e["path"]) for e in SPEC["endpoints"] if e["api"] in ("admin", "front")}
    assert len(current) == 451
    rows = Counter((r.method, r.path) for r in ROUTES if not r.legacy)
    assert all(count == 1 for count in rows.values())
    assert {(r.method, r.path) for r in ROUTES if r.api in ("admin", "front") and not r.legacy} == current
    legacy = {(e["method"], e["path"]) for e in SPEC["seed_only_endpoints"]}
    assert {(r.method, r.path) for r in ROUTES if r.legacy} == legacy and len(legacy) == 21


OVERRIDES = json.loads((Path(__file__).parents[2] / "spec" / "overrides.json").read_text(encoding="utf-8"))


def corrected(route: Any) -> set[str]:
    """Parameters `spec/overrides.json` adds to `route`."""
    added = {row["param"]["name"] for row in OVERRIDES["api_params"] if row["api"] == route.api}
    for row in OVERRIDES["routes"]:
        if (row["method"], row["path"]) == (route.method, route.path):
            added |= {p["name"] for p in row.get("add_params", ())}
    return added


def test_rows_carry_the_documented_facts_and_the_field_corrections() -> None:
    by_key = {(e["method"], e["path"]): e for e in SPEC["endpoints"]}
    for route in ROUTES:
        if route.legacy:
            continue
        e = by_key[(route.method, route.path)]
        assert route.scope == e["scope"]
        assert route.response_root == e["response_root"]
        documented = {p["name"] for p in e["params"]}
        assert {p.name for p in route.params} == documented | set(route.path_params) | corrected(route)
        required = {p["name"] for p in e["params"] if p["required"]}
        assert required <= {p.name for p in route.params if p.required}
        pg = e["pagination"]
        if pg and pg["limit_max"]:
            assert route.pagination is not None
            assert (route.pagination.limit_max, route.pagination.offset_max, route.pagination.keyset) == (
                pg["limit_max"], pg["offset_max"], pg["keyset"])


def test_documented_caps_of_key_routes() -> None:
    products = find_route("GET", "/api/v2/admin/products")
    assert products.pagination is not None
    assert (products.pagination.limit_max, products.pagination.offset_max) == (100, 5000)
    assert products.pagination.keyset == "since_product_no"
    orders = find_route("GET", "/api/v2/admin/orders")
    assert orders.date_range is not None and orders.date_range.max_span_months == 3
    assert find_route("GET", "/api/v2/admin/scripttags").request_limit == 10


async def test_every_route_reachable_through_namespaces() -> None:
    api = Cafe24(client_id="cid", client_secret="secret")
    mall = api.mall("acme")
    names = set()
    for route in ROUTES:
        fn = resolve(mall, route, api)
        assert fn.__name__ == route.action
        assert f"{route.method} {route.path}" in fn.__doc__
        assert route.scope is None or route.scope in fn.__doc__
        names.add(route.qualified_name)
        params = list(inspect.signature(fn).parameters)
        assert params[: len(route.path_params)] == list(route.path_params)
    assert len(names) == len(ROUTES)
    await api.close()


async def test_namespaces_list_their_actions() -> None:
    api = Cafe24(client_id="cid")
    mall = api.mall("acme")
    assert {"list", "count", "get", "create", "update", "delete", "iterate", "variants"} <= set(dir(mall.admin.products))
    assert "GET /api/v2/admin/products" in (mall.admin.products.list.__doc__ or "")
    with pytest.raises(AttributeError, match="has no 'lisst'"):
        _ = mall.admin.products.lisst
    assert mall.admin.orders.update_many.__doc__.splitlines()[0] == "Update status for multiple orders"
    await api.close()


def test_route_counts_per_api() -> None:
    counts = Counter(r.api for r in ROUTES if not r.legacy)
    assert counts == {"admin": 431, "front": 20, "analytics": 24, "dcollection": 5}
