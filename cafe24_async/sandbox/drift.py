"""A mall that changes on its own: `SandboxConfig.changes_per_minute`.

A live mall does not hold still while it is read: staff edit prices, orders
ship. To test a reader against that, the sandbox changes records of each mall
at a steady rate on its injectable wall clock (`SandboxConfig.now`): k changes
per minute, applied when a read arrives, each stamped with the moment it was
due (spread evenly over the time since the last read), never in the future.
Changes alternate between a product (its price moves by 100 and its
`updated_date` to the moment) and an order (shipped, then delivered, then its
purchase confirmed), so the product and order reads of changes both see them.
The choices come from a generator seeded with the config's seed and the mall.

The D.Collection products (`sandbox.partner`, partner-wide) change at the same
rate, on their own pace, applied when a D.Collection read arrives: a product's
price moves by 100 and its `updated_date` to the moment, so the D.Collection
products and store products lists' `updated_start_date`/`updated_end_date`
find it.
"""

from __future__ import annotations

import random
import weakref
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

from cafe24_async.sandbox import generate
from cafe24_async.sandbox.changes import ORDER_STEPS, advance_order, touch
from cafe24_async.sandbox.collection import Record
from cafe24_async.sandbox.config import SandboxConfig
from cafe24_async.sandbox.dataset import Dataset
from cafe24_async.sandbox.partner import PartnerData

#: The steps an order goes through, in turn, as it drifts.
_ORDER_PATH = (
    ORDER_STEPS[("PUT", "/shipments")][1]["shipping"],
    ORDER_STEPS[("PUT", "/shipments")][1]["shipped"],
    ORDER_STEPS[("PUT", "/orders")][1]["T"],
)


class Pace:
    """When the changes due by now fall: `changes_per_minute` per minute of the config's
    wall clock, counted from the first use, spread evenly over the time since the last call."""

    __slots__ = ("_carry", "_last", "config")

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self._last: datetime = config.now()
        self._carry = 0.0

    def due(self) -> list[datetime]:
        """The moments of the changes due since the last call, oldest first (none in the future)."""
        rate = self.config.changes_per_minute
        now = self.config.now()
        elapsed = (now - self._last).total_seconds()
        if rate <= 0 or elapsed <= 0:
            self._last = max(self._last, now)
            return []
        due = elapsed / 60.0 * rate + self._carry
        count = int(due)
        self._carry = due - count
        moments = [self._last + timedelta(seconds=elapsed * (index + 1) / count) for index in range(count)]
        self._last = now
        return moments


class _Changing:
    """Changes of some records at the config's pace; `_change` makes one at a moment."""

    __slots__ = ("_pace", "applied", "rng")

    def __init__(self, config: SandboxConfig, seed: str) -> None:
        self.rng = random.Random(seed)
        self._pace = Pace(config)
        #: (kind, key, moment) of every change made so far, in order.
        self.applied: list[tuple[str, str | int, datetime]] = []

    def settle(self) -> int:
        """Apply the changes due by now; how many were applied."""
        moments = self._pace.due()
        for moment in moments:
            self._change(moment)
        return len(moments)

    def _change(self, moment: datetime) -> None:
        raise NotImplementedError


def _reprice(record: Record) -> str:
    """A product's price moved by 100."""
    return generate.money(float(Decimal(str(record.get("price") or "0")) + 100))


class Drift(_Changing):
    """The changes of one mall's data that are due, applied on demand."""

    __slots__ = ("_turn", "dataset")

    def __init__(self, dataset: Dataset) -> None:
        super().__init__(dataset.config, f"{dataset.config.seed}:{dataset.mall_id}:drift")
        self.dataset = dataset
        self._turn = 0

    def _change(self, moment: datetime) -> None:
        dataset = self.dataset
        kinds = [k for k, c in (("products", dataset.products), ("orders", dataset.orders)) if len(c)]
        if not kinds:
            return
        kind = kinds[self._turn % len(kinds)]
        self._turn += 1
        if kind == "products":
            record = self.rng.choice(dataset.products.records)
            touch(dataset.products, record["product_no"], moment, price=_reprice(record))
            self.applied.append(("products", record["product_no"], moment))
            return
        record = self.rng.choice(dataset.orders.records)
        done = sum(1 for step in _ORDER_PATH if record.get(step[0][0]))
        step = _ORDER_PATH[min(done, len(_ORDER_PATH) - 1)]
        advance_order(dataset, record["order_id"], step, moment)
        self.applied.append(("orders", record["order_id"], moment))


_C = TypeVar("_C", bound=_Changing)


def _one_per(owner: Any, made: weakref.WeakKeyDictionary[Any, _C], make: Callable[[Any], _C]) -> _C:
    """The changer of `owner`, made on first use (its changes are due from then on)."""
    found = made.get(owner)
    if found is None:
        found = made[owner] = make(owner)
    return found


_DRIFTS: weakref.WeakKeyDictionary[Dataset, Drift] = weakref.WeakKeyDictionary()


def drift_of(dataset: Dataset) -> Drift:
    """The drift of one mall's data (made on first use: changes are due from then on)."""
    return _one_per(dataset, _DRIFTS, Drift)


def settle(dataset: Dataset) -> None:
    """Apply the changes of `dataset` due by now (nothing when the rate is 0)."""
    if dataset.config.changes_per_minute > 0:
        drift_of(dataset).settle()


class PartnerDrift(_Changing):
    """The changes of the D.Collection products that are due, applied on demand."""

    __slots__ = ("partner",)

    def __init__(self, partner: PartnerData) -> None:
        super().__init__(partner.config, f"{partner.config.seed}:dcollection:drift")
        self.partner = partner

    def _change(self, moment: datetime) -> None:
        products = self.partner.products
        if not len(products):
            return
        record = self.rng.choice(products.records)
        touch(products, record["product_ukey"], moment, price=_reprice(record))
        self.applied.append(("products", record["product_ukey"], moment))


_PARTNER_DRIFTS: weakref.WeakKeyDictionary[PartnerData, PartnerDrift] = weakref.WeakKeyDictionary()


def partner_drift_of(partner: PartnerData) -> PartnerDrift:
    """The drift of the D.Collection data (made on first use: changes are due from then on)."""
    return _one_per(partner, _PARTNER_DRIFTS, PartnerDrift)


def settle_partner(partner: PartnerData) -> None:
    """Apply the D.Collection changes due by now (nothing when the rate is 0)."""
    if partner.config.changes_per_minute > 0:
        partner_drift_of(partner).settle()
