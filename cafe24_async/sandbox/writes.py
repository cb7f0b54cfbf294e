"""POST, PUT and DELETE for every documented Admin and Front route.

The body must have the documented envelope, `{"shop_no": .., "request": {..}}`
or `{"shop_no": .., "requests": [..]}` (a DELETE may have no body); anything
else is a 400. Products are really created, updated and deleted; every other
route echoes the request back under its response root with the path keys
added, so a client's serialisation can be checked end to end.

Every write that changes a record moves the time it changed, as the live API
does, so a read of what changed since then finds it: a product's
`updated_date` (its own update, and the writes to its variants and stock), an
order's status dates (`ORDER_STEPS`: a shipment started or delivered, a
cancellation, return or exchange accepted or completed, a purchase confirmed,
each setting the date the orders list's `date_type` filters on; see
`sandbox.changes`).
"""

from __future__ import annotations

from typing import Any

from cafe24_async.routes import Route
from cafe24_async.sandbox import generate, webhooks
from cafe24_async.sandbox.changes import ORDER_STEPS, Step, advance_order
from cafe24_async.sandbox.collection import Record
from cafe24_async.sandbox.context import Handler, RequestContext
from cafe24_async.sandbox.dates import iso_kst
from cafe24_async.sandbox.errors import ApiError
from cafe24_async.sandbox.resources import relative_path, source_at

_ENVELOPE = 'the body must be {"shop_no": .., "request": {..}} or {"shop_no": .., "requests": [..]}'
_MONEY_FIELDS = ("price", "retail_price", "supply_price", "additional_price")
_PRODUCT_KEYS = ("product_no", "product_code")


def requests_of(ctx: RequestContext) -> tuple[list[dict[str, Any]], bool]:
    """The request objects of the body, and whether it used the list form."""
    if not ctx.raw_body.strip():
        if ctx.method == "DELETE":
            return [{}], False
        raise ApiError(400, _ENVELOPE)
    if not ctx.content_type.startswith("application/json"):
        raise ApiError(400, "Content-Type must be application/json")
    body = ctx.body
    if not isinstance(body, dict):
        raise ApiError(400, _ENVELOPE)
    single = body.get("request")
    if isinstance(single, dict):
        return [single], False
    many = body.get("requests")
    if isinstance(many, list) and many and all(isinstance(r, dict) for r in many):
        return list(many), True
    raise ApiError(400, _ENVELOPE)


def _typed(value: str) -> Any:
    return int(value) if value.isdigit() and not value.startswith("0") else value


def _answer(route: Route, results: list[Record], many: bool) -> tuple[int, Any]:
    status = 201 if route.method == "POST" else 200
    root = route.response_root or "resource"
    return status, {root: results if many or route.response_kind == "list" else results[0]}


def _echo_handler(route: Route) -> Handler:
    relative = relative_path(route)
    source = source_at(relative) if relative is not None and route.method == "POST" else None

    def handle(ctx: RequestContext) -> tuple[int, Any]:
        requests, many = requests_of(ctx)
        keys = {name: _typed(value) for name, value in ctx.params.items()}
        results = [{**request, **keys} for request in requests]
        if source is not None:
            collection = source.find(ctx.mall.dataset, ctx.params)
            if collection is not None and collection.key_type is int:
                first = collection.next_key()
                for offset, result in enumerate(results):
                    result.setdefault(collection.key, first + offset)
        return _answer(route, results, many)

    return handle


def _apply(record: Record, request: dict[str, Any]) -> None:
    for name, value in request.items():
        if name in _PRODUCT_KEYS:
            continue
        if name in _MONEY_FIELDS and isinstance(value, int | float):
            value = generate.money(value)
        record[name] = value


def _create_product(route: Route) -> Handler:
    def handle(ctx: RequestContext) -> tuple[int, Any]:
        requests, many = requests_of(ctx)
        dataset = ctx.mall.dataset
        config = dataset.config
        results = []
        for request in requests:
            product_no = dataset.products.next_key()
            record = generate.new_product(config, product_no, config.now())
            _apply(record, request)
            record["updated_date"] = record["created_date"]  # new: changed when created
            dataset.products.put(record)
            results.append(record)
        return _answer(route, results, many)

    return handle


def _product_of(ctx: RequestContext) -> Record:
    products = ctx.mall.dataset.products
    key = products.coerce_key(ctx.params["product_no"])
    record = products.get(key) if key is not None else None
    if record is None:
        raise ApiError(404, "product not found")
    return record


def _update_product(route: Route) -> Handler:
    def handle(ctx: RequestContext) -> tuple[int, Any]:
        requests, many = requests_of(ctx)
        products = ctx.mall.dataset.products
        updated = dict(_product_of(ctx))
        for request in requests:
            _apply(updated, request)
        updated["updated_date"] = iso_kst(ctx.mall.dataset.config.now())
        products.put(updated)
        return _answer(route, [updated] * len(requests), many)

    return handle


def _delete_product(route: Route) -> Handler:
    def handle(ctx: RequestContext) -> tuple[int, Any]:
        requests, many = requests_of(ctx)
        record = _product_of(ctx)
        dataset = ctx.mall.dataset
        dataset.products.remove(record["product_no"])
        dataset.forget_variants(record["product_no"])
        return _answer(route, [{"product_no": record["product_no"]}] * len(requests), many)

    return handle


def _update_variant(route: Route) -> Handler:
    """A variant update: `supply_price` only where the mall manages supply price per
    variant (`SandboxConfig.variant_supply_price`), as the live API does (422 otherwise)."""
    echo = _echo_handler(route)

    def handle(ctx: RequestContext) -> tuple[int, Any]:
        requests, _ = requests_of(ctx)
        if any("supply_price" in r for r in requests) and not ctx.mall.dataset.config.variant_supply_price:
            raise ApiError(422, "Supply price by item cannot be modified.")
        return echo(ctx)

    return handle


def _order_step(route: Route, field: str, steps: dict[str, Step]) -> Handler:
    """An order write that moves each order it names on by the step its status value says."""
    echo = _echo_handler(route)

    def handle(ctx: RequestContext) -> tuple[int, Any]:
        requests, _ = requests_of(ctx)
        dataset = ctx.mall.dataset
        path_order = ctx.params.get("order_id")
        answer = echo(ctx)  # an order the mall does not hold is answered, and nothing changes
        for request in requests:
            step = steps.get(str(request.get(field)))
            order_id = path_order or request.get("order_id")
            if step is not None and isinstance(order_id, str):
                advance_order(dataset, order_id, step)
        return answer

    return handle


def bind_write(route: Route) -> Handler:
    """The handler of a POST, PUT or DELETE route (sending its webhook events, if any)."""
    return webhooks.emitting(route, _plain_write(route))


def _plain_write(route: Route) -> Handler:
    relative = relative_path(route)
    if relative == "/products/{product_no}/variants/{variant_code}" and route.method == "PUT":
        return _update_variant(route)
    step = ORDER_STEPS.get((route.method, relative or ""))
    if step is not None and route.api == "admin":
        return _order_step(route, *step)
    if relative == "/products" and route.method == "POST":
        return _create_product(route)
    if relative == "/products/{product_no}":
        if route.method == "PUT":
            return _update_product(route)
        if route.method == "DELETE":
            return _delete_product(route)
    return _echo_handler(route)
