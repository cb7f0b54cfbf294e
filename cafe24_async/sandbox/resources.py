"""Table-driven GET serving: list, count and get for every documented GET route.

Each route is bound once, at startup, to a handler. Routes whose path maps to a
generated collection (products, orders, customers, ...) serve real records with
paging, keyset continuation, comma-list and field filters, date windows (on
the creation date, on the update time with `updated_start_date` /
`updated_end_date`, and on the date `date_type` names), `sort`/`order`,
`fields` and `embed`; Analytics and D.Collection routes serve their own
generated rows (`sandbox.reports`); every other GET route answers an empty
list, a zero count or an empty object, after the same paging and date checks.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import attrs

from cafe24_async.routes import Route
from cafe24_async.sandbox import drift, generate, webhooks
from cafe24_async.sandbox.collection import Collection, FieldFilter, Record, Selection
from cafe24_async.sandbox.context import Handler, RequestContext
from cafe24_async.sandbox.dataset import Dataset
from cafe24_async.sandbox.encoding import wrap_list, wrap_object
from cafe24_async.sandbox.errors import ApiError
from cafe24_async.sandbox.reports import bind_other
from cafe24_async.sandbox.routing import placeholder_names
from cafe24_async.sandbox.validation import DATE_PAIRS, DateWindow, Page, date_window, other_windows, page

_PREFIXES = {"admin": "/api/v2/admin", "front": "/api/v2"}

#: Query names that never act as field filters.
_RESERVED = frozenset(
    {"limit", "offset", "fields", "embed", "shop_no", "mall_id", "date_type", "sort", "order"}
)

#: The record field each `date_type` value filters on, where it is not the value itself.
DATE_TYPE_FIELDS = {
    "orders": {"pay_date": "payment_date"},
    "customersprivacy": {"join": "created_date", "login": "last_login_date", "age": "birthday"},
}

Embedder = Callable[[Dataset, Record, frozenset[str]], Record]
Finder = Callable[[Dataset, Mapping[str, str]], Collection | None]


def relative_path(route: Route) -> str | None:
    """The route path below `/api/v2/admin` (Admin) or `/api/v2` (Front)."""
    prefix = _PREFIXES.get(route.api)
    if prefix is None or not route.path.startswith(prefix + "/"):
        return None
    return route.path[len(prefix) :]


def _embed_product(dataset: Dataset, record: Record, embed: frozenset[str]) -> Record:
    if "variants" not in embed:
        return record
    variants = dataset.variants(record["product_no"])
    shaped = dict(record)
    shaped["variants"] = [_embed_variant(dataset, v, embed) for v in (variants.records if variants else [])]
    return shaped


def _embed_variant(dataset: Dataset, record: Record, embed: frozenset[str]) -> Record:
    shaped = dict(record)
    if "inventories" in embed:
        shaped["inventories"] = [generate.inventory(record)]
    return shaped


def _embed_order(dataset: Dataset, record: Record, embed: frozenset[str]) -> Record:
    if "items" not in embed:
        return record
    items = dataset.items(record["order_id"])
    shaped = dict(record)
    shaped["items"] = list(items.records) if items is not None else []
    return shaped


@attrs.frozen(slots=True)
class Source:
    """Where the records of a path come from."""

    #: Relative path template of the list route, e.g. `/products/{product_no}/variants`.
    base: str
    find: Finder
    #: Message of the 404 when a parent in the path does not exist.
    missing: str = "resource not found"
    #: (path placeholder, record field) pairs that scope the collection.
    scope: tuple[tuple[str, str], ...] = ()
    embed: Embedder | None = None


def _top(name: str) -> Finder:
    return lambda dataset, params: dataset.collection(name)


SOURCES: tuple[Source, ...] = (
    Source("/products", _top("products"), embed=_embed_product),
    Source(
        "/products/{product_no}/variants",
        lambda dataset, params: dataset.variants(params["product_no"]),
        missing="product not found",
        embed=_embed_variant,
    ),
    Source("/categories", _top("categories")),
    Source("/customers", _top("customers")),
    Source("/customersprivacy", _top("customersprivacy")),
    Source("/orders", _top("orders"), embed=_embed_order),
    Source(
        "/orders/{order_id}/items",
        lambda dataset, params: dataset.items(params["order_id"]),
        missing="order not found",
    ),
    Source("/reviews", _top("reviews")),
    Source(
        "/customers/{writing_id}/reviews",
        _top("reviews"),
        scope=(("writing_id", "writing_id"),),
    ),
    Source("/coupons", _top("coupons")),
    Source("/brands", _top("brands")),
    Source("/suppliers", _top("suppliers")),
    Source("/manufacturers", _top("manufacturers")),
)

_INVENTORY_PATH = "/products/{product_no}/variants/{variant_code}/inventories"


def source_at(relative: str) -> Source | None:
    """The source whose list path is exactly `relative`."""
    for source in SOURCES:
        if source.base == relative:
            return source
    return None


def find_source(route: Route) -> tuple[Source, str] | None:
    """The source serving a route and how: "list", "count" or "get"."""
    relative = relative_path(route)
    if relative is None:
        return None
    for source in SOURCES:
        if relative == source.base and route.response_kind == "list":
            return source, "list"
        if relative == source.base + "/count" and route.response_kind == "count":
            return source, "count"
        rest = relative[len(source.base) + 1 :] if relative.startswith(source.base + "/") else ""
        if (
            route.response_kind == "object"
            and rest.startswith("{")
            and rest.endswith("}")
            and "/" not in rest
        ):
            return source, "get"
    return None


# -- query interpretation --------------------------------------------------------------


def _split(raw: str) -> list[str]:
    return [part.strip() for part in raw.split(",") if part.strip()]


def _selection(
    ctx: RequestContext,
    source: Source,
    collection: Collection,
    paging: Page | None,
    window: DateWindow | None,
) -> Selection:
    route = ctx.route
    query = ctx.query
    selection = Selection()
    if paging is not None:
        selection.offset = paging.offset
        selection.limit = paging.limit
    skip = set(_RESERVED)
    keyset = route.pagination.keyset if route.pagination is not None else None
    if keyset:
        skip.add(keyset)
        raw = query.get(keyset)
        if raw and keyset == "since_" + collection.key:
            after = collection.coerce_key(raw)
            if after is None:
                raise ApiError(422, f"{keyset}: must be an integer")
            selection.after_key = after
    if route.date_range is not None:
        skip.update((route.date_range.start, route.date_range.end))
        if window is not None and collection.date_field is not None:
            selection.date_from = window.start
            selection.date_to = window.end
            selection.date_field = _date_type_field(route, query, collection)
    selection.windows = other_windows(route, query)
    skip.update(name for pair in DATE_PAIRS for name in pair)
    selection.sort, selection.descending = _sort(route, query)
    raw_keys = query.get(collection.key)
    if raw_keys:
        selection.keys = [k for k in (collection.coerce_key(v) for v in _split(raw_keys)) if k is not None]
    skip.add(collection.key)
    filters = [
        FieldFilter(field, frozenset([ctx.params[placeholder]])) for placeholder, field in source.scope
    ]
    for name, value in query.items():
        if name in skip or name not in collection.fields or not value:
            continue
        filters.append(FieldFilter(name, frozenset(_split(value)), contains=name.endswith("_name")))
    selection.filters = filters
    return selection


def _date_type_field(route: Route, query: Mapping[str, str], collection: Collection) -> str | None:
    """The field the date range filters on, as `date_type` picks it (None: the collection's own)."""
    param = next((p for p in route.params if p.name == "date_type"), None)
    if param is None:
        return None
    chosen = query.get("date_type") or (str(param.default) if param.default else None)
    if chosen is None:
        return None
    if param.enum and chosen not in param.enum:
        raise ApiError(422, f"date_type: must be one of {', '.join(param.enum)}")
    return DATE_TYPE_FIELDS.get(collection.name, {}).get(chosen, chosen)


def _sort(route: Route, query: Mapping[str, str]) -> tuple[str | None, bool]:
    """`sort` (a documented field name) and `order` (asc, the default, or desc); a sort the
    route does not document is ignored, as Cafe24 ignores what it does not know."""
    raw = query.get("sort")
    param = next((p for p in route.params if p.name == "sort"), None)
    if not raw or param is None or (param.enum and raw not in param.enum):
        return None, False
    order = query.get("order") or "asc"
    if order not in ("asc", "desc"):
        raise ApiError(422, "order: must be asc or desc")
    return raw, order == "desc"


def _shaper(ctx: RequestContext, source: Source, collection: Collection) -> Callable[[Record], Record] | None:
    """Applies `embed` and `fields` to each record, or None when nothing asks for it."""
    raw_embed = ctx.query.get("embed")
    embed = frozenset(_split(raw_embed)) if raw_embed else frozenset()
    embedder = source.embed if embed else None
    raw_fields = ctx.query.get("fields")
    fields = _split(raw_fields) if raw_fields else []
    if embedder is None and not fields:
        return None
    dataset = ctx.mall.dataset
    keep = [collection.key, *(f for f in fields if f != collection.key)]
    extra = sorted(embed)

    def shape(record: Record) -> Record:
        shaped = embedder(dataset, record, embed) if embedder is not None else record
        if not fields:
            return shaped
        picked = {f: shaped[f] for f in keep if f in shaped}
        for name in extra:
            if name in shaped and name not in picked:
                picked[name] = shaped[name]
        return picked

    return shape


def _collection(ctx: RequestContext, source: Source) -> Collection:
    found = source.find(ctx.mall.dataset, ctx.params)
    if found is None:
        raise ApiError(404, source.missing)
    return found


# -- handlers -------------------------------------------------------------------------


def _list_handler(route: Route, source: Source) -> Handler:
    root = route.response_root or "resources"

    def handle(ctx: RequestContext) -> tuple[int, Any]:
        drift.settle(ctx.mall.dataset)  # the changes a live mall would have made by now
        paging = page(route, ctx.query, ctx.mall.dataset.config.offset_caps)
        window = date_window(route, ctx.query)
        collection = _collection(ctx, source)
        records = collection.page(_selection(ctx, source, collection, paging, window))
        shape = _shaper(ctx, source, collection)
        if shape is None:
            return 200, wrap_list(root, [collection.encoded(r) for r in records])
        return 200, {root: [shape(r) for r in records]}

    return handle


def _count_handler(route: Route, source: Source) -> Handler:
    def handle(ctx: RequestContext) -> tuple[int, Any]:
        drift.settle(ctx.mall.dataset)
        window = date_window(route, ctx.query)
        collection = _collection(ctx, source)
        return 200, {"count": collection.count(_selection(ctx, source, collection, None, window))}

    return handle


def _get_handler(route: Route, source: Source) -> Handler:
    root = route.response_root or "resource"
    key_name = placeholder_names(route.path)[-1]

    def handle(ctx: RequestContext) -> tuple[int, Any]:
        drift.settle(ctx.mall.dataset)
        collection = _collection(ctx, source)
        key = collection.coerce_key(ctx.params[key_name])
        record = collection.get(key) if key is not None else None
        if record is None:
            raise ApiError(404, f"{root} not found")
        shape = _shaper(ctx, source, collection)
        if shape is None:
            return 200, wrap_object(root, collection.encoded(record))
        return 200, {root: shape(record)}

    return handle


def _inventory_handler(route: Route) -> Handler:
    root = route.response_root or "inventory"

    def handle(ctx: RequestContext) -> tuple[int, Any]:
        found = ctx.mall.dataset.inventory(ctx.params["product_no"], ctx.params["variant_code"])
        if found is None:
            raise ApiError(404, "variant not found")
        return 200, {root: found}

    return handle


def _empty_handler(route: Route) -> Handler:
    root = route.response_root or "resources"
    kind = route.response_kind

    def handle(ctx: RequestContext) -> tuple[int, Any]:
        if kind == "list" and route.lone_object:  # the live API answers one object here
            return 200, {root: {"shop_no": int(ctx.query.get("shop_no") or 1)}}
        if kind == "list":
            page(route, ctx.query)
            date_window(route, ctx.query)
            return 200, {root: []}
        date_window(route, ctx.query)
        if kind == "count":
            return 200, {"count": 0}
        return 200, {root: {}}

    return handle


def bind_read(route: Route) -> Handler:
    """The handler of a GET route."""
    other = bind_other(route)
    if other is not None:
        return other
    if route.path == webhooks.LOGS_PATH:
        return webhooks.logs_handler(route)
    if relative_path(route) == _INVENTORY_PATH:
        return _inventory_handler(route)
    found = find_source(route)
    if found is None:
        return _empty_handler(route)
    source, mode = found
    if mode == "list":
        return _list_handler(route, source)
    if mode == "count":
        return _count_handler(route, source)
    return _get_handler(route, source)
