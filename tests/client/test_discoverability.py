"""What a user finds without reading the source: dir(), help(), and calls by HTTP path.

`dir(mall.admin.products)` lists the actions and child namespaces, `help()` on a
coroutine shows its method, path, scope, params with their rules and the paging
caps, and `mall.call(METHOD, path, ...)` reaches any route by its documented path
with the same validation, which fails before anything is sent. No server is used:
the transport is replaced by one that fails the test if it is ever reached.
"""

from __future__ import annotations

import inspect
import math
import pydoc
from collections.abc import AsyncIterator
from typing import Any

import pytest

from cafe24_async import Cafe24, Mall, ValidationError, transport
from cafe24_async.routes import ROUTES, RouteNotFoundError
from cafe24_async.routes.route import Param


@pytest.fixture
async def mall(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Mall]:
    async def no_network(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a request was sent")

    monkeypatch.setattr(transport, "send", no_network)
    client = Cafe24(client_id="cid", client_secret="secret")
    yield client.mall("acme")
    await client.close()


def help_text(obj: Any) -> str:
    return pydoc.plain(pydoc.render_doc(obj))


# -- dir() ---------------------------------------------------------------------------


def test_dir_lists_actions_iterators_and_children(mall: Mall) -> None:
    names = dir(mall.admin.products)
    assert names == sorted(names)
    assert {"list", "iterate", "count", "get", "create", "update", "delete"} <= set(names)
    assert {"variants", "images", "options", "seo"} <= set(names)
    assert not [n for n in names if n.startswith("_")]
    assert {"products", "orders", "customers"} <= set(dir(mall.admin))
    assert set(dir(mall.admin.products.variants.inventories)) == {"get", "update"}
    memos = set(dir(mall.admin.orders.memos))
    assert "list_by_order_id" in memos and "iterate_by_order_id" not in memos  # that list does not page


def test_every_name_in_dir_resolves(mall: Mall) -> None:
    for namespace in (mall.admin, mall.admin.products, mall.admin.orders, mall.front, mall.analytics):
        for name in dir(namespace):
            assert getattr(namespace, name) is not None


def test_iterators_exist_only_for_paged_lists(mall: Mall) -> None:
    for route in ROUTES:
        if route.api != "admin" or not route.action.startswith("list"):
            continue
        target: Any = mall.admin
        for part in route.namespace:
            target = getattr(target, part)
        iterator = "iterate" + route.action[4:]
        assert (iterator in dir(target)) == (route.pagination is not None), route.qualified_name


def test_a_misspelt_name_lists_what_is_there(mall: Mall) -> None:
    with pytest.raises(AttributeError, match=r"admin\.products has no 'lisst'; it has: .*\blist\b"):
        _ = mall.admin.products.lisst  # type: ignore[attr-defined]
    with pytest.raises(AttributeError, match=r"admin has no 'prodcts'.*products"):
        _ = mall.admin.prodcts  # type: ignore[attr-defined]


# -- help() and signatures -----------------------------------------------------------


def test_help_shows_method_path_scope_params_and_paging(mall: Mall) -> None:
    text = help_text(mall.admin.products.list)
    assert "Retrieve a list of products" in text
    assert "GET /api/v2/admin/products" in text
    assert "Scope: mall.read_product" in text
    assert "Paging: limit 1-100, offset up to 5000, continues past the cap with since_product_no" in text
    assert "limit (query: number; min 1; max 100; default 10)" in text
    assert "option_type (query: list, up to 100 values; one of C, S, E, F)" in text
    assert "Embed: " in text and "variants" in text
    assert "Returns: list of dicts (the 'products' list)" in text
    assert "list(*, shop_no=None" in text  # the signature, keyword-only


def test_help_of_a_date_ranged_route_shows_the_span_rule(mall: Mall) -> None:
    text = help_text(mall.admin.orders.list)
    assert "GET /api/v2/admin/orders" in text
    assert "Dates: start_date..end_date" in text and "at most 3 months per request" in text


def test_help_of_an_iterator_explains_paging(mall: Mall) -> None:
    text = help_text(mall.admin.products.iterate)
    assert "Every record of GET /api/v2/admin/products, across pages" in text
    assert "concurrency" in text
    assert "continues past the cap with since_product_no" in text


def test_required_params_and_legacy_rows_are_described(mall: Mall) -> None:
    doc = mall.admin.products.create.__doc__ or ""
    assert "POST /api/v2/admin/products" in doc
    assert "product_name (body: required" in doc
    legacy = next(r for r in ROUTES if r.legacy)
    target: Any = getattr(mall, legacy.api)
    for part in legacy.namespace:
        target = getattr(target, part)
    assert "Legacy route of the older reference" in (getattr(target, legacy.action).__doc__ or "")


def test_signatures_follow_the_rules(mall: Mall) -> None:
    inventories = inspect.signature(mall.admin.products.variants.inventories.get)
    kinds = {name: p.kind for name, p in inventories.parameters.items()}
    assert list(kinds)[:2] == ["product_no", "variant_code"]
    assert kinds["product_no"] is inspect.Parameter.POSITIONAL_OR_KEYWORD
    rest = [kind for name, kind in kinds.items() if name not in ("product_no", "variant_code")]
    assert all(kind is inspect.Parameter.KEYWORD_ONLY for kind in rest)
    assert {"fields", "typed", "timeout", "retry_writes"} <= set(kinds)
    create = inspect.signature(mall.admin.products.create).parameters
    assert create["product_name"].default is inspect.Parameter.empty
    assert create["display"].default is None
    assert "requests" in create and "fields" not in create
    assert "concurrency" in inspect.signature(mall.admin.products.iterate).parameters
    assert mall.admin.products.list.__name__ == "list"
    assert mall.admin.products.list.__qualname__ == "admin.products.list"


# -- reverse lookup ------------------------------------------------------------------


async def test_call_validates_before_sending(mall: Mall) -> None:
    path = "/api/v2/admin/products/{product_no}"
    with pytest.raises(ValidationError, match="product_no: is required"):
        await mall.call("GET", path)
    with pytest.raises(ValidationError, match="limt: is not a documented parameter"):
        await mall.call("GET", "/api/v2/admin/products", limt=10)
    with pytest.raises(ValidationError, match="limit: must be at most 100"):
        await mall.call("GET", "/api/v2/admin/products", limit=500)
    with pytest.raises(ValidationError, match="product_no: must be a whole number"):
        await mall.call("GET", path, product_no=None)
    with pytest.raises(ValidationError, match="end_date: must be within 3 months"):
        await mall.call("GET", "/api/v2/admin/orders", start_date="2024-01-01", end_date="2024-12-31")
    with pytest.raises(ValidationError, match="product_name: is required"):
        await mall.call("POST", "/api/v2/admin/products", supply_price=1)
    with pytest.raises(ValidationError, match="takes 1 positional path value"):
        await mall.call("get", path, 1, 2)
    assert mall.stats.requests == 0


async def test_call_and_the_coroutine_raise_the_same_error(mall: Mall) -> None:
    errors = []
    for call in (
        mall.call("GET", "/api/v2/admin/products", limit=0),
        mall.admin.products.list(limit=0),
    ):
        with pytest.raises(ValidationError) as caught:
            await call
        errors.append(str(caught.value))
    assert errors[0] == errors[1] == "limit: must be at least 1 (GET /api/v2/admin/products)"


@pytest.mark.parametrize(
    ("method", "path", "hint"),
    [
        ("PATCH", "/api/v2/admin/products", "the method must be one of DELETE, GET, POST, PUT"),
        ("POST", "/api/v2/admin/products/{product_no}", "is documented for DELETE, GET, PUT"),
        ("GET", "/api/v2/admin/products/12", "as documented, /api/v2/admin/products/{product_no}, and pass"),
        ("GET", "/api/v2/admin/prodcts", "did you mean GET /api/v2/admin/products"),
        ("GET", "/no/such/thing", "docs/routes.md lists every documented route"),
    ],
)
async def test_unknown_method_or_path_is_a_clear_error(mall: Mall, method: str, path: str, hint: str) -> None:
    with pytest.raises(RouteNotFoundError) as caught:
        await mall.call(method, path)
    message = str(caught.value)
    assert message.startswith(f"no documented route {method} {path}; ")
    assert hint in message
    assert isinstance(caught.value, KeyError)
    assert mall.stats.requests == 0


async def test_call_reaches_every_route_by_its_documented_path(
    mall: Mall, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent: list[tuple[str, str]] = []

    async def execute(prepared: Any, **options: Any) -> Any:
        sent.append((prepared.route.method, prepared.path))
        return {}

    monkeypatch.setattr(mall, "execute", execute)
    for route in ROUTES:
        values = {name: "1" for name in route.path_params}
        required = {p.name: _value(p) for p in route.params if p.required and p.location != "path"}
        await mall.call(route.method, route.path, **values, **required)
        assert sent[-1] == (route.method, route.path.format(**values))
    assert len(sent) == len(ROUTES)


async def test_call_takes_a_route_param_named_path(mall: Mall, monkeypatch: pytest.MonkeyPatch) -> None:
    captured: list[Any] = []

    async def execute(prepared: Any, **options: Any) -> Any:
        captured.append(prepared)
        return []

    monkeypatch.setattr(mall, "execute", execute)
    await mall.call("GET", "/api/v2/admin/redirects", path="/old", target="/new")
    assert captured[0].query == (("path", "/old"), ("target", "/new"))


def _value(param: Param) -> Any:
    """A value that keeps every documented rule of `param`."""
    if param.enum:
        return int(param.enum[0]) if param.type == "number" else param.enum[0]
    if param.type == "number":
        return math.ceil(param.minimum) if param.minimum is not None else 1
    if param.type in ("date", "datetime") or param.format in ("date", "datetime"):
        return "2024-01-01"
    letter = param.charset[0] if param.charset and param.charset[0].isalnum() else "x"
    return letter * (param.min_length or 1)
