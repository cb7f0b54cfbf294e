"""Webhooks sent by the sandbox, so a receiver can be tested end to end over real HTTP.

Register a receiver (`sandbox.webhooks.register(url, api_key)`); from then on
writes through the sandbox's API send the matching events, as Cafe24 does:

    POST   /products                                   90001 product created (each product)
    PUT    /products/{product_no}                      90002 product updated
    DELETE /products/{product_no}                      90003 product deleted
    PUT    /products/{no}/variants/{code}/inventories  90075 stock changed; with quantity 0
                                                       also 90150 (sold out, product_no as text)
    PUT    /orders/{order_id}                          90024 order status changed
    PUT    /orders                                     90071 bulk status change, order ids comma-joined

Payloads have Cafe24's shape and quirks: `{"event_no": N, "resource": {...}}`,
`event_shop_no` as text, `wished_delivery_date` "0000-00-00", ids comma-joined.
`emit` sends any other event (e.g. 90041 with comma-joined product numbers).

Each delivery is a POST with the key in `key_header` (default `X-Api-Key`) and,
if `trace_header` is set, the trace id. A non-2xx answer or a failed connection
is tried again (`attempts` in all, `retry_delay` seconds apart; the first try is
log type G, the others R). With `drop_rate`, that fraction of events (a seeded
draw) is lost: recorded in the log as failed, never sent nor retried. Every
attempt is a record of the mall's delivery log, served at
`GET /api/v2/admin/webhooks/logs` with `since_log_id`, `limit`, `event_no`,
`success`, `log_type` and the date range, so `reconcile` can read it.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import random
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

import aiohttp
import attrs

from cafe24_async.routes import Route
from cafe24_async.sandbox.codes import product_code
from cafe24_async.sandbox.config import SandboxConfig
from cafe24_async.sandbox.dates import iso_kst
from cafe24_async.sandbox.errors import ApiError
from cafe24_async.sandbox.validation import date_window, page

if TYPE_CHECKING:  # the request context knows the mall state, which holds the hub
    from cafe24_async.sandbox.context import Handler, RequestContext

LOGS_PATH = "/api/v2/admin/webhooks/logs"
_ADMIN = "/api/v2/admin"

#: The product fields Cafe24's product events carry (spec/webhooks.json, 90001).
PRODUCT_FIELDS = (
    "product_no", "product_code", "created_date", "updated_date", "product_name", "eng_product_name",
    "supply_product_name", "model_name", "custom_product_code", "product_condition", "summary_description",
    "simple_description", "description", "display", "selling", "retail_price", "supply_price", "price",
    "price_content", "adult_certification", "manufacturer_code", "supplier_code", "brand_code", "trend_code",
    "made_date", "release_date", "origin_place_code", "shipping_scope", "translated",
)
#: The order fields the sandbox's order records have in common with 90024's payload.
ORDER_FIELDS = (
    "order_id", "currency", "order_date", "member_id", "member_authentication", "buyer_name", "buyer_email",
    "first_order", "order_from_mobile", "paid", "payment_date", "use_escrow", "order_price_amount",
    "membership_discount_amount", "actual_payment_amount", "mileage_spent_amount", "cancel_date",
    "shipping_fee", "shipping_type", "shipping_status", "store_pickup", "shipping_message",
)


def _not_negative(instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if value < 0:
        raise ValueError(f"{attribute.name} must not be negative, got {value}")


def _rate(instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{attribute.name} must be between 0 and 1, got {value}")


@attrs.frozen(kw_only=True)
class WebhookSettings:
    """Where and how the sandbox delivers events."""

    url: str
    api_key: str = attrs.field(repr=False)
    key_header: str = "X-Api-Key"
    #: Header carrying the trace id of the delivery (None: the id is only in the log).
    trace_header: str | None = None
    #: Event numbers to send (None: all).
    events: frozenset[int] | None = None
    attempts: int = 3
    retry_delay: float = attrs.field(default=0.0, validator=_not_negative)
    #: Fraction of events lost (a seeded draw); they are logged as failed and never sent.
    drop_rate: float = attrs.field(default=0.0, validator=_rate)
    seed: int = 0
    timeout: float = attrs.field(default=5.0, validator=_not_negative)

    def __attrs_post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("attempts must be at least 1")


@attrs.define
class WebhookCounters:
    #: Events the sandbox had to send (dropped ones included).
    emitted: int = 0
    #: HTTP attempts made.
    attempts: int = 0
    #: Events a receiver answered 2xx.
    delivered: int = 0
    #: Events that met no 2xx in all their attempts.
    failed: int = 0
    #: Events lost on purpose (`drop_rate`).
    dropped: int = 0


class WebhookHub:
    """Registration, delivery and the delivery log of one sandbox (all malls)."""

    def __init__(self, config: SandboxConfig) -> None:
        self._config = config
        self.settings: WebhookSettings | None = None
        self.counters = WebhookCounters()
        self._logs: dict[str, list[dict[str, Any]]] = {}
        self._log_ids = itertools.count(1)
        self._traces = itertools.count(1)
        self._rng = random.Random(0)
        self._tasks: set[asyncio.Task[None]] = set()
        self._session: aiohttp.ClientSession | None = None

    def __repr__(self) -> str:
        target = self.settings.url if self.settings else "nobody"
        return f"<WebhookHub to {target} {self.counters}>"

    # -- registration ---------------------------------------------------------------

    def register(self, url: str, api_key: str, **options: Any) -> WebhookSettings:
        """Send events to `url` with `api_key` from now on (see `WebhookSettings` for options)."""
        events = options.pop("events", None)
        settings = WebhookSettings(
            url=url, api_key=api_key, events=frozenset(events) if events is not None else None, **options
        )
        self.settings = settings
        self._rng = random.Random(settings.seed)
        return settings

    def unregister(self) -> None:
        self.settings = None

    # -- sending ------------------------------------------------------------------------

    def emit(
        self, mall_id: str, event_no: int, resource: Mapping[str, Any], *, log_type: str = "G"
    ) -> str | None:
        """Send one event (in the background); its trace id, or None when nobody is registered
        or the event is not among the registered ones."""
        body = json.dumps({"event_no": event_no, "resource": dict(resource)}, ensure_ascii=False)
        return self.emit_raw(mall_id, event_no, body, log_type=log_type)

    def emit_raw(self, mall_id: str, event_no: int, body: str, *, log_type: str = "G") -> str | None:
        """Send `body` exactly as given (a hostile or damaged delivery) as event `event_no`."""
        settings = self.settings
        if settings is None or (settings.events is not None and event_no not in settings.events):
            return None
        trace_id = f"sandbox-{next(self._traces):08d}"
        self.counters.emitted += 1
        if settings.drop_rate and self._rng.random() < settings.drop_rate:
            self.counters.dropped += 1
            self._record(mall_id, event_no, trace_id, log_type, settings.url, body, None, None)
            return trace_id
        task = asyncio.get_running_loop().create_task(
            self._deliver(settings, mall_id, event_no, trace_id, log_type, body)
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return trace_id

    async def _deliver(
        self, settings: WebhookSettings, mall_id: str, event_no: int, trace_id: str, log_type: str, body: str
    ) -> None:
        headers = {"Content-Type": "application/json", settings.key_header: settings.api_key}
        if settings.trace_header:
            headers[settings.trace_header] = trace_id
        if self._session is None:
            self._session = aiohttp.ClientSession()
        timeout = aiohttp.ClientTimeout(total=settings.timeout)
        for attempt in range(settings.attempts):
            if attempt:
                await asyncio.sleep(settings.retry_delay)
            kind = log_type if attempt == 0 else "R"
            self.counters.attempts += 1
            status: int | None = None
            answer: str | None = None
            try:
                session, data = self._session, body.encode()
                async with session.post(settings.url, data=data, headers=headers, timeout=timeout) as got:
                    status = got.status
                    answer = (await got.text(errors="replace"))[:1000]
            except (aiohttp.ClientError, TimeoutError, OSError) as exc:
                answer = f"{type(exc).__name__}: {exc}"[:1000]
            ok = status is not None and 200 <= status < 300
            failure = None if ok else answer
            self._record(mall_id, event_no, trace_id, kind, settings.url, body, status, failure)
            if ok:
                self.counters.delivered += 1
                return
        self.counters.failed += 1

    def _record(
        self, mall_id: str, event_no: int, trace_id: str, log_type: str, url: str, body: str,
        status: int | None, answer: str | None,
    ) -> None:
        ok = status is not None and 200 <= status < 300
        self._logs.setdefault(mall_id, []).append({
            "log_id": next(self._log_ids),
            "log_type": log_type,
            "event_no": event_no,
            "mall_id": mall_id,
            "trace_id": trace_id,
            "requested_time": iso_kst(self._config.now()),
            "request_endpoint": url,
            "request_body": body,
            "success": "T" if ok else "F",
            "response_http_code": status,
            "response_body": None if ok else answer,
        })

    async def settled(self) -> None:
        """Wait until every delivery started so far is done (retries included)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def aclose(self) -> None:
        """Stop sending: deliveries in progress are cancelled, the HTTP session closed."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*list(self._tasks), return_exceptions=True)
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    # -- the log ------------------------------------------------------------------------------

    def log(self, mall_id: str) -> list[dict[str, Any]]:
        """The mall's delivery log, oldest first (copies)."""
        return [dict(entry) for entry in self._logs.get(mall_id, ())]


# -- events of writes ---------------------------------------------------------------------------


def _text(value: Any) -> Any:
    return "" if value is None else value


def product_resource(mall_id: str, record: Mapping[str, Any], *, shop: bool = True) -> dict[str, Any]:
    resource: dict[str, Any] = {"mall_id": mall_id}
    if shop:
        resource["event_shop_no"] = str(record.get("shop_no") or 1)
    for name in PRODUCT_FIELDS:
        resource[name] = record.get(name, None if name == "price_content" else "")
    return resource


def order_resource(
    mall_id: str, record: Mapping[str, Any], items: Iterable[Mapping[str, Any]], code: str
) -> dict[str, Any]:
    shop = str(record.get("shop_no") or 1)
    resource: dict[str, Any] = {"mall_id": mall_id, "event_shop_no": shop, "event_code": code}
    for name in ORDER_FIELDS:
        resource[name] = record.get(name)
    items = list(items)
    resource["payment_method"] = ",".join(record.get("payment_method") or [])
    resource["wished_delivery_date"] = "0000-00-00"
    resource["ordering_product_code"] = ",".join(str(i.get("product_code", "")) for i in items)
    resource["ordering_product_name"] = ",".join(str(i.get("product_name", "")) for i in items)
    return resource


def _requests(ctx: RequestContext) -> list[dict[str, Any]]:
    body = ctx.body if isinstance(ctx.body, dict) else {}
    single = body.get("request")
    if isinstance(single, dict):
        return [single]
    many = body.get("requests")
    return [r for r in many if isinstance(r, dict)] if isinstance(many, list) else []


def _answered(payload: Any, root: str | None) -> list[dict[str, Any]]:
    found = payload.get(root) if isinstance(payload, dict) and root else None
    if isinstance(found, dict):
        return [found]
    return [r for r in found if isinstance(r, dict)] if isinstance(found, list) else []


def _events_of(route: Route, ctx: RequestContext, payload: Any) -> list[tuple[int, dict[str, Any]]]:
    """The events a successful write of `route` sends."""
    if route.api != "admin" or not route.path.startswith(_ADMIN + "/"):
        return []
    relative = route.path[len(_ADMIN) :]
    method = route.method
    mall_id = ctx.mall.mall_id
    dataset = ctx.mall.dataset
    if relative == "/products" and method == "POST":
        return [(90001, product_resource(mall_id, r)) for r in _answered(payload, route.response_root)]
    if relative == "/products/{product_no}" and method == "PUT":
        return [(90002, product_resource(mall_id, r)) for r in _answered(payload, route.response_root)[:1]]
    if relative == "/products/{product_no}" and method == "DELETE":
        deleted = [r["product_no"] for r in _answered(payload, route.response_root)[:1] if "product_no" in r]
        shop = {"mall_id": mall_id, "event_shop_no": "1"}
        return [(90003, {**shop, "product_no": no, "product_code": product_code(no)}) for no in deleted]
    if relative == "/products/{product_no}/variants/{variant_code}/inventories" and method == "PUT":
        return _stock_events(ctx, mall_id)
    if relative == "/orders/{order_id}" and method == "PUT":
        order_id = ctx.params.get("order_id", "")
        record = dataset.orders.get(order_id)
        if record is None:
            return []
        items = dataset.items(order_id)
        code = str(next((r.get("process_status") for r in _requests(ctx) if r.get("process_status")), ""))
        return [(90024, order_resource(mall_id, record, items.records if items else [], code))]
    if relative == "/orders" and method == "PUT":
        requests = _requests(ctx)
        ids = [str(r["order_id"]) for r in requests if r.get("order_id")]
        if not ids:
            return []
        code = str(next((r.get("process_status") for r in requests if r.get("process_status")), ""))
        resource = {
            "mall_id": mall_id, "event_shop_no": "1", "event_code": code, "order_id": ",".join(ids),
            "included_deferpay_order": "", "deferpay_order_id": "",
        }
        return [(90071, resource)]
    return []


def _stock_events(ctx: RequestContext, mall_id: str) -> list[tuple[int, dict[str, Any]]]:
    products = ctx.mall.dataset.products
    key = products.coerce_key(ctx.params.get("product_no", ""))
    record = products.get(key) if key is not None else None
    quantities = [r.get("quantity") for r in _requests(ctx) if "quantity" in r]
    if record is None or not quantities or not all(isinstance(q, int) and q >= 0 for q in quantities):
        return []
    variants = ctx.mall.dataset.variants(record["product_no"])
    if variants is None or variants.get(ctx.params.get("variant_code", "")) is None:
        return []  # refused by the write itself
    resource = product_resource(mall_id, record, shop=False)
    sold_out = quantities[-1] == 0
    resource.update({
        "status_text": "In case that item stock is less than or equal 0" if sold_out else "",
        "variant_code": ctx.params.get("variant_code", ""),
        "use_soldout": "T",
    })
    events = [(90075, resource)]
    if sold_out:
        events.append((90150, {
            "mall_id": mall_id, "event_shop_no": "1", "sold_out_by_current_shop": "T",
            "product_no": str(record["product_no"]), "sold_out": {"1": "T"},
        }))
    return events


def emitting(route: Route, handler: Handler) -> Handler:
    """`handler`, sending the route's webhook events after each successful write."""
    if route.method not in ("POST", "PUT", "DELETE"):
        return handler

    def handle(ctx: RequestContext) -> tuple[int, Any]:
        status, payload = handler(ctx)
        hub = ctx.mall.webhooks
        if hub is not None and hub.settings is not None and 200 <= status < 300:
            for event_no, resource in _events_of(route, ctx, payload):
                hub.emit(ctx.mall.mall_id, event_no, resource)
        return status, payload

    return handle


# -- the delivery log route ---------------------------------------------------------------------


def _whole(name: str, raw: str) -> int:
    try:
        return int(raw)
    except ValueError:
        raise ApiError(422, f"{name}: must be an integer") from None


def logs_handler(route: Route) -> Handler:
    """`GET /api/v2/admin/webhooks/logs` over the mall's delivery log, in log-id order."""
    root = route.response_root or "logs"

    def handle(ctx: RequestContext) -> tuple[int, Any]:
        limit = page(route, ctx.query).limit
        window = date_window(route, ctx.query)
        query = ctx.query
        since = _whole("since_log_id", query["since_log_id"]) if query.get("since_log_id") else None
        event_no = _whole("event_no", query["event_no"]) if query.get("event_no") else None
        hub = ctx.mall.webhooks
        selected = []
        for entry in hub.log(ctx.mall.mall_id) if hub is not None else []:
            if since is not None and entry["log_id"] <= since:
                continue
            if event_no is not None and entry["event_no"] != event_no:
                continue
            if any(query.get(name) and entry[name] != query[name] for name in ("success", "log_type")):
                continue
            if window is not None and not _in_window(entry["requested_time"], window.start, window.end):
                continue
            selected.append(entry)
        return 200, {root: selected[:limit] if limit is not None else selected}

    return handle


def _in_window(requested: str, start: float | None, end: float | None) -> bool:
    moment = datetime.fromisoformat(requested).timestamp()
    return (start is None or moment >= start) and (end is None or moment <= end)
