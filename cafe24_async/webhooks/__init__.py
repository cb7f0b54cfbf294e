"""Cafe24 webhooks: typed events, and receiving them safely.

`parse_event(body, headers)` turns a delivery into a typed event (one generated
class per event number, `UnknownEvent` for any other number).
"""

from cafe24_async.webhooks.parse import parse_event

__all__ = ["parse_event"]
