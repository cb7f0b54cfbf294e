"""The converter's promises, one at a time.

KST-aware datetimes that give back the server's exact text, Decimal amounts from their exact
text, "T"/"F" only for documented flags, unknown keys and misfit values kept, records built
in code, route-to-model lookup, and the checks made before a write.
"""

from __future__ import annotations

import copy
import json
import pickle
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cafe24_async.errors import ValidationError
from cafe24_async.models import (
    ALL_MODELS,
    KST,
    Record,
    SourceDateTime,
    SourceDecimal,
    check_write,
    converter,
    model_for,
    model_for_route,
    structure,
    structure_many,
    unstructure,
)
from cafe24_async.models.generated import (
    AppstoreOrder,
    Order,
    OrderItem,
    Product,
    ProductVariant,
    ProductVariantInventory,
    Scripttag,
)
from cafe24_async.routes import ROUTES, find_route

NINE = timedelta(hours=9)


def roundtrip(data: dict[str, Any], model: type[Record]) -> Any:
    record = structure(data, model)
    assert unstructure(record) == data
    assert json.dumps(unstructure(record)) == json.dumps(data)
    return record


# -- datetimes ----------------------------------------------------------------------------


def test_datetime_with_offset_is_plain_and_aware() -> None:
    p = roundtrip({"created_date": "2018-07-04T13:52:49+09:00"}, Product)
    assert type(p.created_date) is datetime
    assert p.created_date == datetime(2018, 7, 4, 13, 52, 49, tzinfo=KST)
    assert p.created_date.utcoffset() == NINE


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2017-07-10 15:55:51", datetime(2017, 7, 10, 15, 55, 51, tzinfo=KST)),
        ("2017-10-19T19:17:57.902", datetime(2017, 10, 19, 19, 17, 57, 902000, tzinfo=KST)),
        ("2018-01-01", datetime(2018, 1, 1, tzinfo=KST)),
        ("2018-07-04T04:52:49Z", datetime(2018, 7, 4, 13, 52, 49, tzinfo=KST)),
        ("2018-07-04T13:52:49.5+09:00", datetime(2018, 7, 4, 13, 52, 49, 500000, tzinfo=KST)),
        ("2018-07-04T00:52:49-04:00", datetime(2018, 7, 4, 13, 52, 49, tzinfo=KST)),
    ],
)
def test_datetime_forms_keep_their_text(text: str, expected: datetime) -> None:
    item = roundtrip({"ordered_date": text}, OrderItem)
    value = item.ordered_date
    assert value == expected
    assert value.tzinfo is not None
    assert isinstance(value, SourceDateTime)
    assert value.source == text


def test_no_offset_means_kst() -> None:
    item = structure({"shipped_date": "2017-07-10 15:56:52"}, OrderItem)
    assert item.shipped_date is not None
    assert item.shipped_date.utcoffset() == NINE
    assert item.shipped_date.astimezone(UTC).hour == 6


@given(
    st.datetimes(
        min_value=datetime(1000, 1, 1),
        max_value=datetime(9999, 12, 31),
        timezones=st.sampled_from([KST, UTC, timezone(timedelta(hours=-5))]),
    ).map(lambda d: d.replace(microsecond=0))
)
def test_any_iso_text_round_trips(value: datetime) -> None:
    for text in (value.isoformat(), value.isoformat(sep=" "), value.replace(tzinfo=None).isoformat()):
        record = structure({"created_date": text}, Product)
        assert unstructure(record) == {"created_date": text}
        assert record.created_date is not None and record.created_date.tzinfo is not None


@given(st.text(max_size=30))
def test_any_string_in_a_date_field_is_kept(text: str) -> None:
    record = structure({"created_date": text}, Product)
    assert unstructure(record) == {"created_date": text}


def test_empty_date_goes_to_extra() -> None:
    order = roundtrip({"order_id": "X", "cancel_date": ""}, Order)
    assert order.cancel_date is None
    assert order.extra == {"cancel_date": ""}


def test_source_values_survive_pickle_and_copy() -> None:
    item = structure({"ordered_date": "2017-07-10 15:55:51"}, OrderItem)
    for clone in (pickle.loads(pickle.dumps(item)), copy.deepcopy(item)):
        assert clone == item
        assert unstructure(clone) == {"ordered_date": "2017-07-10 15:55:51"}
    later = item.ordered_date + timedelta(days=1)  # type: ignore[operator]
    assert unstructure({"x": later}) == {"x": "2017-07-11T15:55:51+09:00"}


# -- decimals -----------------------------------------------------------------------------


def test_money_is_decimal_from_exact_text() -> None:
    p = roundtrip({"price": "1000.00", "retail_price": "0.00", "additional_price": "-5"}, Product)
    assert p.price == Decimal("1000.00")
    assert type(p.price) is Decimal
    assert str(p.price) == "1000.00"
    assert p.retail_price == 0
    assert p.additional_price == Decimal(-5)


@pytest.mark.parametrize("raw", ["00.00", "1e3", "0.0000001", 1000, 10.5, 0, -3])
def test_unusual_amounts_keep_their_form(raw: Any) -> None:
    p = roundtrip({"price": raw}, Product)
    assert isinstance(p.price, SourceDecimal)
    assert p.price == Decimal(str(raw))
    assert type(unstructure(p)["price"]) is type(raw)


@pytest.mark.parametrize("raw", ["", "abc", "NaN", "Infinity", True, [1], {"a": 1}])
def test_non_amounts_go_to_extra(raw: Any) -> None:
    p = roundtrip({"product_no": 1, "price": raw}, Product)
    assert p.price is None
    assert p.extra == {"price": raw}


@given(st.decimals(allow_nan=False, allow_infinity=False, places=2))
def test_any_amount_text_round_trips(value: Decimal) -> None:
    text = str(value)
    record = structure({"price": text}, Product)
    assert record.price == value
    assert unstructure(record) == {"price": text}


# -- T/F flags ----------------------------------------------------------------------------


def test_documented_flags_are_bools() -> None:
    p = roundtrip({"display": "T", "selling": "F", "sold_out": None}, Product)
    assert p.display is True
    assert p.selling is False
    assert p.sold_out is None


def test_undocumented_t_values_stay_strings() -> None:
    # shipping_fee_by_product shows "T" in the examples but the docs list no T/F codes for it.
    p = roundtrip({"shipping_fee_by_product": "T", "except_member_mileage": "F"}, Product)
    assert p.shipping_fee_by_product == "T"
    assert p.except_member_mileage == "F"


def test_flag_with_other_value_goes_to_extra() -> None:
    p = roundtrip({"display": "Y"}, Product)
    assert p.display is None
    assert p.extra == {"display": "Y"}


# -- unknown keys, nulls, order, nesting ----------------------------------------------------


def test_unknown_keys_are_kept_in_order() -> None:
    data = {"new_top": 1, "product_no": 7, "future": {"a": [1, 2]}, "product_name": "x"}
    p = roundtrip(data, Product)
    assert p.extra == {"new_top": 1, "future": {"a": [1, 2]}}
    assert list(unstructure(p)) == list(data)


def test_absent_and_null_differ() -> None:
    assert unstructure(structure({"product_no": 1}, Product)) == {"product_no": 1}
    assert unstructure(structure({"product_no": 1, "price": None}, Product)) == {
        "product_no": 1,
        "price": None,
    }


def test_wrong_json_type_goes_to_extra() -> None:
    p = roundtrip({"buy_unit": "3", "product_name": 5, "product_no": "12"}, Product)
    assert p.buy_unit is None and p.product_name is None
    assert p.extra == {"buy_unit": "3", "product_name": 5}
    # The references show product_no both as a number and as a string: both fit.
    assert p.product_no == "12"


def test_nested_records() -> None:
    data = {
        "product_no": 7,
        "variants": [
            {"variant_code": "P000000R000A", "display": "T", "additional_amount": "0.00"},
            {"variant_code": "P000000R000B", "inventories": {"quantity": 5, "use_inventory": "F"}},
        ],
        "discountprice": {"pc_discount_price": "7000.00"},
    }
    p = roundtrip(data, Product)
    assert p.variants is not None
    assert all(isinstance(v, ProductVariant) for v in p.variants)
    assert p.variants[0].display is True
    assert p.variants[0].additional_amount == Decimal("0.00")
    inventories = p.variants[1].inventories
    assert isinstance(inventories, ProductVariantInventory)
    assert inventories.use_inventory is False
    assert p.discountprice is not None and p.discountprice.pc_discount_price == Decimal("7000")


def test_nested_shape_mismatch_is_kept() -> None:
    p = roundtrip({"variants": "none", "discountprice": [1]}, Product)
    assert p.variants is None and p.discountprice is None
    assert p.extra == {"variants": "none", "discountprice": [1]}


def test_structure_many_and_lists() -> None:
    rows = [{"script_no": "1", "src": "a.js"}, {"script_no": "2", "created_date": "2018-01-01"}]
    tags = structure_many(rows, Scripttag)
    assert [t.script_no for t in tags] == ["1", "2"]
    with pytest.raises(TypeError):
        structure(rows, Scripttag)
    assert unstructure(tags) == rows


def test_not_an_object_is_an_error() -> None:
    with pytest.raises(TypeError):
        structure("nope", Product)
    with pytest.raises(TypeError):
        structure_many([1], Product)


# -- records built in code ----------------------------------------------------------------


def test_record_built_in_code() -> None:
    p = Product(
        product_name="Shirt",
        price=Decimal("1000.00"),
        display=True,
        selling=False,
        created_date=datetime(2024, 1, 2, 3, 4, 5, tzinfo=KST),
        variants=[ProductVariant(variant_code="P000000R000A", display=True)],
        extra={"new_field": 1},
    )
    assert unstructure(p) == {
        "product_name": "Shirt",
        "price": "1000.00",
        "display": "T",
        "selling": "F",
        "created_date": "2024-01-02T03:04:05+09:00",
        "variants": [{"variant_code": "P000000R000A", "display": "T"}],
        "new_field": 1,
    }
    assert structure(unstructure(p), Product) == p


def test_changes_win_over_misfits_and_show_in_output() -> None:
    order = structure({"order_id": "A", "paid": "T", "cancel_date": ""}, Order)
    order.paid = False
    order.cancel_date = datetime(2020, 1, 1, tzinfo=KST)
    assert unstructure(order) == {
        "order_id": "A",
        "paid": "F",
        "cancel_date": "2020-01-01T00:00:00+09:00",
    }


def test_dicts_holding_records_are_unstructured() -> None:
    body = {"shop_no": 1, "request": Product(product_name="x", display=True)}
    assert unstructure(body) == {"shop_no": 1, "request": {"product_name": "x", "display": "T"}}


def test_every_model_is_a_slotted_record() -> None:
    assert len(ALL_MODELS) == 50
    for model in ALL_MODELS:
        assert issubclass(model, Record)
        assert "__slots__" in model.__dict__
        assert all(f.default is None for f in attrs.fields(model) if f.name not in ("extra",))


def test_one_converter() -> None:
    from cafe24_async.models import converter as exported

    assert exported is converter
    assert converter.structure({"product_no": 1}, Product) == Product(product_no=1)
    assert converter.unstructure(Product(product_no=1)) == {"product_no": 1}


# -- model lookup -------------------------------------------------------------------------


def test_model_for_with_path_is_exact() -> None:
    assert model_for("admin", "order", "/api/v2/admin/orders/{order_id}") is Order
    assert model_for("admin", "order", "/api/v2/admin/appstore/orders/{order_id}") is AppstoreOrder
    assert model_for("admin", "products", "/api/v2/admin/products") is Product
    assert model_for("admin", "product", "/api/v2/admin/products") is Product
    assert model_for("admin", "order", "/api/v2/admin/orders/setting") is None
    assert model_for("admin", "count", "/api/v2/admin/products/count") is None


def test_model_for_without_path_guesses_the_main_resource() -> None:
    assert model_for("admin", "order") is Order
    assert model_for("admin", "products") is Product
    assert model_for("admin", "variants") is ProductVariant
    assert model_for("admin", "count") is None
    assert model_for("admin", "no_such_root") is None


def test_model_for_route_covers_the_documented_routes() -> None:
    typed = [r for r in ROUTES if model_for_route(r) is not None]
    assert len(typed) >= 90
    assert model_for_route(find_route("GET", "/api/v2/admin/products/count")) is None
    assert model_for_route(find_route("GET", "/api/v2/admin/orders/{order_id}/items")) is OrderItem
    assert model_for_route(find_route("GET", "/api/v2/products/{product_no}", "front")) is not None


# -- write checks -------------------------------------------------------------------------


def test_write_check_accepts_good_payloads() -> None:
    route = find_route("POST", "/api/v2/admin/products")
    check_write(route, {"shop_no": 1, "request": {"product_name": "Shirt", "supply_price": "10"}})
    check_write(route, {"product_name": "Shirt", "supply_price": "10"})
    check_write(route, Product(product_name="Shirt", supply_price=Decimal("10.00")))


def test_write_check_required() -> None:
    route = find_route("POST", "/api/v2/admin/products")
    with pytest.raises(ValidationError) as caught:
        check_write(route, Product(supply_price=Decimal("10")))
    assert caught.value.param == "product_name"
    assert caught.value.rule == "required"


def test_write_check_max_length() -> None:
    route = find_route("POST", "/api/v2/admin/products")
    with pytest.raises(ValidationError) as caught:
        check_write(route, Product(product_name="x" * 251, supply_price=Decimal("1")))
    assert caught.value.param == "product_name"
    assert "250" in caught.value.rule
    assert isinstance(caught.value, ValueError)


def test_write_check_min_length() -> None:
    route = find_route("POST", "/api/v2/admin/products")
    with pytest.raises(ValidationError) as caught:
        check_write(route, {"product_name": "x", "supply_price": "1", "brand_code": "B1"})
    assert caught.value.param == "brand_code"


def test_write_check_uses_documented_max_when_the_route_has_none() -> None:
    route = find_route("PUT", "/api/v2/admin/products/{product_no}")
    with pytest.raises(ValidationError) as caught:
        check_write(route, Product(product_name="x" * 300))
    assert caught.value.param == "product_name"


def test_write_check_many_requests() -> None:
    route = find_route("POST", "/api/v2/admin/scripttags")
    check_write(route, {"shop_no": 1, "request": [{"display_location": ["MAIN"]}]})
    with pytest.raises(ValidationError) as caught:
        check_write(route, {"request": [{"display_location": ["MAIN"]}, {"src": "https://x/a.js"}]})
    assert caught.value.param == "request[1].display_location"


def test_benchmark_runs() -> None:
    from benchmarks.bench_models import run

    result = run(300, 100, repeat=1)
    assert result["records"] == 300
    assert result["json_rps"] > 0 and result["structure_rps"] > 0
