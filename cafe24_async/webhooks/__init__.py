"""Cafe24 webhooks: typed events, a verifying receiver, deduplication, hydration, reconciliation.

An async service mostly reacts to Cafe24's webhooks (an order placed, a stock
change, the app deleted) instead of polling. This package receives them:

- `parse_event(body, headers)`: a typed event for every event number of the
  catalogue (classes generated from spec/webhooks.json into `events`), with the
  payload quirks normalised; any other number gives an `UnknownEvent`;
- `Receiver`: the API key checked in constant time (403 otherwise), an optional
  sender allowlist, a size limit, and an answer within milliseconds: events go
  through a bounded queue to async handlers (`Dispatcher`), with retries, and
  each event is handled once (`MemoryDeduplicator`, or `RedisDeduplicator`
  shared by N receivers); served by aiohttp (`aiohttp_app`, `aiohttp_handler`)
  or any ASGI framework (`ASGIReceiver`);
- `hydrate(mall, event)`: the full records behind an event's ids, 100 ids a call;
- `reconcile(mall, dispatcher, since_log_id=...)`: deliveries that failed or got
  lost, replayed from Cafe24's delivery log into the same handlers.
"""

from cafe24_async.webhooks.aiohttp_adapter import aiohttp_app, aiohttp_handler, receiver_context
from cafe24_async.webhooks.asgi import ASGIReceiver
from cafe24_async.webhooks.dedup import Deduplicator, MemoryDeduplicator, content_key, event_keys
from cafe24_async.webhooks.dispatcher import Dispatcher, DispatchStats, HandlerRetry, Submission
from cafe24_async.webhooks.errors import (
    WebhookError,
    WebhookPayloadError,
    WebhookQueueFullError,
    WebhookVerificationError,
)
from cafe24_async.webhooks.event import UnknownEvent, WebhookEvent
from cafe24_async.webhooks.events import EVENT_CLASSES
from cafe24_async.webhooks.hydrate import Hydration, hydrate
from cafe24_async.webhooks.parse import parse_event
from cafe24_async.webhooks.receiver import Receiver, ReceiverStats, Reply
from cafe24_async.webhooks.reconcile import ReconcileReport, reconcile
from cafe24_async.webhooks.redis_dedup import RedisDeduplicator
from cafe24_async.webhooks.verify import DEFAULT_KEY_HEADER, Verifier

__all__ = [
    "DEFAULT_KEY_HEADER",
    "EVENT_CLASSES",
    "ASGIReceiver",
    "Deduplicator",
    "DispatchStats",
    "Dispatcher",
    "HandlerRetry",
    "Hydration",
    "MemoryDeduplicator",
    "Receiver",
    "ReceiverStats",
    "ReconcileReport",
    "RedisDeduplicator",
    "Reply",
    "Submission",
    "UnknownEvent",
    "Verifier",
    "WebhookError",
    "WebhookEvent",
    "WebhookPayloadError",
    "WebhookQueueFullError",
    "WebhookVerificationError",
    "aiohttp_app",
    "aiohttp_handler",
    "content_key",
    "event_keys",
    "hydrate",
    "parse_event",
    "receiver_context",
    "reconcile",
]
