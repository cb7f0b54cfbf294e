"""Unwrapping response bodies: root keys, counts, 207 multi-status, cut bodies."""

from __future__ import annotations

import pytest

from cafe24_async import DecodeError, MultiStatus
from cafe24_async.decode import parse_json, unwrap
from cafe24_async.routes import find_route

LIST = find_route("GET", "/api/v2/admin/products")
COUNT = find_route("GET", "/api/v2/admin/products/count")
ONE = find_route("GET", "/api/v2/admin/products/{product_no}")
MANY = find_route("PUT", "/api/v2/admin/products/{product_no}/variants")


def test_root_keys_are_unwrapped() -> None:
    assert unwrap(200, {"products": [{"product_no": 1}]}, LIST) == [{"product_no": 1}]
    assert unwrap(200, {"count": 12}, COUNT) == 12
    assert unwrap(200, {"product": {"product_no": 1}}, ONE) == {"product_no": 1}


def test_multi_status_exposes_each_result() -> None:
    body = {"variants": [
        {"variant_code": "P000000A000A", "display": "T"},
        {"variant_code": "P000000A000B", "error": {"code": 422, "message": "bad"}},
        {"variant_code": "P000000A000C", "status_code": 404},
    ]}
    result = unwrap(207, body, MANY)
    assert isinstance(result, MultiStatus)
    assert [r["variant_code"] for r in result.succeeded] == ["P000000A000A"]
    assert [r["variant_code"] for r in result.failed] == ["P000000A000B", "P000000A000C"]


def test_bad_bodies_are_clear_errors() -> None:
    with pytest.raises(DecodeError, match="not valid JSON"):
        parse_json(200, b'{"products": [{"product_no": 1}, {"prod', LIST)
    with pytest.raises(DecodeError, match="count"):
        unwrap(200, {"count": "many"}, COUNT)
    with pytest.raises(DecodeError, match="text/html"):
        parse_json(200, b"<html>busy</html>", LIST, {"Content-Type": "text/html; charset=utf-8"})
    with pytest.raises(DecodeError, match="not a list"):
        unwrap(200, {"products": {"product_no": 1}}, LIST)


def test_a_missing_or_wrong_root_is_a_decode_error_never_records() -> None:
    for body in ({}, {"items": []}, {"result": "ok", "data": {"note": "x"}}):
        with pytest.raises(DecodeError, match="no 'products'"):
            unwrap(200, body, LIST)
        with pytest.raises(DecodeError, match="no 'product'"):
            unwrap(200, body, ONE)
    with pytest.raises(DecodeError, match="not objects"):
        unwrap(200, {"products": ["product_no", "price"]}, LIST)
    with pytest.raises(DecodeError, match="neither an object nor a list"):
        unwrap(200, {"product": "gone"}, ONE)


@pytest.mark.parametrize("count", [-1, "12", 12.0, True, None])
def test_a_count_must_be_a_non_negative_integer(count: object) -> None:
    with pytest.raises(DecodeError, match="non-negative integer"):
        unwrap(200, {"count": count}, COUNT)
