"""Validation and rendering of call arguments: every rule, and nothing sent on failure."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from cafe24_async.errors import ValidationError
from cafe24_async.params import prepare
from cafe24_async.routes import find_route

PRODUCTS = find_route("GET", "/api/v2/admin/products")
ORDER = find_route("GET", "/api/v2/admin/orders/{order_id}")
PRODUCT = find_route("GET", "/api/v2/admin/products/{product_no}")
INVENTORY = find_route("GET", "/api/v2/admin/products/{product_no}/variants/{variant_code}/inventories")
CREATE_PRODUCT = find_route("POST", "/api/v2/admin/products")
UPDATE_VARIANTS = find_route("PUT", "/api/v2/admin/products/{product_no}/variants")
ORDERS = find_route("GET", "/api/v2/admin/orders")
ACTIVITY = find_route("GET", "/api/v2/admin/activitylogs")


def rule_of(route, args, kwargs):  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError) as info:
        prepare(route, args, kwargs)
    return info.value


def test_path_params_positional_or_by_name() -> None:
    assert prepare(INVENTORY, (128, "P000000A000A"), {}).path.endswith("/products/128/variants/P000000A000A/inventories")
    assert prepare(INVENTORY, (128,), {"variant_code": "P000000A000A"}).path.endswith("/P000000A000A/inventories")
    assert prepare(INVENTORY, (), {"product_no": 1, "variant_code": "X"}).path.endswith("/1/variants/X/inventories")


@pytest.mark.parametrize("value", ["../admin", "a/b", "x?y=1", "x#y", "user@evil.com", "a b", "한글"])
def test_path_values_are_encoded_whole(value: str) -> None:
    path = prepare(ORDER, (value,), {}).path  # order_id is text
    tail = path.rsplit("/", 1)[1]
    assert "/" not in tail and "?" not in tail and "#" not in tail and "@" not in tail and " " not in tail
    assert path.startswith("/api/v2/admin/orders/")


@pytest.mark.parametrize("value", ["abc", "12a", "-3", 1.5, "../admin"])
def test_whole_number_placeholders_refuse_other_values(value: object) -> None:
    err = rule_of(PRODUCT, (value,), {})
    assert (err.param, err.rule) == ("product_no", "must be a whole number") or err.rule.startswith("must be at least")
    assert prepare(PRODUCT, ("128",), {}).path.endswith("/products/128")


@pytest.mark.parametrize("value", ["", ".", "..", None, True, 1.5, ["1"]])
def test_bad_path_values_rejected(value: object) -> None:
    err = rule_of(PRODUCT, (value,), {})
    assert err.param == "product_no"


def test_missing_path_param_and_too_many_args() -> None:
    assert rule_of(INVENTORY, (1,), {}).param == "variant_code"
    assert "positional" in rule_of(PRODUCT, (1, 2), {}).rule
    assert "both" in rule_of(PRODUCT, (1,), {"product_no": 2}).rule


def test_unknown_param_named_with_known_list() -> None:
    err = rule_of(PRODUCTS, (), {"limt": 10})
    assert err.param == "limt" and "not a documented parameter" in err.rule and "limit" in err.rule


def test_limit_and_offset_caps() -> None:
    assert rule_of(PRODUCTS, (), {"limit": 101}).rule == "must be at most 100"
    assert rule_of(PRODUCTS, (), {"limit": 0}).rule == "must be at least 1"
    assert rule_of(PRODUCTS, (), {"offset": 5001}).rule == "must be at most 5000"
    assert rule_of(PRODUCTS, (), {"limit": "abc"}).rule == "must be a number"
    assert rule_of(PRODUCTS, (), {"limit": True}).param == "limit"
    q = dict(prepare(PRODUCTS, (), {"limit": 100, "offset": 5000}).query)
    assert q == {"limit": "100", "offset": "5000"}


def test_list_values_joined_and_capped() -> None:
    q = dict(prepare(PRODUCTS, (), {"product_no": [1, 2, 3], "fields": ["product_no", "price"]}).query)
    assert q == {"product_no": "1,2,3", "fields": "product_no,price"}
    assert "at most 100" in rule_of(PRODUCTS, (), {"product_no": list(range(101))}).rule
    assert "at most 100" in rule_of(PRODUCTS, (), {"product_no": ",".join(map(str, range(101)))}).rule
    assert "single value" in rule_of(PRODUCTS, (), {"limit": [1, 2]}).rule


def test_embed_only_where_documented() -> None:
    q = dict(prepare(PRODUCTS, (), {"embed": ["variants", "inventories"]}).query)
    assert q["embed"] == "variants,inventories"
    assert rule_of(ACTIVITY, (), {"start_date": "2026-01-01", "end_date": "2026-01-02", "embed": "x"}).param == "embed"


def test_required_params() -> None:
    err = rule_of(ACTIVITY, (), {"end_date": "2026-01-01"})
    assert err.param == "start_date" and err.rule == "is required"
    assert rule_of(CREATE_PRODUCT, (), {"product_name": "x"}).param == "supply_price"


def test_dates_rendered_in_korea_time() -> None:
    q = dict(prepare(ORDERS, (), {"start_date": date(2026, 1, 1), "end_date": datetime(2026, 1, 31, 15, 0, tzinfo=UTC)}).query)
    assert q == {"start_date": "2026-01-01", "end_date": "2026-02-01T00:00:00+09:00"}
    naive = dict(prepare(ORDERS, (), {"start_date": datetime(2026, 1, 1, 9, 30), "end_date": "2026-01-02"}).query)
    assert naive["start_date"] == "2026-01-01T09:30:00+09:00"


def test_bad_dates_and_spans() -> None:
    assert "date" in rule_of(ORDERS, (), {"start_date": "yesterday", "end_date": "2026-01-01"}).rule
    assert "before" in rule_of(ORDERS, (), {"start_date": "2026-02-01", "end_date": "2026-01-01"}).rule
    err = rule_of(ORDERS, (), {"start_date": "2026-01-01", "end_date": "2026-04-02"})
    assert err.param == "end_date" and "3 months" in err.rule
    prepare(ORDERS, (), {"start_date": "2026-01-01", "end_date": "2026-04-01"})


def test_string_lengths_and_charset() -> None:
    assert "250 characters" in rule_of(CREATE_PRODUCT, (), {"product_name": "x" * 251, "supply_price": 1}).rule
    assert rule_of(CREATE_PRODUCT, (), {"product_name": "x", "supply_price": 1, "brand_code": "B00"}).rule == "must be at least 8 characters"
    assert "A-Z0-9" in rule_of(CREATE_PRODUCT, (), {"product_name": "x", "supply_price": 1, "brand_code": "b0000000"}).rule


def test_write_body_shape_and_bools() -> None:
    body = prepare(CREATE_PRODUCT, (), {"product_name": "한글 상품", "supply_price": 1000, "display": True}).body
    assert body == {"shop_no": 1, "request": {"product_name": "한글 상품", "supply_price": 1000, "display": "T"}}
    body = prepare(CREATE_PRODUCT, (), {"shop_no": 2, "product_name": "a", "supply_price": 1}).body
    assert body is not None and body["shop_no"] == 2


def test_many_objects_body() -> None:
    body = prepare(UPDATE_VARIANTS, (7,), {"requests": [{"variant_code": "P000000A000A", "display": False}]}).body
    assert body == {"shop_no": 1, "requests": [{"variant_code": "P000000A000A", "display": "F"}]}
    assert rule_of(UPDATE_VARIANTS, (7,), {"requests": [{"display": "T"}]}).param == "requests[0].variant_code"
    assert rule_of(UPDATE_VARIANTS, (7,), {"requests": []}).param == "requests"
    assert rule_of(PRODUCTS, (), {"requests": [{}]}).param == "requests"


def test_none_means_not_given_and_nan_rejected() -> None:
    assert prepare(PRODUCTS, (), {"limit": None}).query == ()
    assert rule_of(PRODUCTS, (), {"limit": float("nan")}).param == "limit"
    assert rule_of(PRODUCTS, (), {"product_name": object()}).param == "product_name"
    assert rule_of(PRODUCTS, (), {"product_name": "a\x00b"}).param == "product_name"


def test_error_message_names_param_rule_and_route() -> None:
    err = rule_of(PRODUCTS, (), {"limit": 500})
    assert str(err) == "limit: must be at most 100 (GET /api/v2/admin/products)"
    assert isinstance(err, ValueError)


def test_timezone_conversion_of_aware_datetimes() -> None:
    utc_evening = datetime(2026, 5, 1, 20, 0, tzinfo=timezone(timedelta(hours=0)))
    q = dict(prepare(ORDERS, (), {"start_date": utc_evening, "end_date": "2026-05-03"}).query)
    assert q["start_date"] == "2026-05-02T05:00:00+09:00"
