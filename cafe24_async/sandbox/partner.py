"""Generated rows of the two other APIs: Analytics reports and D.Collection listings.

Analytics rows are made on demand, a pure function of (mall, route, row
number, date range): any page of any report costs only its own rows, and the
same request always gets the same rows. Each report has `analytics_rows` rows
whatever the range; a `date` column walks through the requested days.

D.Collection lists the stores and products of the partner program, partner-wide
rather than per mall; its stores, products and standard tags are generated once
from the seed, so pages, filters and counts agree with each other. Stores and
products carry `created_date` and `updated_date` (the D.Collection reference:
datetimes, `2022-09-05T08:34:18+09:00`); a product's last update falls within
sixty days after its creation and never after the end of the generated data,
and moves when the product changes (`sandbox.drift`).
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from typing import Any

from cafe24_async.routes import Route
from cafe24_async.sandbox.collection import Collection, Record
from cafe24_async.sandbox.config import SandboxConfig
from cafe24_async.sandbox.dates import KST, iso_kst

#: D.Collection product categories the generated products fall into.
CATEGORIES = ("C200801", "C200802", "C200803", "C200804", "C200805")
_GRADES = ("black", "purple", "green", "orange")
_LANGUAGES = (("ko_KR", "KRW"), ("en_US", "USD"), ("ja_JP", "JPY"))
_TAGS = ("cotton", "linen", "wool", "summer", "winter", "kids", "unisex", "vintage", "eco", "gift")
#: Columns of the reports whose docs list no sort keys.
_DEFAULT_COLUMNS = ("date", "count", "order_amount")


def analytics_columns(route: Route) -> tuple[str, ...]:
    """The columns of a report: the documented sort keys, which name its measures."""
    for param in route.params:
        if param.name == "sort" and param.enum:
            return param.enum
    return _DEFAULT_COLUMNS


def analytics_row(
    mall_id: str, route: Route, columns: tuple[str, ...], index: int, first_day: date, days: int
) -> Record:
    """Row `index` (from 0) of a report over `days` days from `first_day`."""
    rng = random.Random(f"{mall_id}:{route.path}:{index}")
    row: dict[str, Any] = {"shop_no": 1}
    for column in columns:
        if column == "date":
            row[column] = (first_day + timedelta(days=index % max(1, days))).isoformat()
        elif column == "hour":
            row[column] = f"{index % 24:02d}"
        elif column == "product_no":
            row[column] = index + 1
        elif column == "order_id":
            row[column] = f"{first_day:%Y%m%d}-{index + 1:07d}"
        elif column.endswith("_rate"):
            row[column] = round(rng.random() * 100, 2)
        elif column.endswith(("count", "_amount", "_view", "page_view")):
            row[column] = rng.randrange(0, 5000)
        else:
            row[column] = f"{column}-{index + 1}"
    return row


def _updated(created: datetime, end: datetime, rng: random.Random) -> datetime:
    """When a generated store or product was last updated: up to sixty days after its
    creation, to the second, never after `end`."""
    return min(created + timedelta(seconds=rng.randrange(60 * 86400)), end)


def _stamp(record: Record) -> float:
    return datetime.fromisoformat(record["created_date"]).timestamp()


class PartnerData:
    """The D.Collection program's stores, products and standard tags."""

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        rng = random.Random(f"{config.seed}:dcollection")
        #: Update times have a generator of their own, so the other fields stay as they were.
        updates = random.Random(f"{config.seed}:dcollection:updated")
        end = config.dataset_end
        shops: list[Record] = []
        for number in range(1, max(1, config.dcollection_shops) + 1):
            language, currency = _LANGUAGES[number % len(_LANGUAGES)]
            created = end - timedelta(days=3 * number, hours=rng.randrange(24))
            shops.append(
                {
                    "store_id": f"store{number:03d}",
                    "shop_no": 1,
                    "shop_name": f"샵{number:03d}",
                    "shop_language": language,
                    "shop_currency_code": currency,
                    "shop_grade": _GRADES[number % len(_GRADES)],
                    "created_date": iso_kst(created),
                    "updated_date": iso_kst(_updated(created, end, updates)),
                }
            )
        products: list[Record] = []
        for number in range(1, config.dcollection_products + 1):
            shop = shops[number % len(shops)]
            price = rng.randrange(10, 500) * 100
            reviews = rng.randrange(0, 300)
            created = end - timedelta(days=number % 700, hours=rng.randrange(24))
            products.append(
                {
                    "product_ukey": f"{shop['store_id']}-{number:05d}",
                    "store_id": shop["store_id"],
                    "shop_no": 1,
                    "shop_name": shop["shop_name"],
                    "product_no": number,
                    "product_name": f"상품 {number}",
                    "dcollection_product_category": CATEGORIES[number % len(CATEGORIES)],
                    "price": f"{price}.00",
                    "review_count": reviews,
                    "created_date": iso_kst(created),
                    "updated_date": iso_kst(_updated(created, end, updates)),
                }
            )
        tags = [{"tag_no": i + 1, "tag_name": name} for i, name in enumerate(_TAGS)]
        self.shops = Collection("shops", "store_id", shops, date_field="created_date", date_of=_stamp)
        self.products = Collection(
            "products", "product_ukey", products, date_field="created_date", date_of=_stamp
        )
        self.standardtags = Collection("standardtags", "tag_no", tags)

    def collection(self, route: Route) -> Collection:
        """The collection a D.Collection route reads."""
        if route.path.startswith("/api/shops"):
            return self.shops
        if route.path.startswith("/api/products/standardtags"):
            return self.standardtags
        return self.products


def first_day(timestamp: float | None) -> date:
    """The Seoul day of a date-window bound."""
    if timestamp is None:
        return date(2026, 1, 1)
    return datetime.fromtimestamp(timestamp, KST).date()
