"""What one mall's writes did, and what its reads may show of them.

A `WriteBook` per mall keeps:

- `applied`: how many times a write took effect on each record, by (kind, key),
  e.g. `("variant", "P000000A000B")`. A bulk writer that claims "exactly once"
  is checked against these counts, from outside the client;
- `ignored`: writes answered 200 that changed nothing (stock sent to a variant
  whose `use_inventory` is "F");
- the stale views: for `stale_seconds` after a write, reads of the record show
  the fields it changed as they were before (the earliest values, while writes
  keep coming within the window);
- each variant's `use_inventory` (seeded "F" for `inventory_off_rate` of them,
  then as written);
- the generator of write faults: one draw per write call, one per bulk object.

The handlers that use it are in `sandbox.bulk`; this module knows no HTTP.
"""

from __future__ import annotations

import copy
import enum
import json
import random
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import attrs

from cafe24_async.sandbox.encoding import Encoded
from cafe24_async.sandbox.write_config import WriteConfig

#: (kind, key) of a written record: ("variant", code) or ("product", number as text).
RecordKey = tuple[str, str]


class WriteFault(enum.Enum):
    NONE = "none"
    #: 503 before anything is changed.
    REJECT = "reject"
    #: Applied, then the connection is dropped.
    LOST = "lost"
    #: Applied, then answered 500.
    LOST_ERROR = "lost_error"


@attrs.define(slots=True)
class _Stale:
    before: dict[str, Any]
    until: float


class WriteBook:
    """Write counters, stale views and write faults of one mall."""

    def __init__(self, config: WriteConfig, clock: Callable[[], float], mall_id: str) -> None:
        self.mall_id = mall_id
        self._clock = clock
        self.applied: Counter[RecordKey] = Counter()
        self.ignored: Counter[RecordKey] = Counter()
        #: Write calls refused before any change, and answers lost after one.
        self.rejected = 0
        self.lost = 0
        self._stale: dict[RecordKey, _Stale] = {}
        self._use_inventory: dict[str, str] = {}
        self.configure(config)

    def configure(self, config: WriteConfig) -> None:
        """Switch the write behaviour from now on (the fault generator restarts from its seed)."""
        self.config = config
        self._random = random.Random(f"{config.seed}:{self.mall_id}:writes")
        self._item_statuses = 0

    # -- faults -----------------------------------------------------------------------

    def draw(self) -> WriteFault:
        """The fault of one write call."""
        config = self.config
        if not config.faulty:
            return WriteFault.NONE
        draw = self._random.random()
        for fault, rate in (
            (WriteFault.REJECT, config.reject_rate),
            (WriteFault.LOST, config.lost_rate),
            (WriteFault.LOST_ERROR, config.lost_error_rate),
        ):
            if draw < rate:
                return fault
            draw -= rate
        return WriteFault.NONE

    def item_error(self) -> int | None:
        """The status refusing one object of a bulk write, or None to apply it."""
        config = self.config
        if config.item_error_rate <= 0 or self._random.random() >= config.item_error_rate:
            return None
        statuses = config.item_error_statuses
        status = statuses[self._item_statuses % len(statuses)]
        self._item_statuses += 1
        return status

    # -- what a write did -------------------------------------------------------------

    def use_inventory(self, variant_code: str) -> str:
        """ "T" when stock written to the variant takes effect."""
        found = self._use_inventory.get(variant_code)
        if found is not None:
            return found
        rate = self.config.inventory_off_rate
        off = rate > 0 and random.Random(f"{self.config.seed}:{variant_code}").random() < rate
        return "F" if off else "T"

    def set_use_inventory(self, variant_code: str, value: str) -> None:
        self._use_inventory[variant_code] = value

    def wrote(
        self, key: RecordKey, before: Mapping[str, Any], fields: Iterable[str], effective: bool
    ) -> None:
        """A write to `key` was carried out: count it and start (or stretch) its stale view."""
        if effective:
            self.applied[key] += 1
        else:
            self.ignored[key] += 1
        seconds = self.config.stale_seconds
        if seconds <= 0:
            return
        now = self._clock()
        view = self._stale.get(key)
        if view is None or view.until <= now:
            view = self._stale[key] = _Stale({}, now)
        for name in fields:
            if name in before and name not in view.before:
                view.before[name] = before[name]
        view.until = now + seconds

    # -- what a read shows ------------------------------------------------------------

    @property
    def shapes_reads(self) -> bool:
        """True when a read may need changing: a stale view is open, or a variant's
        `use_inventory` is not the generated "T"."""
        if self._stale:
            now = self._clock()
            for key in [k for k, v in self._stale.items() if v.until <= now]:
                del self._stale[key]
        return bool(self._stale) or self.config.inventory_off_rate > 0 or bool(self._use_inventory)

    def view(self, payload: Any) -> Any:
        """`payload` as a read shows it now: stale fields put back, `use_inventory` as set."""
        if not self.shapes_reads:
            return payload
        data = json.loads(payload.data) if isinstance(payload, Encoded) else copy.deepcopy(payload)
        self._walk(data)
        return data

    def _walk(self, value: Any) -> None:
        if isinstance(value, list):
            for item in value:
                self._walk(item)
            return
        if not isinstance(value, dict):
            return
        code = value.get("variant_code")
        if isinstance(code, str):
            self._shape_variant(code, value)
        elif "product_no" in value:
            self._restore(("product", str(value["product_no"])), value)
        for item in value.values():
            if isinstance(item, (list, dict)):
                self._walk(item)

    def answer(self, record: Mapping[str, Any]) -> dict[str, Any]:
        """A record as a write answers it: as it now is (no stale view), `use_inventory` shown."""
        shaped = dict(record)
        code = shaped.get("variant_code")
        if isinstance(code, str) and ("use_inventory" in shaped or self._marked(code)):
            shaped["use_inventory"] = self.use_inventory(code)
        return shaped

    def _shape_variant(self, code: str, record: dict[str, Any]) -> None:
        if "use_inventory" in record or self._marked(code):
            record["use_inventory"] = self.use_inventory(code)
        self._restore(("variant", code), record)

    def _marked(self, code: str) -> bool:
        """True when the variant's `use_inventory` was written, or is not the generated "T"."""
        return code in self._use_inventory or (
            self.config.inventory_off_rate > 0 and self.use_inventory(code) != "T"
        )

    def _restore(self, key: RecordKey, record: dict[str, Any]) -> None:
        view = self._stale.get(key)
        if view is None or view.until <= self._clock():
            return
        for name, old in view.before.items():
            if name in record:
                record[name] = old
