"""Turning an event's ids into the full records, through the normal client.

A bulk event only names what changed (90041: `"product_no": "17652,17394,..."`,
90071-90074: order ids, 90092: supplier codes, 90145-90147: member ids), and
even single events carry a partial record. `hydrate(mall, event)` reads the
records with the list route of the ids' resource, up to `batch_size` (100, the
most values one list parameter takes) ids per call:

    product_no     mall.admin.products.list(product_no=[...], limit=n)
    order_id       mall.admin.orders.list(order_id=[...], limit=n)
    supplier_code  mall.admin.suppliers.list(supplier_code=[...], limit=n)
    member_id      mall.admin.customers.list(member_id=[...])

Every call goes through the mall, so its pacing, token refresh and retries
apply as for any other call. Which ids: the event's bulk field, else the id of
the event's docs section (a product event's `product_no`, an order event's
`order_id`, ...). Extra keyword arguments (`fields=`, `embed=`) go to every call.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import attrs

from cafe24_async.errors import ConfigurationError
from cafe24_async.mall import Mall
from cafe24_async.webhooks.event import WebhookEvent

#: Most ids one list call takes.
BATCH_SIZE = 100

Fetch = Callable[[Mall, list[Any], dict[str, Any]], Awaitable[list[dict[str, Any]]]]


async def _products(mall: Mall, ids: list[Any], params: dict[str, Any]) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = await mall.admin.products.list(product_no=ids, limit=len(ids), **params)
    return records


async def _orders(mall: Mall, ids: list[Any], params: dict[str, Any]) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = await mall.admin.orders.list(order_id=ids, limit=len(ids), **params)
    return records


async def _suppliers(mall: Mall, ids: list[Any], params: dict[str, Any]) -> list[dict[str, Any]]:
    suppliers = mall.admin.suppliers
    records: list[dict[str, Any]] = await suppliers.list(supplier_code=ids, limit=len(ids), **params)
    return records


async def _customers(mall: Mall, ids: list[Any], params: dict[str, Any]) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = await mall.admin.customers.list(member_id=ids, **params)
    return records


#: Id field -> how its records are read.
FETCHERS: dict[str, Fetch] = {
    "product_no": _products,
    "order_id": _orders,
    "supplier_code": _suppliers,
    "member_id": _customers,
}
#: Docs section -> the id field its events are about.
SECTION_IDS = {
    "product": "product_no", "order": "order_id", "supplier": "supplier_code", "customer": "member_id",
}


@attrs.frozen
class Hydration:
    """The records an event's ids name, in the order of the ids."""

    #: The id field read (None when the event names nothing `hydrate` can read).
    field: str | None
    ids: tuple[Any, ...]
    records: list[dict[str, Any]] = attrs.field(repr=False)
    #: Ids the list calls did not return (deleted since, or never there).
    missing: tuple[Any, ...]
    #: List calls made.
    calls: int


def ids_of(event: WebhookEvent) -> tuple[str | None, tuple[Any, ...]]:
    """The id field of `event` that `hydrate` reads, and its ids in payload order."""
    candidates = [*event.BULK_FIELDS]
    section = SECTION_IDS.get(event.CATEGORY)
    if section:
        candidates.append(section)
    for field in candidates:
        if field not in FETCHERS:
            continue
        value = getattr(event, field, None)
        ids = value if isinstance(value, tuple) else (() if value in (None, "") else (value,))
        if ids:
            return field, tuple(dict.fromkeys(ids))
    return None, ()


def _batches(ids: Sequence[Any], size: int) -> list[list[Any]]:
    return [list(ids[start : start + size]) for start in range(0, len(ids), size)]


async def hydrate(
    mall: Mall, event: WebhookEvent, *, batch_size: int = BATCH_SIZE, **params: Any
) -> Hydration:
    """The full records of the ids `event` names (see the module docstring); always as
    dicts (`typed=False`)."""
    if not 1 <= batch_size <= BATCH_SIZE:
        raise ConfigurationError(f"batch_size must be between 1 and {BATCH_SIZE}")
    field, ids = ids_of(event)
    if field is None:
        return Hydration(None, (), [], (), 0)
    fetch = FETCHERS[field]
    batches = _batches(ids, batch_size)
    params["typed"] = False
    pages = await asyncio.gather(*(fetch(mall, batch, dict(params)) for batch in batches))
    found: dict[str, dict[str, Any]] = {}
    for page in pages:
        for record in page:
            if isinstance(record, dict) and record.get(field) is not None:
                found.setdefault(str(record[field]), record)
    records = [found[str(i)] for i in ids if str(i) in found]
    missing = tuple(i for i in ids if str(i) not in found)
    return Hydration(field, ids, records, missing, len(batches))
