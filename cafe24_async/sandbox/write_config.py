"""How the sandbox treats writes: faults, stale reads, per-call caps and the settings
writes depend on.

Field code that pushes stock and prices into Cafe24 meets five things a plain echo
server never shows, so a bulk writer tested against one learns nothing:

- bulk calls take a limited number of objects (`max_requests`; more is a 422);
- partial failures: a 207 with a status per object (`item_error_rate`), or a
  422 naming the objects it refuses (nothing of that call is applied);
- writes that answer and then lose the answer: the change is made, then the
  connection drops (`lost_rate`) or a 500 comes back (`lost_error_rate`); and
  writes refused before anything is changed (`reject_rate`, a 503);
- writes that answer 200 and change nothing: a variant's stock only moves when
  its `use_inventory` is "T" (`inventory_off_rate` of the variants have it
  "F"), a product's price only when the mall takes prices as sent
  (`price_base` "A"; "S" computes them from the supply price), and a mall
  whose `tax_calculation` is "E" adds the product's tax to the price it is sent;
- stale reads: for `stale_seconds` after a write, reads of the written record
  still show the values from before it (the live variant read is cached for
  about 5 s).

It lives in its own module so that `SandboxConfig` can hold it without importing
the handlers. Every rate draws from a generator seeded with `seed` and the mall.
"""

from __future__ import annotations

import attrs


def _rate(instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{attribute.name} must be between 0 and 1, got {value}")


def _not_negative(instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if value < 0:
        raise ValueError(f"{attribute.name} must not be negative, got {value}")


@attrs.frozen(kw_only=True)
class WriteConfig:
    """Write behaviour of a sandbox (the defaults: no faults, fresh reads, cap 100)."""

    seed: int = 0
    #: A write refused with 503 before anything is changed.
    reject_rate: float = attrs.field(default=0.0, validator=_rate)
    #: A write applied, then its connection dropped: the answer is lost.
    lost_rate: float = attrs.field(default=0.0, validator=_rate)
    #: A write applied, then answered 500.
    lost_error_rate: float = attrs.field(default=0.0, validator=_rate)
    #: Each object of a bulk write refused on its own (the call answers 207).
    item_error_rate: float = attrs.field(default=0.0, validator=_rate)
    #: Statuses of refused objects, drawn in turn (5xx: try again; 4xx: will not do).
    item_error_statuses: tuple[int, ...] = (503,)
    #: Seconds for which reads of a written record still show it as it was.
    stale_seconds: float = attrs.field(default=0.0, validator=_not_negative)
    #: Objects one bulk call may carry (`requests=[...]`).
    max_requests: int = 100
    #: Share of variants whose `use_inventory` is "F": stock written to them changes nothing.
    inventory_off_rate: float = attrs.field(default=0.0, validator=_rate)
    #: `calculate_price_based_on` of the mall's product settings: "A" prices are taken as
    #: sent; "S" prices follow the supply price, and a price written changes nothing.
    price_base: str = attrs.field(default="A", validator=attrs.validators.in_(("A", "S")))
    #: `tax_calculation`: "I" prices are sent tax included (kept as sent); "E" they are sent
    #: tax excluded and the mall adds the product's `tax_amount` percent.
    tax_calculation: str = attrs.field(default="I", validator=attrs.validators.in_(("I", "E")))

    def __attrs_post_init__(self) -> None:
        if self.reject_rate + self.lost_rate + self.lost_error_rate > 1.0 + 1e-9:
            raise ValueError("reject_rate, lost_rate and lost_error_rate add up to more than 1")
        if not self.item_error_statuses or any(s < 400 or s > 599 for s in self.item_error_statuses):
            raise ValueError("item_error_statuses must be error statuses (400-599)")
        if self.max_requests < 1:
            raise ValueError("max_requests must be at least 1")

    @property
    def faulty(self) -> bool:
        return self.reject_rate + self.lost_rate + self.lost_error_rate + self.item_error_rate > 0
