"""mypy --strict on user code: correct calls pass, a misspelt or mistyped param fails.

The binder builds every endpoint at runtime; the generated Protocols in
`cafe24_async.api_types` are what a type checker sees. These tests run mypy on two
small programs, as a user would, so a broken stub or a broken wiring of
`Mall.admin`/`Cafe24.dcollection` shows up as a failing test.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from cafe24_async.routes import find_route

ROOT = Path(__file__).resolve().parents[2]

GOOD = '''
"""Correct uses of a handful of routes."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, assert_type

from cafe24_async import Cafe24, Mall
from cafe24_async.api_types import Admin_Products


async def reads(mall: Mall) -> None:
    page = await mall.admin.products.list(
        limit=100, product_no=[1, 2, 3], product_code="P0000AAA,P0000AAB",
        use_inventory=True, fields=["product_no", "price"], embed=["variants", "options"],
    )
    assert_type(page, list[dict[str, Any]])
    total = await mall.admin.products.count(use_inventory="T", created_start_date=date(2024, 1, 1))
    assert_type(total, int)
    one = await mall.admin.products.get(128, fields="product_no,price", timeout=5.0)
    assert_type(one, dict[str, Any])
    stock = await mall.admin.products.variants.inventories.get(128, "P000000A000A")
    same = await mall.admin.products.variants.inventories.get(product_no=128, variant_code="P000000A000A")
    assert_type(stock, dict[str, Any])
    assert_type(same, dict[str, Any])
    async for product in mall.admin.products.iterate(since_product_no=0, concurrency=4):
        assert_type(product, dict[str, Any])
    async for order in mall.admin.orders.iterate(
        start_date=date(2024, 1, 1), end_date=datetime(2024, 6, 30, 23, 59), embed="items",
    ):
        assert_type(order, dict[str, Any])


async def writes(mall: Mall) -> None:
    created = await mall.admin.products.create(
        product_name="Tee", supply_price=Decimal("9.90"), price=12000, selling="T", retry_writes=True,
    )
    assert_type(created, dict[str, Any])
    await mall.admin.products.create(requests=[{"product_name": "A", "supply_price": 1}], shop_no=1)
    await mall.admin.orders.update_many(
        requests=[{"order_id": "20240101-0000001", "process_status": "prepare"}],
    )
    await mall.admin.products.delete(128)


async def other_apis(api: Cafe24, mall: Mall) -> None:
    rows = await mall.analytics.visitors.view.list(
        mall_id="acme", start_date="2024-01-01", end_date="2024-01-31",
    )
    assert_type(rows, list[dict[str, Any]])
    assert_type(await mall.front.products.list(limit=10), list[dict[str, Any]])
    assert_type(await api.dcollection.products.list(dcollection_product_category="A"), list[dict[str, Any]])
    assert_type(await mall.call("GET", "/api/v2/admin/products/{product_no}", product_no=1), Any)


def namespaces(mall: Mall) -> Admin_Products:
    return mall.admin.products
'''

TYPED = '''

async def typed_records(mall: Mall) -> None:
    from cafe24_async.models.generated import {product}

    assert_type(await mall.admin.products.get(128, typed=True), {product})
    assert_type(await mall.admin.products.list(limit=5, typed=True), list[{product}])
    assert_type(await mall.admin.products.list(limit=5, typed=False), list[dict[str, Any]])
    async for record in mall.admin.products.iterate(typed=True):
        assert_type(record, {product})
'''

#: (code, a pattern of what mypy must say about that line). Calls of routes that have
#: overloads (typed=True records, requests=[...]) may be reported as "No overload variant".
BAD: list[tuple[str, str]] = [
    ("await mall.admin.products.count(limt=10)", 'Unexpected keyword argument "limt"'),
    ("await mall.admin.products.list(limt=10)", 'Unexpected keyword argument "limt" .*did you mean "limit"'),
    (
        'await mall.admin.products.count(since_product_no="10")',
        r'incompatible type "str"; expected "int \| None"',
    ),
    ('await mall.admin.products.count(use_inventory="yes")', r"incompatible type \"Literal\['yes'\]\""),
    (
        "await mall.admin.products.variants.inventories.get(128)",
        r'Missing positional argument "variant_code"|No overload variant of "get" .* argument type "int"',
    ),
    # One signature per coroutine where no record class exists: the parameter is named.
    (
        'await mall.admin.boards.articles.list(1, limit="ten")',
        r'Argument "limit" to "list" of "Admin_Boards_Articles" has incompatible type "str"; expected "int \| None"',
    ),
    (
        'await mall.admin.boards.articles.create(1, writer="a", title="t", content="c", client_ip="1.2.3.4", rating="5")',
        r'Argument "rating" to "create" of "Admin_Boards_Articles" has incompatible type "str"',
    ),
    # Path placeholders have their documented type.
    (
        'await mall.admin.categories.products.list("abc")',
        r'Argument 1 to "list" of "Admin_Categories_Products" has incompatible type "str"; expected "int"',
    ),
    ('await mall.admin.products.get("abc")', r'No overload variant of "get" .* argument type "str"'),
    ("await mall.admin.prodcts.count()", '"Admin" has no attribute "prodcts"'),
    (
        "text: str = await mall.admin.products.count()",
        r'Incompatible types in assignment \(expression has type "int"',
    ),
    ("await api.dcollection.products.list(dcollection_product_category=1.5)", 'incompatible type "float"'),
]


def bad_program() -> str:
    lines = [
        '"""Misspelt and mistyped calls: every line in `main` is an error."""',
        "",
        "from __future__ import annotations",
        "",
        "from cafe24_async import Cafe24, Mall",
        "",
        "",
        "async def main(api: Cafe24, mall: Mall) -> None:",
    ]
    lines += [f"    {code}" for code, _ in BAD]
    return "\n".join(lines) + "\n"


def first_bad_line() -> int:
    return bad_program().splitlines().index(f"    {BAD[0][0]}") + 1


def product_model() -> str | None:
    try:
        from cafe24_async.models import model_for_route
    except ImportError:
        return None
    model = model_for_route(find_route("GET", "/api/v2/admin/products/{product_no}"))
    return None if model is None else model.__name__


def mypy(tmp_path: Path, *files: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, MYPYPATH=str(ROOT))
    return subprocess.run(
        [
            sys.executable, "-m", "mypy", "--strict", "--follow-imports=silent",
            "--cache-dir", str(tmp_path / "mypy-cache"), "--hide-error-context",
            "--no-color-output", "--no-error-summary", "--show-absolute-path",
            *map(str, files),
        ],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False,
    )


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess[str], ...]:
    tmp_path = tmp_path_factory.mktemp("stubs")
    good = tmp_path / "good_usage.py"
    text = GOOD
    product = product_model()
    if product is not None:
        text += TYPED.replace("{product}", product)
    good.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    bad = tmp_path / "bad_usage.py"
    bad.write_text(bad_program(), encoding="utf-8")
    return mypy(tmp_path, good), mypy(tmp_path, bad)


def test_correct_calls_pass_mypy_strict(results: tuple[subprocess.CompletedProcess[str], ...]) -> None:
    good = results[0]
    assert good.returncode == 0, good.stdout + good.stderr


def test_misspelt_and_mistyped_calls_fail_with_the_expected_errors(
    results: tuple[subprocess.CompletedProcess[str], ...],
) -> None:
    bad = results[1]
    assert bad.returncode == 1, bad.stdout + bad.stderr
    errors: dict[int, list[str]] = {}
    for line in bad.stdout.splitlines():
        match = re.match(r"^(?P<file>.+?):(?P<line>\d+): error: (?P<message>.*)$", line)
        if match:
            assert match["file"].endswith("bad_usage.py"), line
            errors.setdefault(int(match["line"]), []).append(match["message"])
    start = first_bad_line()
    for offset, (code, expected) in enumerate(BAD):
        messages = errors.get(start + offset, [])
        found = any(re.search(expected, m) for m in messages)
        assert found, f"{code!r}: expected {expected!r}, got {messages}"
    assert set(errors) == {start + i for i in range(len(BAD))}, bad.stdout


def test_a_wrong_typed_argument_gets_a_short_message_naming_it(
    results: tuple[subprocess.CompletedProcess[str], ...],
) -> None:
    """The whole report of a wrong-typed argument (error and notes) fits in a few hundred
    bytes, not the kilobytes of overload listings a call with many params would print."""
    sizes: dict[int, int] = {}
    for line in results[1].stdout.splitlines():
        match = re.match(r"^.+?:(?P<line>\d+): (error|note): (?P<text>.*)$", line)
        if match:  # the text mypy wrote about the line, without the file name before it
            sizes[int(match["line"])] = sizes.get(int(match["line"]), 0) + len(match["text"]) + 1
    start = first_bad_line()
    for offset, (code, _) in enumerate(BAD):
        if "boards.articles" in code or "categories.products.list" in code:
            assert 0 < sizes[start + offset] < 400, (code, sizes[start + offset])
