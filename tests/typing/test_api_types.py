"""The generated Protocols describe exactly what the binder builds, and stay current.

`cafe24_async.api_types` and `docs/routes.md` are generated from the route table by
`scripts/generate_api_types.py`. These tests hold them to the runtime: every
namespace's members, every coroutine's parameter names, kinds and required-ness,
the route reference's lines, and the promise that importing `cafe24_async` does not
load the Protocols.
"""

from __future__ import annotations

import inspect
import subprocess
import sys
import types
import typing
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from cafe24_async import Cafe24, api_types
from cafe24_async.binder import CALL_OPTIONS, Namespace, NamespaceNode, api_tree, iterator_name, signature
from cafe24_async.routes import ROUTES
from cafe24_async.routes.route import Route

ROOT = Path(__file__).resolve().parents[2]
APIS = ("admin", "front", "analytics", "dcollection")


def protocol_name(api: str, parts: tuple[str, ...]) -> str:
    def camel(word: str) -> str:
        return "".join(piece.capitalize() for piece in word.split("_") if piece)

    return "_".join([camel(api), *(camel(p) for p in parts)])


def nodes() -> Iterator[tuple[str, tuple[str, ...], NamespaceNode]]:
    def walk(api: str, node: NamespaceNode, parts: tuple[str, ...]) -> Iterator[Any]:
        yield api, parts, node
        for name, child in node.children.items():
            yield from walk(api, child, (*parts, name))

    for api in APIS:
        yield from walk(api, api_tree(api), ())


def variants(protocol: type, name: str) -> list[Callable[..., Any]]:
    function: Callable[..., Any] = protocol.__dict__[name]
    # An overloaded name is bound to typing's placeholder; look the overloads up by name.
    qualname = f"{protocol.__qualname__}.{name}"
    key = types.SimpleNamespace(__module__=protocol.__module__, __qualname__=qualname)
    overloads = typing.get_overloads(key) or [function]  # type: ignore[arg-type]
    return list(overloads)


def runtime_members(client: Cafe24, api: str, parts: tuple[str, ...]) -> set[str]:
    target: Any = client.dcollection if api == "dcollection" else getattr(client.mall("acme"), api)
    for part in parts:
        target = getattr(target, part)
    assert isinstance(target, Namespace)
    return set(dir(target))


async def test_one_protocol_per_namespace_with_the_same_members() -> None:
    client = Cafe24(client_id="cid", client_secret="secret")
    count = 0
    for api, parts, _node in nodes():
        protocol = getattr(api_types, protocol_name(api, parts))
        members = set(vars(protocol).get("__annotations__", {}))  # child namespaces
        members |= {n for n, v in vars(protocol).items() if inspect.isfunction(v) and not n.startswith("_")}
        assert members == runtime_members(client, api, parts), protocol.__name__
        count += 1
    assert count > 250
    await client.close()


def expected_names(route: Route, iterate: bool) -> set[str]:
    extra = ("concurrency",) if iterate else ()
    names = set(list(signature(route, extra).parameters)[1:])
    if iterate:
        names.discard("retry_writes")  # the iterators take typed, timeout and concurrency only
    if route.api == "admin" and route.method in ("POST", "PUT"):
        names.add("shop_no")  # every admin write body takes it (params.prepare)
    return names


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: f"{r.method} {r.path}")
def test_coroutine_signatures_match_the_binder(route: Route) -> None:
    protocol = getattr(api_types, protocol_name(route.api, route.namespace))
    names = [route.action]
    iterator = iterator_name(route.action)
    if route.pagination is not None and iterator is not None:
        names.append(iterator)
    for name in names:
        iterate = name != route.action
        runtime = signature(route, ("concurrency",) if iterate else ())
        required = {
            n for n, p in list(runtime.parameters.items())[1:] if p.default is inspect.Parameter.empty
        }
        seen: set[str] = set()
        required_sets = []
        for function in variants(protocol, name):
            assert inspect.iscoroutinefunction(function) is not iterate  # iterate() is a plain def
            params = list(inspect.signature(function).parameters.values())[1:]
            seen |= {p.name for p in params}
            positional = [p.name for p in params if p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD]
            assert positional == list(route.path_params)
            assert all(
                p.kind is inspect.Parameter.KEYWORD_ONLY for p in params if p.name not in route.path_params
            )
            required_sets.append({p.name for p in params if p.default is inspect.Parameter.empty})
        assert seen == expected_names(route, iterate), name
        # One signature, and a second one only for `typed=True` where a record class exists:
        # so mypy names the parameter of a wrong-typed argument instead of listing overloads.
        assert len(required_sets) == (2 if has_model(route) else 1), (name, required_sets)
        assert any(r == required - body_fields(route) for r in required_sets), (name, required_sets)
        assert all(r - {"typed"} == required - body_fields(route) for r in required_sets)


def has_model(route: Route) -> bool:
    from cafe24_async.models import model_for_route

    return route.response_kind != "count" and model_for_route(route) is not None


def body_fields(route: Route) -> set[str]:
    """A write's body fields: required at run time, but the body may come as `request=` instead."""
    return {p.name for p in route.params if p.location != "path"} if route.method in ("POST", "PUT") else set()


def test_call_options_are_on_every_coroutine() -> None:
    get = inspect.signature(variants(api_types.Admin_Products, "get")[-1])
    assert set(CALL_OPTIONS) <= set(get.parameters)
    iterate = inspect.signature(variants(api_types.Admin_Products, "iterate")[-1])
    assert {"typed", "timeout", "concurrency"} <= set(iterate.parameters)


def test_generated_files_are_current() -> None:
    result = subprocess.run(
        [sys.executable, "scripts/generate_api_types.py", "--check"],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_route_reference_has_one_line_per_route() -> None:
    text = (ROOT / "docs" / "routes.md").read_text(encoding="utf-8")
    rows = [line for line in text.splitlines() if line.startswith("| `")]
    assert len(rows) == len(ROUTES)
    for route in ROUTES:
        hits = [row for row in rows if f"| `{route.method} {route.path}` |" in row]
        assert len(hits) == 1, route.path
        owner = "client.dcollection" if route.api == "dcollection" else f"mall.{route.api}"
        assert f"`{owner}.{'.'.join((*route.namespace, route.action))}(" in hits[0]
    products = next(row for row in rows if "| `GET /api/v2/admin/products` |" in row)
    assert "mall.read_product" in products
    assert "limit ≤ 100, offset ≤ 5000, then `since_product_no`" in products
    assert "`iterate()` for all" in products
    inventory = next(
        row for row in rows
        if "| `GET /api/v2/admin/products/{product_no}/variants/{variant_code}/inventories` |" in row
    )
    assert "`mall.admin.products.variants.inventories.get(product_no, variant_code)`" in inventory
    orders = next(row for row in rows if "| `GET /api/v2/admin/orders` |" in row)
    assert "≤ 3 months each" in orders
    assert "### admin.products" in text and "## D.Collection API (`client.dcollection`)" in text


def test_importing_the_package_does_not_load_the_protocols() -> None:
    code = "import sys, cafe24_async; print('cafe24_async.api_types' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"
