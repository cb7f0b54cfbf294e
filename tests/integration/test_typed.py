"""Typed records against the sandbox: opt-in per client and per call, and checked writes."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest

from cafe24_async import ValidationError
from cafe24_async.models import generated, unstructure
from tests.conftest import ClientFactory, SandboxFactory


async def test_typed_per_call_and_per_client(make_sandbox: SandboxFactory, make_client: ClientFactory) -> None:
    sb = await make_sandbox(malls=("acme",), products=30)
    api = await make_client(sb)
    mall = api.mall("acme")
    plain = await mall.admin.products.get(3)
    product = await mall.admin.products.get(3, typed=True)
    assert isinstance(plain, dict) and isinstance(product, generated.Product)
    assert isinstance(product.price, Decimal) and str(product.price) == plain["price"]
    assert isinstance(product.created_date, datetime) and product.created_date.utcoffset() is not None
    assert unstructure(product) == plain  # nothing the server sent is lost
    typed_api = await make_client(sb, typed=True)
    page = await typed_api.mall("acme").admin.products.list(limit=5)
    assert all(isinstance(p, generated.Product) for p in page)
    records = [p async for p in typed_api.mall("acme").admin.products.iterate()]
    assert len(records) == 30 and isinstance(records[0], generated.Product)
    assert isinstance(await typed_api.mall("acme").admin.products.list(limit=2, typed=False), list)


async def test_writes_accept_records_and_check_them(make_sandbox: SandboxFactory, make_client: ClientFactory) -> None:
    sb = await make_sandbox(malls=("acme",))
    api = await make_client(sb)
    mall = api.mall("acme")
    created = await mall.admin.products.create(request=generated.Product(product_name="레코드 상품", supply_price=Decimal("1000")))
    req = sb.requests[-1]
    assert req.json == {"shop_no": 1, "request": {"product_name": "레코드 상품", "supply_price": "1000"}} or \
        req.json == {"shop_no": 1, "request": {"product_name": "레코드 상품", "supply_price": 1000}}
    assert created["product_name"] == "레코드 상품"
    before = len(sb.requests)
    with pytest.raises(ValidationError) as info:
        await mall.admin.products.create(request=generated.Product(product_name="x" * 251, supply_price=Decimal("1")))
    assert info.value.param == "product_name"
    with pytest.raises(ValidationError):
        await mall.admin.products.create(request=generated.Product(product_name="no price"))
    assert len(sb.requests) == before  # nothing sent
    await mall.admin.products.create(request={"product_name": "dict body", "supply_price": 5}, display=True)
    assert sb.requests[-1].json == {"shop_no": 1, "request": {"product_name": "dict body", "supply_price": 5, "display": "T"}}
