"""What every webhook event has: the base class the generated event classes extend.

Every Cafe24 delivery is `{"event_no": N, "resource": {...}}`. `WebhookEvent`
holds what all of them share: the event number, the mall, the shop number
(`event_shop_no`), the trace id when the delivery or the delivery log names one,
the raw `resource` exactly as received (so keys the catalogue does not list are
never lost), and `problems`: the fields whose value did not fit their declared
type (those fields are None on the event; the raw value stays in `resource`).

`UnknownEvent` carries an event number the catalogue does not know: it is
parsed and dispatched like any other event, never dropped.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import attrs


@attrs.frozen(kw_only=True)
class WebhookEvent:
    """One delivered event. Subclasses (cafe24_async.webhooks.events) add the typed fields."""

    #: The catalogue's facts about the event class (None/empty on the base and on UnknownEvent).
    EVENT_NO: ClassVar[int | None] = None
    #: The name the docs' copies use, e.g. "OnOrderReceived".
    NAME: ClassVar[str] = ""
    #: The docs section: app, product, order, customer, board, category, ...
    CATEGORY: ClassVar[str] = ""
    #: Scopes the app needs to receive the event (as compiled by hand in the sources).
    SCOPES: ClassVar[tuple[str, ...]] = ()
    #: Fields that hold several comma-joined ids in the payload (a tuple on the event).
    BULK_FIELDS: ClassVar[tuple[str, ...]] = ()
    #: (field, kind) pairs the parser converts; kinds are listed in `normalise`.
    KINDS: ClassVar[tuple[tuple[str, str], ...]] = ()

    event_no: int
    mall_id: str | None = None
    event_shop_no: int | None = None
    #: The delivery's trace id (from the delivery log, or a configured header), if known.
    trace_id: str | None = None
    #: The `resource` object exactly as delivered.
    resource: Mapping[str, Any] = attrs.field(factory=dict, repr=False)
    #: "field: reason" for each value that did not fit its type.
    problems: tuple[str, ...] = ()

    @property
    def known(self) -> bool:
        """True when the catalogue knows this event number."""
        return self.EVENT_NO is not None

    def ids(self) -> tuple[int | str, ...]:
        """The ids a bulk event lists (its first bulk field), in payload order; () otherwise."""
        for name in self.BULK_FIELDS:
            value = getattr(self, name, ())
            if isinstance(value, tuple):
                return value
        return ()


@attrs.frozen(kw_only=True)
class UnknownEvent(WebhookEvent):
    """An event number the catalogue does not list; everything is in `resource`."""
