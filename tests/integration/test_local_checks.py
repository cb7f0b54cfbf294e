"""Values the client can refuse are refused before sending, naming the parameter.

A whole-number parameter given a fraction, a date filter given text that is not
a date (on every route that has one), and a whole-number path placeholder given
text: each is a `ValidationError`, and the sandbox sees nothing.
"""

from __future__ import annotations

from typing import Any

import pytest

from cafe24_async import ValidationError
from tests.conftest import ClientFactory, SandboxFactory

CASES: list[tuple[str, tuple[Any, ...], dict[str, Any], str]] = [
    ("products.list", (), {"limit": 5.5}, "limit"),
    ("products.list", (), {"created_start_date": "garbage"}, "created_start_date"),
    ("products.count", (), {"updated_end_date": "2026-13-40"}, "updated_end_date"),
    ("customersprivacy.list", (), {"created_start_date": "yesterday"}, "created_start_date"),
    ("products.get", ("abc",), {}, "product_no"),
    ("categories.get", ("7x",), {}, "category_no"),
    ("products.variants.list", (1.5,), {}, "product_no"),
]


@pytest.mark.parametrize(("call", "args", "params", "name"), CASES, ids=[c[0] + ":" + c[3] for c in CASES])
async def test_refused_before_sending(
    make_sandbox: SandboxFactory, make_client: ClientFactory, call: str, args: tuple[Any, ...],
    params: dict[str, Any], name: str,
) -> None:
    sb = await make_sandbox(malls=("acme",))
    target: Any = (await make_client(sb)).mall("acme").admin
    for part in call.split("."):
        target = getattr(target, part)
    with pytest.raises(ValidationError) as info:
        await target(*args, **params)
    assert info.value.param == name and len(sb.requests) == 0


async def test_whole_numbers_given_as_text_are_sent(make_sandbox: SandboxFactory, make_client: ClientFactory) -> None:
    sb = await make_sandbox(malls=("acme",))
    mall = (await make_client(sb)).mall("acme")
    product = await mall.admin.products.get("1")
    assert product["product_no"] == 1 and sb.requests[-1].raw_path.endswith("/products/1")
