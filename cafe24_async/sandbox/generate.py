"""Deterministic record generators for one mall's shop data.

Every collection draws from its own `random.Random` seeded with the config seed,
the mall id and the collection name, so resizing one collection leaves the
others unchanged and two sandboxes with the same config serve identical data.
Field names follow the documented resource properties.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from cafe24_async.sandbox import codes
from cafe24_async.sandbox.config import SandboxConfig
from cafe24_async.sandbox.dates import KST, iso_kst

Record = dict[str, Any]

_ADJECTIVES = ("Classic", "Soft", "Urban", "Daily", "Premium", "Slim", "Cozy", "Bright")
_NOUNS = ("T-Shirt", "Hoodie", "Sneakers", "Tote Bag", "Jeans", "Cap", "Jacket", "Scarf")
_KOREAN_NOUNS = ("반팔 티셔츠", "청바지", "운동화", "가방", "모자", "니트", "원피스", "양말")
_COLORS = ("Black", "White", "Navy", "Red", "Beige", "Gray", "Green", "Blue")
_SURNAMES = ("김", "이", "박", "최", "정", "강", "조", "윤")
_GIVEN = ("민준", "서연", "지훈", "하은", "도윤", "수아", "예준", "지우")
_ORDER_STATUSES = (("N00", "Awaiting payment"), ("N10", "Preparing"), ("N40", "Delivered"))


def rng_for(config: SandboxConfig, mall_id: str, part: str) -> random.Random:
    return random.Random(f"{config.seed}:{mall_id}:{part}")


def money(amount: float) -> str:
    return f"{amount:.2f}"


def _spread(end: datetime, span: timedelta, index: int, total: int, rng: random.Random) -> datetime:
    """The index-th of `total` increasing moments across `span` before `end`."""
    step = span / max(total, 1)
    start = end - span + step * index
    return (start + step * rng.random()).replace(microsecond=0)


def product_names(product_no: int, rng: random.Random) -> tuple[str, str]:
    english = f"{rng.choice(_ADJECTIVES)} {rng.choice(_NOUNS)} {product_no}"
    kind = product_no % 3
    if kind == 0:
        return f"한글 상품 {product_no}", english
    if kind == 2:
        return f"{rng.choice(_KOREAN_NOUNS)} {product_no}", english
    return english, english


def product(
    config: SandboxConfig,
    product_no: int,
    created: datetime,
    rng: random.Random,
    category_nos: list[int],
) -> Record:
    name, english = product_names(product_no, rng)
    price = rng.randrange(10, 2000) * 100
    updated = min(created + timedelta(days=rng.randrange(0, 60)), config.dataset_end)
    image = f"https://sandbox.cafe24.local/web/product/{{size}}/{product_no}.png"
    return {
        "shop_no": 1,
        "product_no": product_no,
        "product_code": codes.product_code(product_no),
        "custom_product_code": "",
        "product_name": name,
        "eng_product_name": english,
        "supply_product_name": "",
        "model_name": f"MODEL-{product_no:05d}",
        "price": money(price),
        "retail_price": money(round(price * 1.2, -2)),
        "supply_price": money(round(price * 0.6, -2)),
        "display": "T" if rng.random() < 0.9 else "F",
        "selling": "T" if rng.random() < 0.85 else "F",
        "product_condition": "N",
        "product_used_month": None,
        "summary_description": f"{english} summary",
        "margin_rate": "10.00",
        "tax_type": "A",
        "tax_amount": 10,
        "price_content": None,
        "buy_limit_type": "F",
        "buy_unit_type": "O",
        "buy_unit": 1,
        "order_quantity_limit_type": "O",
        "minimum_quantity": 1,
        "maximum_quantity": 0,
        "mileage_amount": None,
        "except_member_mileage": "F",
        "adult_certification": "F",
        "detail_image": image.format(size="big"),
        "list_image": image.format(size="medium"),
        "tiny_image": image.format(size="tiny"),
        "small_image": image.format(size="small"),
        "has_option": "T" if config.variants_per_product > 1 else "F",
        "option_type": "T",
        "manufacturer_code": codes.entity_code("M", rng.randrange(max(config.manufacturers, 1))),
        "trend_code": "T0000000",
        "brand_code": codes.entity_code("B", rng.randrange(max(config.brands, 1))),
        "supplier_code": codes.entity_code("S", rng.randrange(max(config.suppliers, 1))),
        "made_date": "",
        "release_date": "",
        "hscode": "",
        "product_weight": "1.00",
        "product_material": "",
        "created_date": iso_kst(created),
        "updated_date": iso_kst(updated),
        "approve_status": "",
        "classification_code": "C000000A",
        "sold_out": "F",
        "additional_price": "0.00",
        "category": [
            {"category_no": no, "recommend": "F", "new": "F"}
            for no in (rng.sample(category_nos, k=min(2, len(category_nos))) if category_nos else [])
        ],
    }


def products(config: SandboxConfig, mall_id: str, category_nos: list[int]) -> list[Record]:
    rng = rng_for(config, mall_id, "products")
    total = config.product_count(mall_id)
    span = timedelta(days=730)
    return [
        product(config, no, _spread(config.dataset_end, span, no - 1, total, rng), rng, category_nos)
        for no in range(1, total + 1)
    ]


def new_product(config: SandboxConfig, product_no: int, created: datetime) -> Record:
    """A product created through the API, before the request's fields are applied."""
    rng = random.Random(f"{config.seed}:new-product:{product_no}")
    return product(config, product_no, created, rng, [])


def variants(config: SandboxConfig, mall_id: str, record: Record) -> list[Record]:
    product_no = record["product_no"]
    rng = rng_for(config, mall_id, f"variants:{product_no}")
    result = []
    for index in range(config.variants_per_product):
        result.append(
            {
                "shop_no": 1,
                "variant_code": codes.variant_code(product_no, index),
                "option": [{"name": "Color", "value": _COLORS[index % len(_COLORS)]}],
                "custom_variant_code": "",
                "display": "T",
                "selling": "T" if rng.random() < 0.95 else "F",
                "additional_amount": "0.00",
                "quantity": rng.randrange(0, 200),
                "safety_inventory": 0,
                "image": "",
            }
        )
    return result


def inventory(variant: Record) -> Record:
    return {
        "shop_no": 1,
        "variant_code": variant["variant_code"],
        "use_inventory": "T",
        "important_inventory": "A",
        "inventory_control_type": "A",
        "display_soldout": "T",
        "quantity": variant["quantity"],
        "safety_inventory": variant["safety_inventory"],
    }


def categories(config: SandboxConfig, mall_id: str) -> list[Record]:
    rng = rng_for(config, mall_id, "categories")
    result: list[Record] = []
    roots = max(1, config.categories // 4)
    for index in range(config.categories):
        category_no = 24 + index
        parent: Record | None = None
        if index >= roots:
            choices = [c for c in result if c["category_depth"] < 4]
            parent = rng.choice(choices)
        depth = 1 if parent is None else parent["category_depth"] + 1
        name = f"{rng.choice(_KOREAN_NOUNS)} 분류 {category_no}" if index % 2 else f"Category {category_no}"
        full_no: dict[str, str | None] = dict.fromkeys(("1", "2", "3", "4"))
        full_name: dict[str, str | None] = dict.fromkeys(("1", "2", "3", "4"))
        if parent is not None:
            full_no.update(parent["full_category_no"])
            full_name.update(parent["full_category_name"])
        full_no[str(depth)] = str(category_no)
        full_name[str(depth)] = name
        result.append(
            {
                "shop_no": 1,
                "category_no": category_no,
                "category_depth": depth,
                "parent_category_no": 1 if parent is None else parent["category_no"],
                "category_name": name,
                "display_type": "A",
                "full_category_name": full_name,
                "full_category_no": full_no,
                "root_category_no": int(full_no["1"] or category_no),
                "use_main": "F",
                "use_display": "T",
                "display_order": index,
                "soldout_product_display": "B",
                "sub_category_product_display": "T",
                "hashtag_product_display": "T",
                "hash_tags": [],
                "product_display_scope": "A",
                "product_display_type": "U",
                "product_display_key": "A",
                "product_display_sort": "D",
                "product_display_period": "W",
            }
        )
    return result


def customers(config: SandboxConfig, mall_id: str) -> list[Record]:
    """Full customer records, as `customersprivacy` serves them."""
    rng = rng_for(config, mall_id, "customers")
    span = timedelta(days=3 * 365)
    result = []
    for index in range(config.customers):
        member_id = f"member{index + 1:05d}"
        created = _spread(config.dataset_end, span, index, config.customers, rng)
        name = rng.choice(_SURNAMES) + rng.choice(_GIVEN)
        mileage = rng.randrange(0, 50) * 100
        result.append(
            {
                "shop_no": 1,
                "member_id": member_id,
                "name": name,
                "name_english": member_id.title(),
                "name_phonetic": "",
                "phone": "",
                "cellphone": f"010-{rng.randrange(10000):04d}-{rng.randrange(10000):04d}",
                "email": f"{member_id}@example.com",
                "wedding_anniversary": "",
                "birthday": f"{rng.randrange(1960, 2005)}-{rng.randrange(1, 13):02d}-"
                f"{rng.randrange(1, 29):02d}",
                "solar_calendar": "T",
                "total_mileage": money(mileage),
                "available_mileage": money(mileage),
                "used_mileage": "0.00",
                "address1": "서울특별시 동작구 보라매로5길 15",
                "address2": f"{rng.randrange(1, 30)}층",
                "group_no": 1,
                "job": "",
                "job_class": "",
                "zipcode": "07071",
                "created_date": iso_kst(created),
                "member_authentication": "T",
                "use_blacklist": "F",
                "blacklist_type": "",
                "last_login_date": iso_kst(created),
                "member_authority": "C",
                "nick_name": "",
                "recommend_id": "",
                "residence": "Seoul",
                "interest": "",
                "gender": rng.choice(("M", "F")),
                "member_type": "p",
                "company_type": "p",
                "foreigner_type": "p",
                "corporate_name": "",
                "nationality": "Korea",
                "shop_name": "",
                "country_code": "KR",
                "use_mobile_app": "F",
            }
        )
    return result


_CUSTOMER_SUMMARY = (
    "shop_no",
    "member_id",
    "name",
    "available_mileage",
    "group_no",
    "member_authentication",
    "use_blacklist",
    "blacklist_type",
)


def customer_summary(full: Record) -> Record:
    """The short record `GET /customers` serves (name masked as in the docs)."""
    summary = {field: full[field] for field in _CUSTOMER_SUMMARY}
    summary["name"] = full["name"][:1] + "****"
    return summary


def orders(
    config: SandboxConfig,
    mall_id: str,
    products_by_no: dict[int, Record],
    member_ids: list[str],
) -> tuple[list[Record], dict[str, list[Record]]]:
    """Orders in date order, and the items of each order by order id."""
    rng = rng_for(config, mall_id, "orders")
    span_seconds = 365 * 86400
    moments = sorted(
        config.dataset_end - timedelta(seconds=rng.randrange(span_seconds)) for _ in range(config.orders)
    )
    product_nos = sorted(products_by_no)
    low, high = config.items_per_order
    per_day: dict[str, int] = {}
    result: list[Record] = []
    items_by_order: dict[str, list[Record]] = {}
    for moment in moments:
        local = moment.astimezone(KST)
        day = f"{local:%Y%m%d}"
        per_day[day] = per_day.get(day, 0) + 1
        order_id = f"{day}-{per_day[day]:07d}"
        items = []
        total = 0
        if product_nos:
            for item_no in range(1, rng.randint(low, high) + 1):
                chosen = products_by_no[rng.choice(product_nos)]
                quantity = rng.randint(1, 3)
                price = float(chosen["price"])
                total += int(price) * quantity
                items.append(_order_item(config, order_id, item_no, chosen, quantity, local, rng))
        paid = rng.random() < 0.9
        status_code, status_text = _ORDER_STATUSES[2 if paid else 0]
        for item in items:
            item["order_status"] = status_code
            item["status_text"] = status_text
        member_id = rng.choice(member_ids) if member_ids and rng.random() < 0.85 else ""
        result.append(
            {
                "shop_no": 1,
                "currency": "KRW",
                "order_id": order_id,
                "market_id": "self",
                "market_order_info": None,
                "buyer_name": rng.choice(_SURNAMES) + rng.choice(_GIVEN),
                "buyer_email": f"{member_id or 'guest'}@example.com",
                "member_id": member_id,
                "member_authentication": "T" if member_id else "F",
                "customer_group_no_when_ordering": 1 if member_id else 0,
                "payment_method": ["card"],
                "payment_method_name": ["Card"],
                "paid": "T" if paid else "F",
                "canceled": "F",
                "order_date": iso_kst(moment),
                "first_order": "F",
                "payment_date": iso_kst(moment) if paid else None,
                "order_from_mobile": "T" if rng.random() < 0.6 else "F",
                "use_escrow": "F",
                "order_price_amount": money(total),
                "membership_discount_amount": "0.00",
                "actual_payment_amount": money(total) if paid else "0.00",
                "mileage_spent_amount": "0.00",
                "payment_amount": money(total),
                "cancel_date": None,
                "shipping_fee": "0.00",
                "shipping_type": "A",
                "shipping_type_text": "Domestic Shipping",
                "shipping_status": "T" if paid else "F",
                "store_pickup": "F",
                "shipping_message": "",
            }
        )
        items_by_order[order_id] = items
    return result, items_by_order


def _order_item(
    config: SandboxConfig,
    order_id: str,
    item_no: int,
    chosen: Record,
    quantity: int,
    local: datetime,
    rng: random.Random,
) -> Record:
    variant_index = rng.randrange(max(config.variants_per_product, 1))
    variant = codes.variant_code(chosen["product_no"], variant_index)
    return {
        "shop_no": 1,
        "item_no": item_no,
        "order_item_code": f"{order_id}-{item_no:02d}",
        "variant_code": variant,
        "product_no": chosen["product_no"],
        "product_code": chosen["product_code"],
        "option_id": variant[-4:],
        "option_value": f"Color={_COLORS[variant_index % len(_COLORS)]}",
        "product_name": chosen["product_name"],
        "product_price": chosen["price"],
        "option_price": "0.00",
        "additional_discount_price": "0.00",
        "quantity": quantity,
        "supplier_id": chosen["supplier_code"],
        "order_status": "N40",
        "status_text": "Delivered",
        "ordered_date": f"{local:%Y-%m-%d %H:%M:%S}",
        "shipped_date": None,
        "delivered_date": None,
        "cancel_date": None,
        "product_weight": "1.00",
    }


def reviews(
    config: SandboxConfig, mall_id: str, product_nos: list[int], orders_: list[Record]
) -> list[Record]:
    rng = rng_for(config, mall_id, "reviews")
    span = timedelta(days=365)
    result = []
    for index in range(config.reviews):
        order = rng.choice(orders_) if orders_ else None
        writing_id = order["member_id"] if order else ""
        rating = rng.randint(1, 5)
        title = "좋아요" if rating >= 4 else "Not bad"
        created = _spread(config.dataset_end, span, index, config.reviews, rng)
        result.append(
            {
                "shop_no": 1,
                "board_no": 4,
                "product_no": rng.choice(product_nos) if product_nos else 0,
                "review_no": index + 1,
                "order_id": order["order_id"] if order else "",
                "nickname": "",
                "title": title,
                "content": f"{title} ({rating}/5)",
                "input_channel": "P",
                "writer": rng.choice(_SURNAMES) + "**",
                "writing_id": writing_id,
                "created_date": iso_kst(created),
                "comment_count": 0,
                "like_count": rng.randrange(10),
                "hit_count": rng.randrange(100),
                "rating": rating,
                "display": "T",
                "deleted": "F",
            }
        )
    return result


def coupons(config: SandboxConfig, mall_id: str) -> list[Record]:
    rng = rng_for(config, mall_id, "coupons")
    span = timedelta(days=365)
    result = []
    for index in range(config.coupons):
        created = _spread(config.dataset_end, span, index, config.coupons, rng)
        percent = rng.random() < 0.5
        result.append(
            {
                "shop_no": 1,
                "coupon_no": str(9_000_000_000_000_000_001 + index),
                "coupon_type": "O",
                "coupon_name": f"쿠폰 {index + 1}" if index % 2 else f"Coupon {index + 1}",
                "coupon_description": None,
                "created_date": iso_kst(created),
                "deleted": "F",
                "is_stopped_issued_coupon": "F",
                "benefit_type": "B" if percent else "A",
                "benefit_price": None if percent else money(rng.randrange(1, 20) * 1000),
                "benefit_percentage": f"{rng.randrange(5, 50)}.0" if percent else None,
                "issue_type": "M",
                "available_period_type": "F",
                "available_begin_datetime": iso_kst(created),
                "available_end_datetime": iso_kst(created + timedelta(days=30)),
                "available_site": "W,M",
                "issued_count": str(rng.randrange(500)),
            }
        )
    return result


def brands(config: SandboxConfig, mall_id: str, products_: list[Record]) -> list[Record]:
    counts: dict[str, int] = {}
    for record in products_:
        counts[record["brand_code"]] = counts.get(record["brand_code"], 0) + 1
    start = config.dataset_end - timedelta(days=3 * 365)
    result = []
    for index in range(config.brands):
        code = codes.entity_code("B", index)
        result.append(
            {
                "shop_no": 1,
                "brand_code": code,
                "brand_name": "Default Brand" if index == 0 else f"브랜드 {index}",
                "use_brand": "T",
                "created_date": f"{(start + timedelta(days=index)).astimezone(KST):%Y-%m-%d}",
                "product_count": counts.get(code, 0),
            }
        )
    return result


def suppliers(config: SandboxConfig, mall_id: str) -> list[Record]:
    start = config.dataset_end - timedelta(days=3 * 365)
    return [
        {
            "shop_no": 1,
            "supplier_code": codes.entity_code("S", index),
            "supplier_name": "Default Supplier" if index == 0 else f"공급사 {index}",
            "status": "A",
            "commission": "10.00",
            "payment_period": "A",
            "business_item": "Online Shop",
            "payment_type": "D",
            "supplier_type": "WS",
            "use_supplier": "T",
            "created_date": iso_kst(start + timedelta(days=index)),
            "updated_date": iso_kst(start + timedelta(days=index + 1)),
        }
        for index in range(config.suppliers)
    ]


def manufacturers(config: SandboxConfig, mall_id: str) -> list[Record]:
    start = config.dataset_end - timedelta(days=3 * 365)
    return [
        {
            "shop_no": 1,
            "manufacturer_code": codes.entity_code("M", index),
            "manufacturer_name": "Default Manufacturer" if index == 0 else f"제조사 {index}",
            "president_name": "Sample Administrator",
            "email": f"maker{index}@example.com",
            "phone": "02-0000-0000",
            "homepage": "",
            "zipcode": "07071",
            "address1": "서울특별시 동작구",
            "address2": "",
            "country_code": "KR",
            "created_date": iso_kst(start + timedelta(days=index)),
            "use_manufacturer": "T",
        }
        for index in range(config.manufacturers)
    ]
