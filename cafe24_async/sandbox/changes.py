"""How a write moves the time a record changed, shared by the writes and the drift.

The live API keeps, for each record, when it last changed: a product's
`updated_date` (moved by its own update and by writes to its variants and
stock), and an order's status dates (shipping started or completed, a
cancellation, return or exchange requested, accepted or completed, a purchase
confirmed). The orders list's `date_type` filters on those dates, and the
products list's `updated_start_date`/`updated_end_date` on `updated_date`, so a
read of what changed finds every record a write touched. D.Collection products
carry an `updated_date` too, moved the same way (`touch`) when they change.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from cafe24_async.sandbox.collection import Collection, Record
from cafe24_async.sandbox.dataset import Dataset
from cafe24_async.sandbox.dates import iso_kst

__all__ = ["ORDER_STEPS", "Step", "advance_order", "touch", "touch_product"]


def touch(collection: Collection, key: Any, moment: datetime, **changes: Any) -> Record | None:
    """Change a record's fields and move its `updated_date` to `moment`; the new record,
    or None when there is no such record."""
    record = collection.get(key)
    if record is None:
        return None
    changed = {**record, **changes, "updated_date": iso_kst(moment)}
    collection.put(changed)
    return changed


def touch_product(dataset: Dataset, product_no: Any, moment: datetime | None = None) -> None:
    """Move a product's `updated_date` to `moment` (default: now): a write changed it."""
    products = dataset.products
    key = products.coerce_key(str(product_no))
    if key is not None:
        touch(products, key, moment or dataset.config.now())


#: Order writes and, per value of their status field, the dates it sets (named as the
#: orders list's `date_type` values) and the items' new status: (field, {value: step}).
Step = tuple[tuple[str, ...], str | None]
_SHIPPING: dict[str, Step] = {"shipping": (("shipbegin_date",), "N30"), "shipped": (("shipend_date",), "N40")}
_CANCEL: dict[str, Step] = {
    "canceling": (("cancel_request_date", "cancel_accept_date"), "C10"),
    "canceled": (("cancel_date", "cancel_complete_date"), "C40"),
}
_RETURN: dict[str, Step] = {
    "accepted": (("return_request_date", "return_accept_date"), "R10"),
    "processing": (("return_accept_date",), "R30"),
    "returned": (("return_complete_date",), "R40"),
}
_EXCHANGE: dict[str, Step] = {
    "accepted": (("exchange_request_date", "exchange_accept_date"), "E10"),
    "exchanged": (("exchange_complete_date",), "E40"),
}
_CONFIRM: dict[str, Step] = {"T": (("purchaseconfirmation_date",), None)}
ORDER_STEPS: dict[tuple[str, str], tuple[str, dict[str, Step]]] = {
    ("POST", "/orders/{order_id}/shipments"): ("status", _SHIPPING),
    ("POST", "/shipments"): ("status", _SHIPPING),
    ("PUT", "/orders/{order_id}/shipments/{shipping_code}"): ("status", _SHIPPING),
    ("PUT", "/shipments"): ("status", _SHIPPING),
    ("POST", "/orders/{order_id}/cancellation"): ("status", _CANCEL),
    ("POST", "/cancellation"): ("status", _CANCEL),
    ("POST", "/orders/{order_id}/return"): ("status", _RETURN),
    ("POST", "/return"): ("status", _RETURN),
    ("POST", "/orders/{order_id}/exchange"): ("status", _EXCHANGE),
    ("POST", "/exchange"): ("status", _EXCHANGE),
    ("PUT", "/orders/{order_id}"): ("purchase_confirmation", _CONFIRM),
    ("PUT", "/orders"): ("purchase_confirmation", _CONFIRM),
}
#: The date_type values whose record field has another name.
_DATE_FIELDS = {"pay_date": "payment_date"}


def advance_order(dataset: Dataset, order_id: str, step: Step, moment: datetime | None = None) -> bool:
    """Set an order's status dates (and its items' status) as one step; False: no such order."""
    orders = dataset.orders
    record = orders.get(order_id)
    if record is None:
        return False
    dates, status = step
    stamp = iso_kst(moment or dataset.config.now())
    orders.put({**record, **{_DATE_FIELDS.get(d, d): stamp for d in dates}})
    items = dataset.items(order_id)
    if status is not None and items is not None:
        for item in list(items.records):
            items.put({**item, "order_status": status})
    return True
