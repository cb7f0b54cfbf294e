"""Writes as a bulk writer meets them: capped bulk calls, 207s, lost answers, no-op
writes and stale reads (see `sandbox.write_config` for why each one matters).

`bind(route, handler)` wraps the handler the dispatcher made for a route:

- every write call draws a fault first (`WriteBook.draw`): refused with a 503
  before anything changes, or carried out and then its answer lost (the
  connection dropped, `AnswerLost`) or turned into a 500;
- the variant writes really change the variants: `PUT .../variants` (the bulk
  form, `requests=[...]`, at most `max_requests` objects; an object the call
  cannot take, an unknown `variant_code` or a bad quantity, makes a 422 naming
  it as `requests[i]`, and nothing of the call is applied; each object may be
  refused on its own, and then the call answers 207 with an `error` in its
  place), `PUT .../variants/{variant_code}` and its `/inventories`. Stock sent to
  a variant whose `use_inventory` is "F" is accepted and changes nothing;
- a product update goes through the mall's price settings first (a price is
  dropped when prices follow the supply price, or gets the product's tax added
  when the mall takes prices tax excluded), then the plain handler;
- `GET /products/setting` answers those settings, and reads of products,
  variants and inventories show what `WriteBook.view` makes of them (stale
  fields, `use_inventory`).

Each write that takes effect is counted per record in `WriteBook.applied`, so a
test can check from outside the client that every row landed exactly once. The
plain handler of a modelled write still runs first (its own rules, a 422 for a
variant's supply price, stay in force); what it answers is replaced.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

import attrs

from cafe24_async.routes import Route
from cafe24_async.sandbox import generate
from cafe24_async.sandbox.changes import touch_product
from cafe24_async.sandbox.collection import Collection, Record
from cafe24_async.sandbox.context import Handler, RequestContext
from cafe24_async.sandbox.encoding import dump_json
from cafe24_async.sandbox.errors import ApiError
from cafe24_async.sandbox.resources import relative_path
from cafe24_async.sandbox.write_book import WriteBook, WriteFault
from cafe24_async.sandbox.writes import requests_of

_VARIANTS = "/products/{product_no}/variants"
_VARIANT = "/products/{product_no}/variants/{variant_code}"
_INVENTORY = "/products/{product_no}/variants/{variant_code}/inventories"
_PRODUCT = "/products/{product_no}"
_SETTINGS = "/products/setting"
#: Reads whose records a write can change.
_SHAPED_READS = frozenset({"/products", _PRODUCT, _VARIANTS, _VARIANT, _INVENTORY})
#: Variant fields that hold a count.
_COUNTS = ("quantity", "safety_inventory")
_FLAGS = ("use_inventory", "display", "selling", "display_soldout")
_KEYS = frozenset({"shop_no", "variant_code", "product_no", "product_code"})


class AnswerLost(Exception):
    """The write was carried out; the dispatcher drops the connection instead of answering."""


class ItemsRefused(ApiError):
    """A 422 naming the objects of a bulk call that it cannot take; nothing was applied."""

    def __init__(self, problems: list[tuple[int, str]]) -> None:
        self.indexes = [index for index, _ in problems]
        super().__init__(422, "; ".join(f"requests[{index}].{problem}" for index, problem in problems))

    def body(self) -> dict[str, Any]:
        body = super().body()
        body["error"]["more_info"] = {"requests": self.indexes}
        return body


def bind(route: Route, handler: Handler) -> Handler:
    """`handler` with the sandbox's write behaviour around it (itself for other routes)."""
    relative = relative_path(route)
    if route.method == "GET":
        if relative == _SETTINGS and route.api == "admin":
            return _settings(route)
        if relative in _SHAPED_READS and route.api == "admin":
            return _shaped(handler)
        return handler
    if route.method not in ("POST", "PUT", "DELETE"):
        return handler
    if route.api == "admin" and route.method == "PUT":
        if relative == _VARIANTS:
            handler = _variants_many(route, handler)
        elif relative in (_VARIANT, _INVENTORY):
            handler = _variant_one(route, handler, inventory=relative == _INVENTORY)
        elif relative == _PRODUCT:
            handler = _product_update(handler)
    return _with_faults(handler)


# -- faults ------------------------------------------------------------------------------


def _with_faults(handler: Handler) -> Handler:
    def handle(ctx: RequestContext) -> tuple[int, Any]:
        book = ctx.mall.writes
        fault = book.draw()
        if fault is WriteFault.REJECT:
            book.rejected += 1
            raise ApiError(503, "Injected: the write was refused before anything changed")
        status, payload = handler(ctx)
        if status < 400 and fault is not WriteFault.NONE:
            book.lost += 1
            if fault is WriteFault.LOST:
                raise AnswerLost
            raise ApiError(500, "Injected: the write was applied, then the server failed")
        return status, payload

    return handle


# -- reads -------------------------------------------------------------------------------


def _shaped(handler: Handler) -> Handler:
    def handle(ctx: RequestContext) -> tuple[int, Any]:
        status, payload = handler(ctx)
        if status == 200:
            payload = ctx.mall.writes.view(payload)
        return status, payload

    return handle


def _settings(route: Route) -> Handler:
    root = route.response_root or "product"

    def handle(ctx: RequestContext) -> tuple[int, Any]:
        config = ctx.mall.writes.config
        shop_no = int(ctx.query.get("shop_no") or 1)
        return 200, {root: {"shop_no": shop_no, "calculate_price_based_on": config.price_base,
                            "tax_calculation": config.tax_calculation}}

    return handle


# -- variants ----------------------------------------------------------------------------


def _whole(value: Any) -> int | None:
    """A count from JSON (an int, or digits as text), None when it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def _problem(variants: Collection, request: dict[str, Any]) -> str | None:
    """Why one object of a variant write cannot be taken, or None."""
    code = request.get("variant_code")
    if not isinstance(code, str) or variants.get(code) is None:
        return f"variant_code: {code!r} is not a variant of this product"
    for name in _COUNTS:
        if name in request and _whole(request[name]) is None:
            return f"{name}: must be a whole number of at least 0, got {request[name]!r}"
    for name in _FLAGS:
        if name in request and request[name] not in ("T", "F"):
            return f"{name}: must be T or F, got {request[name]!r}"
    return None


def _apply_variant(book: WriteBook, variants: Collection, request: dict[str, Any]) -> Record:
    """Carry out one variant object; the variant as it now is."""
    code: str = request["variant_code"]
    record = variants.get(code)
    assert record is not None
    before, updated = dict(record), dict(record)
    if "use_inventory" in request:
        book.set_use_inventory(code, request["use_inventory"])
    stock_counts = book.use_inventory(code) == "T"
    changed: list[str] = []
    effective = "use_inventory" in request
    for name, value in request.items():
        if name in _KEYS or name == "use_inventory":
            continue
        if name in _COUNTS:
            value = _whole(value)
            if name == "quantity" and not stock_counts:
                continue  # accepted, and nothing changes: the variant keeps no stock
        updated[name] = value
        changed.append(name)
        effective = True
    variants.put(updated)
    book.wrote(("variant", code), before, changed, effective)
    return book.answer(updated)


def _variants_of(ctx: RequestContext) -> Collection:
    variants = ctx.mall.dataset.variants(ctx.params["product_no"])
    if variants is None:
        raise ApiError(404, "product not found")
    return variants


def _variants_many(route: Route, plain: Handler) -> Handler:
    root = route.response_root or "variants"

    def handle(ctx: RequestContext) -> tuple[int, Any]:
        requests, many = requests_of(ctx)
        book = ctx.mall.writes
        variants = _variants_of(ctx)
        cap = book.config.max_requests
        if len(requests) > cap:
            raise ApiError(422, f"requests: at most {cap} objects per call, got {len(requests)}")
        problems = [(i, p) for i, r in enumerate(requests) if (p := _problem(variants, r)) is not None]
        if problems:
            raise ItemsRefused(problems)
        plain(ctx)  # its own rules; nothing is applied before they pass
        results: list[Record] = []
        refused: int | None = None
        for request in requests:
            status = book.item_error()
            if status is None:
                results.append(_apply_variant(book, variants, request))
                continue
            refused = refused or status
            results.append({"shop_no": request.get("shop_no", 1), "variant_code": request["variant_code"],
                            "error": {"code": status, "message": "Injected: this object was not applied"}})
        if any("error" not in r for r in results):
            touch_product(ctx.mall.dataset, ctx.params["product_no"])  # a variant of it changed
        if refused is not None and not many:
            raise ApiError(refused, "Injected: the variant was not applied")
        return (207 if refused is not None else 200), {root: results}

    return handle


def _variant_one(route: Route, plain: Handler, *, inventory: bool) -> Handler:
    root = route.response_root or ("inventory" if inventory else "variant")

    def handle(ctx: RequestContext) -> tuple[int, Any]:
        requests, _ = requests_of(ctx)
        book = ctx.mall.writes
        variants = _variants_of(ctx)
        code = ctx.params["variant_code"]
        if variants.get(code) is None:
            raise ApiError(404, "variant not found")
        request = {**requests[0], "variant_code": code}
        problem = _problem(variants, request)
        if problem is not None:
            raise ApiError(422, problem)
        plain(ctx)
        status = book.item_error()
        if status is not None:
            raise ApiError(status, "Injected: the variant was not applied")
        variant = _apply_variant(book, variants, request)
        touch_product(ctx.mall.dataset, ctx.params["product_no"])  # a variant of it changed
        if not inventory:
            return 200, {root: variant}
        return 200, {root: book.answer(generate.inventory(variant))}

    return handle


# -- products ----------------------------------------------------------------------------


def _priced(book: WriteBook, product: Record, request: dict[str, Any]) -> dict[str, Any]:
    """One product object as the mall's price settings let it through."""
    if "price" not in request:
        return request
    config = book.config
    request = dict(request)
    if config.price_base == "S":
        del request["price"]  # prices follow the supply price: a price sent changes nothing
    elif config.tax_calculation == "E":
        try:
            sent = Decimal(str(request["price"]))
        except InvalidOperation:
            return request  # the plain handler stores what it is sent
        rate = Decimal(str(product.get("tax_amount") or 0))
        request["price"] = generate.money(float(sent * (100 + rate) / 100))
    return request


def _product_update(plain: Handler) -> Handler:
    def handle(ctx: RequestContext) -> tuple[int, Any]:
        products = ctx.mall.dataset.products
        key = products.coerce_key(ctx.params["product_no"])
        product = products.get(key) if key is not None else None
        if product is None:
            return plain(ctx)  # its 404
        requests, many = requests_of(ctx)
        book = ctx.mall.writes
        priced = [_priced(book, product, r) for r in requests]
        if priced != requests:
            body = dict(ctx.body)
            body["requests" if many else "request"] = priced if many else priced[0]
            ctx = attrs.evolve(ctx, body=body, raw_body=dump_json(body))
        before = dict(product)
        status, payload = plain(ctx)
        fields = sorted({name for r in priced for name in r if name not in _KEYS})
        book.wrote(("product", str(product["product_no"])), before, fields, bool(fields))
        return status, payload

    return handle


__all__ = ["AnswerLost", "ItemsRefused", "bind"]
