"""Strict by default, with a way around it: about 30 representative calls through `prepare()`.

Each row is a call real apps make (documented, or real but undocumented and sent
through `extra_params`) or a typo that must be refused before anything is sent,
with the rule the refusal names.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest

from cafe24_async.errors import ValidationError
from cafe24_async.pipeline.build import prepare
from cafe24_async.routes import find_route

PRODUCTS = ("GET", "/api/v2/admin/products")
ORDERS = ("GET", "/api/v2/admin/orders")
VARIANT = ("PUT", "/api/v2/admin/products/{product_no}/variants/{variant_code}")
PRIVACY = ("GET", "/api/v2/admin/customersprivacy")
DASHBOARD = ("GET", "/api/v2/admin/dashboard")
CATEGORIES = ("GET", "/api/v2/admin/categories")
PRODUCT = ("GET", "/api/v2/admin/products/{product_no}")
DELETE_PRODUCT = ("DELETE", "/api/v2/admin/products/{product_no}")

ACCEPTED: list[tuple[tuple[str, str], tuple[Any, ...], dict[str, Any]]] = [
    (PRODUCTS, (), {"limit": 100, "sort": "updated_date", "order": "desc"}),
    (PRODUCTS, (), {"stock_quantity_min": 1, "display": True}),
    (PRODUCTS, (), {"shop_no": 2, "fields": ["product_no", "price"]}),
    (PRODUCTS, (), {"since_product_no": "100", "limit": "50"}),
    (PRODUCTS, (), {"embed": ["variants", "inventories"]}),
    (ORDERS, (), {"start_date": "2026-01-01", "end_date": "2026-03-31", "date_type": "pay_date"}),
    (ORDERS, (), {"start_date": "2026-01-01", "end_date": "2026-01-31", "order_status": ["N10", "N20"]}),
    (VARIANT, (1, "P000000A000A"), {"display": "T", "supply_price": 1000}),  # overrides row
    (PRIVACY, (), {"created_start_date": "2026-01-01", "created_end_date": "2026-01-31"}),  # overrides row
    (DASHBOARD, (), {"shop_no": 1}),
    (CATEGORIES, (), {"shop_no": 3}),  # shop_no on a route whose table leaves it out
    (PRODUCT, (128,), {"shop_no": 1}),
    (DELETE_PRODUCT, (128,), {"shop_no": 2}),
    (PRODUCTS, (), {"extra_params": {"quantity_min": 3}}),  # the escape: sent unchecked
    (PRODUCTS, (), {"extra_params": {"sort": "bogus"}}),
    (ORDERS, (), {"start_date": "2026-01-01", "end_date": "2026-01-31", "extra_params": {"updatereceiver": "T"}}),
    (VARIANT, (1, "P000000A000A"), {"display": "T", "extra_params": {"new_field": {"a": 1}}}),
]

REFUSED: list[tuple[tuple[str, str], tuple[Any, ...], dict[str, Any], str, str]] = [
    (PRODUCTS, (), {"quantity_min": 1}, "quantity_min", "did you mean stock_quantity_min"),
    (PRODUCTS, (), {"limt": 10}, "limt", "did you mean limit"),
    (PRODUCTS, (), {"sort": "bogus"}, "sort", "must be one of created_date, updated_date, product_name"),
    (PRODUCTS, (), {"sort": "update_date"}, "sort", "did you mean updated_date"),
    (PRODUCTS, (), {"order": "down"}, "order", "must be one of asc, desc"),
    (PRODUCTS, (), {"use_inventory": "Y"}, "use_inventory", "must be one of T, F"),
    (PRODUCTS, (), {"limit": 5.5}, "limit", "whole number"),
    (PRODUCTS, (), {"offset": -100}, "offset", "at least 0"),
    (ORDERS, (), {"start_date": "2026-01-01", "end_date": "2026-01-31", "date_type": "paid_date"},
     "date_type", "did you mean pay_date"),
    (ORDERS, (), {"start_date": "2026-01-01", "end_date": "2026-01-31", "orderstatus": "N10"},
     "orderstatus", "did you mean order_status"),
    (VARIANT, (1, "P000000A000A"), {"selling": "yes"}, "selling", "must be one of"),
    (PRODUCTS, (), {"extra_params": ["quantity_min"]}, "extra_params", "dict of parameter names"),
    (PRIVACY, (), {"created_end": "2026-01-31"}, "created_end", "did you mean created_end_date"),
]


def route_of(key: tuple[str, str]) -> Any:
    return find_route(*key)


@pytest.mark.parametrize(("key", "args", "params"), ACCEPTED, ids=lambda v: str(v)[:40])
def test_real_calls_are_accepted(key: tuple[str, str], args: tuple[Any, ...], params: dict[str, Any]) -> None:
    prepared = prepare(route_of(key), args, params)
    sent = dict(prepared.query) if prepared.body is None else prepared.body["request"]
    extra = params.get("extra_params", {})
    for name in extra:
        assert name in sent  # the escape sends the name as given
    if "shop_no" in params and prepared.body is None:
        assert sent["shop_no"] == str(params["shop_no"])


@pytest.mark.parametrize(("key", "args", "params", "name", "rule"), REFUSED, ids=lambda v: str(v)[:40])
def test_typos_are_refused_naming_the_closest_names(
    key: tuple[str, str], args: tuple[Any, ...], params: dict[str, Any], name: str, rule: str
) -> None:
    with pytest.raises(ValidationError) as info:
        prepare(route_of(key), args, params)
    assert info.value.param == name
    assert rule in info.value.rule
    assert len(info.value.rule) < 300  # the closest names, not all 55


def test_the_policy_can_warn_or_send(caplog: pytest.LogCaptureFixture) -> None:
    route = route_of(PRODUCTS)
    with caplog.at_level(logging.WARNING, logger="cafe24_async.params"):
        warned = prepare(route, (), {"quantity_min": 1, "sort": "bogus"}, policy="warn")
    assert dict(warned.query) == {"quantity_min": "1", "sort": "bogus"}
    assert "stock_quantity_min" in caplog.text and "bogus" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="cafe24_async.params"):
        sent = prepare(route, (), {"quantity_min": 1}, policy="send")
    assert dict(sent.query) == {"quantity_min": "1"} and caplog.text == ""


def test_extra_params_merge_into_a_write_body() -> None:
    prepared = prepare(route_of(VARIANT), (1, "P000000A000A"), {"display": True,
                                                                "extra_params": {"new_field": [1, 2]}})
    assert prepared.body == {"shop_no": 1, "request": {"display": "T", "new_field": [1, 2]}}
