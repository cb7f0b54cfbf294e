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
"""

from __future__ import annotations

import random
import weakref
from datetime import datetime, timedelta
from decimal import Decimal

from cafe24_async.sandbox import generate
from cafe24_async.sandbox.changes import ORDER_STEPS, advance_order
from cafe24_async.sandbox.dataset import Dataset
from cafe24_async.sandbox.dates import iso_kst

#: The steps an order goes through, in turn, as it drifts.
_ORDER_PATH = (
    ORDER_STEPS[("PUT", "/shipments")][1]["shipping"],
    ORDER_STEPS[("PUT", "/shipments")][1]["shipped"],
    ORDER_STEPS[("PUT", "/orders")][1]["T"],
)


class Drift:
    """The changes of one mall's data that are due, applied on demand."""

    __slots__ = ("_carry", "_last", "_turn", "applied", "dataset", "rng")

    def __init__(self, dataset: Dataset) -> None:
        self.dataset = dataset
        config = dataset.config
        self.rng = random.Random(f"{config.seed}:{dataset.mall_id}:drift")
        self._last: datetime = config.now()
        self._carry = 0.0
        self._turn = 0
        #: (kind, key, moment) of every change made so far, in order.
        self.applied: list[tuple[str, str | int, datetime]] = []

    def settle(self) -> int:
        """Apply the changes due by now; how many were applied."""
        rate = self.dataset.config.changes_per_minute
        now = self.dataset.config.now()
        elapsed = (now - self._last).total_seconds()
        if rate <= 0 or elapsed <= 0:
            self._last = max(self._last, now)
            return 0
        due = elapsed / 60.0 * rate + self._carry
        count = int(due)
        self._carry = due - count
        for index in range(count):
            self._change(self._last + timedelta(seconds=elapsed * (index + 1) / count))
        self._last = now
        return count

    def _change(self, moment: datetime) -> None:
        dataset = self.dataset
        kinds = [k for k, c in (("products", dataset.products), ("orders", dataset.orders)) if len(c)]
        if not kinds:
            return
        kind = kinds[self._turn % len(kinds)]
        self._turn += 1
        if kind == "products":
            record = self.rng.choice(dataset.products.records)
            price = Decimal(str(record.get("price") or "0")) + 100
            dataset.products.put({**record, "price": generate.money(float(price)),
                                  "updated_date": iso_kst(moment)})
            self.applied.append(("products", record["product_no"], moment))
            return
        record = self.rng.choice(dataset.orders.records)
        done = sum(1 for step in _ORDER_PATH if record.get(step[0][0]))
        step = _ORDER_PATH[min(done, len(_ORDER_PATH) - 1)]
        advance_order(dataset, record["order_id"], step, moment)
        self.applied.append(("orders", record["order_id"], moment))


_DRIFTS: weakref.WeakKeyDictionary[Dataset, Drift] = weakref.WeakKeyDictionary()


def drift_of(dataset: Dataset) -> Drift:
    """The drift of one mall's data (made on first use: changes are due from then on)."""
    found = _DRIFTS.get(dataset)
    if found is None:
        found = _DRIFTS[dataset] = Drift(dataset)
    return found


def settle(dataset: Dataset) -> None:
    """Apply the changes of `dataset` due by now (nothing when the rate is 0)."""
    if dataset.config.changes_per_minute > 0:
        drift_of(dataset).settle()
