"""One mall's shop data: the collections the resource routes serve.

Built once per mall from the seeded generators, then kept in memory. Variants
and their inventories are made on first use per product (a 12,000-product mall
does not pay for 36,000 variants it never reads); order items are made with
their orders so amounts add up. Products are the one collection the API can
change (create, update, delete).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from cafe24_async.sandbox import generate
from cafe24_async.sandbox.collection import Collection, Record
from cafe24_async.sandbox.config import SandboxConfig


def _timestamp(field: str) -> Callable[[Record], float]:
    """POSIX timestamp of an ISO date field (0 when empty)."""

    def stamp(record: Record) -> float:
        value = record.get(field)
        return datetime.fromisoformat(value).timestamp() if value else 0.0

    return stamp


def _order_sort(record: Record) -> tuple[str, str]:
    # ISO timestamps with the same +09:00 offset sort as text.
    return record["order_date"], record["order_id"]


class Dataset:
    """All generated collections of one mall."""

    def __init__(self, config: SandboxConfig, mall_id: str) -> None:
        self.config = config
        self.mall_id = mall_id
        category_records = generate.categories(config, mall_id)
        self.categories = Collection("categories", "category_no", category_records)
        product_records = generate.products(config, mall_id, [c["category_no"] for c in category_records])
        self.products = Collection(
            "products",
            "product_no",
            product_records,
            date_field="created_date",
            date_of=_timestamp("created_date"),
        )
        full_customers = generate.customers(config, mall_id)
        customer_stamp = _timestamp("created_date")
        self.customersprivacy = Collection(
            "customersprivacy",
            "member_id",
            full_customers,
            date_field="created_date",
            date_of=customer_stamp,
        )
        self.customers = Collection(
            "customers", "member_id", [generate.customer_summary(c) for c in full_customers]
        )
        order_records, self._items = generate.orders(
            config, mall_id, self.products.index, [c["member_id"] for c in full_customers]
        )
        self.orders = Collection(
            "orders",
            "order_id",
            order_records,
            order=_order_sort,
            date_field="order_date",
            date_of=_timestamp("order_date"),
        )
        self.orders.sort_by_date()
        self.reviews = Collection(
            "reviews",
            "review_no",
            generate.reviews(config, mall_id, list(self.products.index), order_records),
            date_field="created_date",
            date_of=_timestamp("created_date"),
        )
        self.coupons = Collection(
            "coupons",
            "coupon_no",
            generate.coupons(config, mall_id),
            date_field="created_date",
            date_of=_timestamp("created_date"),
        )
        self.brands = Collection("brands", "brand_code", generate.brands(config, mall_id, product_records))
        self.suppliers = Collection("suppliers", "supplier_code", generate.suppliers(config, mall_id))
        self.manufacturers = Collection(
            "manufacturers", "manufacturer_code", generate.manufacturers(config, mall_id)
        )
        self._variants: dict[int, Collection] = {}
        self._item_collections: dict[str, Collection] = {}

    def collection(self, name: str) -> Collection:
        """A top-level collection by name (`products`, `orders`, ...)."""
        found = getattr(self, name, None)
        if not isinstance(found, Collection):
            raise KeyError(name)
        return found

    def variants(self, product_no: Any) -> Collection | None:
        """The variants of a product, or None when there is no such product."""
        key = self.products.coerce_key(str(product_no))
        record = self.products.get(key)
        if record is None:
            return None
        found = self._variants.get(key)
        if found is None:
            found = Collection(
                "variants", "variant_code", generate.variants(self.config, self.mall_id, record)
            )
            self._variants[key] = found
        return found

    def inventory(self, product_no: Any, variant_code: str) -> Record | None:
        variants = self.variants(product_no)
        variant = variants.get(variant_code) if variants is not None else None
        return generate.inventory(variant) if variant is not None else None

    def items(self, order_id: str) -> Collection | None:
        """The items of an order, or None when there is no such order."""
        if order_id not in self.orders.index:
            return None
        found = self._item_collections.get(order_id)
        if found is None:
            found = Collection("items", "item_no", self._items.get(order_id, []))
            self._item_collections[order_id] = found
        return found

    def forget_variants(self, product_no: int) -> None:
        self._variants.pop(product_no, None)
