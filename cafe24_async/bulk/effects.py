"""When a write that the mall accepts does not do what it says: the settings it depends on.

Some writes answer 200 and change nothing, or change something else, because of a
setting the request does not carry: stock only moves when the variant's
`use_inventory` is "T"; a price is only taken as sent when the mall's
`calculate_price_based_on` is "A", and a mall that takes prices tax excluded
stores them with tax added. Each such dependency is one row here, with its
source; the dry run reads the settings and names the rows they affect, and a
verify that finds a field unchanged says which setting explains it.

A row's `scope` says where the setting lives: "record" (the record the row
writes, as its read route shows it) or "mall" (the answer of `setting_path`).
`kind` is "ignored" (the field is not changed) or "altered" (it is stored
differently from what was sent).
"""

from __future__ import annotations

from typing import Literal

import attrs

_STOCK = (
    "public field code: stock written to a variant takes effect only when its use_inventory is on; "
    "the docs list use_inventory beside quantity on the inventory routes"
)
_PRICE_BASE = (
    "public field code: calculate_price_based_on is the mall's 'sale price basis'; prices that follow "
    "the supply price are recomputed by the mall"
)
_TAX = "the issue's field notes: price writes depend on the mall's tax_calculation"


@attrs.frozen
class Effect:
    """A body field whose write depends on a setting."""

    field: str
    #: Write route paths the dependency applies to.
    paths: tuple[str, ...]
    setting: str
    #: Setting values under which the field is written as sent.
    as_sent: tuple[str, ...]
    scope: Literal["record", "mall"]
    kind: Literal["ignored", "altered"]
    #: For scope "mall": the GET route answering the setting.
    setting_path: str | None
    source: str

    def explain(self, value: object) -> str:
        """Why the field is not as sent when the setting has `value`."""
        what = "is not changed" if self.kind == "ignored" else "is stored differently from what is sent"
        where = "the record's" if self.scope == "record" else "the mall's"
        wanted = "/".join(self.as_sent)
        return f"{self.field} {what} while {where} {self.setting} is {value!r} (as sent only when {wanted})"


_VARIANT_WRITES = (
    "/api/v2/admin/products/{product_no}/variants",
    "/api/v2/admin/products/{product_no}/variants/{variant_code}",
    "/api/v2/admin/products/{product_no}/variants/{variant_code}/inventories",
)
_SETTINGS = "/api/v2/admin/products/setting"

EFFECTS: tuple[Effect, ...] = (
    Effect("quantity", _VARIANT_WRITES, "use_inventory", ("T",), "record", "ignored", None, _STOCK),
    Effect("price", ("/api/v2/admin/products/{product_no}",), "calculate_price_based_on", ("A",), "mall",
           "ignored", _SETTINGS, _PRICE_BASE),
    Effect("price", ("/api/v2/admin/products/{product_no}",), "tax_calculation", ("I",), "mall",
           "altered", _SETTINGS, _TAX),
)


def effects_for(path: str, fields: set[str]) -> list[Effect]:
    """The dependencies of a write to `path` that sends any of `fields`."""
    return [e for e in EFFECTS if path in e.paths and e.field in fields]
