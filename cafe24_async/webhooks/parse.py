"""`parse_event`: a delivered body as a typed event.

Parsing only reads; it never verifies (see `verify`) and never drops: a body that
is a Cafe24 envelope always becomes an event. A known event number gives its
generated class, any other number an `UnknownEvent`; a field whose value does not
fit its type is None on the event and named in `event.problems`, and the raw
`resource` is kept whole. Only a body that is not an envelope at all (not UTF-8
JSON, not an object, no integer `event_no`, a `resource` that is not an object)
raises `WebhookPayloadError`.

The envelope quirks handled here: `event_no` sent as text ("90154"), and
`mall_id`/`event_shop_no` found inside a nested `sample` object (90167) when they
are not at the top of `resource`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from cafe24_async.webhooks.errors import WebhookPayloadError
from cafe24_async.webhooks.event import UnknownEvent, WebhookEvent
from cafe24_async.webhooks.events import EVENT_CLASSES
from cafe24_async.webhooks.normalise import CONVERTERS, EMPTY, to_int, to_str


def decode_body(body: bytes | str | Mapping[str, Any]) -> dict[str, Any]:
    """The delivered JSON object; `WebhookPayloadError` when the body is not one."""
    if isinstance(body, Mapping):
        return dict(body)
    if isinstance(body, bytes):
        try:
            body = body.decode("utf-8")
        except UnicodeDecodeError:
            raise WebhookPayloadError("the body is not UTF-8 text") from None
    try:
        decoded = json.loads(body)
    except ValueError:
        raise WebhookPayloadError("the body is not JSON") from None
    except RecursionError:
        raise WebhookPayloadError("the body nests too deeply") from None
    if not isinstance(decoded, dict):
        raise WebhookPayloadError(f"the body is a JSON {type(decoded).__name__}, not an object")
    return decoded


def header_value(headers: Mapping[str, str] | None, name: str | None) -> str | None:
    """The value of header `name`, whatever its case; None when absent or empty."""
    if not headers or not name:
        return None
    value = headers.get(name)
    if value is None:
        wanted = name.lower()
        value = next((v for k, v in headers.items() if k.lower() == wanted), None)
    return (value.strip() or None) if isinstance(value, str) else None


def parse_event(
    body: bytes | str | Mapping[str, Any],
    headers: Mapping[str, str] | None = None,
    *,
    trace_header: str | None = None,
) -> WebhookEvent:
    """The typed event of one delivery.

    `body` is the raw request body (or its decoded JSON object). `headers` are the
    request's headers; only `trace_header`, when given, is read from them (Cafe24
    documents no header carrying a delivery id; set it if your deliveries have one).
    """
    envelope = decode_body(body)
    event_no = _event_no(envelope.get("event_no"))
    resource = envelope.get("resource")
    if not isinstance(resource, dict):
        raise WebhookPayloadError(f"event {event_no}: resource is missing or not an object")
    cls = EVENT_CLASSES.get(event_no, UnknownEvent)
    values: dict[str, Any] = {}
    problems: list[str] = []
    for name, kind in cls.KINDS:
        if name not in resource:
            continue
        try:
            values[name] = CONVERTERS[kind](resource[name])
        except ValueError as exc:
            problems.append(f"{name}: {exc}")
            values[name] = EMPTY.get(kind)
    mall_id, shop_no = _where(resource, problems)
    return cls(
        event_no=event_no,
        mall_id=mall_id,
        event_shop_no=shop_no,
        trace_id=header_value(headers, trace_header),
        resource=resource,
        problems=tuple(problems),
        **values,
    )


def _event_no(raw: Any) -> int:
    try:
        number = to_int(raw)
    except ValueError:
        number = None
    if number is None or number <= 0:
        raise WebhookPayloadError("event_no is missing or not a positive integer")
    return number


def _where(resource: Mapping[str, Any], problems: list[str]) -> tuple[str | None, int | None]:
    """The mall id and shop number, from the top of `resource` or its `sample` object."""
    sample = resource.get("sample")
    nested: Mapping[str, Any] = sample if isinstance(sample, dict) else {}
    mall_raw = resource.get("mall_id", nested.get("mall_id"))
    shop_raw = resource.get("event_shop_no", nested.get("event_shop_no"))
    mall_id: str | None = None
    shop_no: int | None = None
    try:
        mall_id = to_str(mall_raw)
    except ValueError as exc:
        problems.append(f"mall_id: {exc}")
    try:
        shop_no = to_int(shop_raw)
    except ValueError as exc:
        problems.append(f"event_shop_no: {exc}")
    return mall_id, shop_no
