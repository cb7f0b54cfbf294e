"""The dry run, and what the mall's settings say about rows.

`preflight` sends no write. It reports every row the plan refused (the route's
rules, checked locally), then reads what the writes depend on (`bulk.effects`):
the mall's settings once (the price basis and tax calculation from
`GET /products/setting`), and the records of the rows whose effect hangs on a
record's own setting (each variant's `use_inventory`). A row the mall would
accept and not carry out as sent is "ineffective", with the reason; the others
are "valid" or "invalid".

`Conditions` is shared with settling and verify: when a record does not show
what a row sent, it says whether a setting explains it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from cafe24_async.bulk.effects import Effect, effects_for
from cafe24_async.bulk.plan import Plan
from cafe24_async.bulk.profile import WriteProfile
from cafe24_async.bulk.readback import Reader
from cafe24_async.bulk.results import RowResult
from cafe24_async.routes import RouteNotFoundError, find_route

if TYPE_CHECKING:
    from cafe24_async.mall import Mall


class Conditions:
    """The settings a route's writes depend on, read when needed (mall settings once)."""

    def __init__(self, mall: Mall, profile: WriteProfile) -> None:
        self.mall = mall
        self.profile = profile
        self._mall_values: dict[str, dict[str, Any]] = {}
        self.reads = 0

    def effects(self, fields: Iterable[str]) -> list[Effect]:
        return effects_for(self.profile.route.path, set(fields))

    async def mall_values(self, effects: Iterable[Effect]) -> dict[str, dict[str, Any]]:
        """The answers of the mall-wide settings routes these effects need, by path."""
        for effect in effects:
            path = effect.setting_path
            if effect.scope != "mall" or path is None or path in self._mall_values:
                continue
            try:
                route = find_route("GET", path)
            except RouteNotFoundError:
                continue
            value = await self.mall.execute(self.mall.prepare(route, (), {}))
            self.reads += 1
            self._mall_values[path] = value if isinstance(value, dict) else {}
        return self._mall_values

    async def reasons(self, fields: Iterable[str], record: dict[str, Any] | None) -> list[str]:
        """Why writing `fields` would not come out as sent, given the mall's settings and the
        record as read (None: not read)."""
        effects = self.effects(fields)
        settings = await self.mall_values(effects)
        found: list[str] = []
        for effect in effects:
            if effect.scope == "mall":
                value = settings.get(effect.setting_path or "", {}).get(effect.setting)
            else:
                value = record.get(effect.setting) if record is not None else None
            if value is not None and str(value) not in effect.as_sent:
                found.append(effect.explain(value))
        return found


async def preflight(plan: Plan, reader: Reader, conditions: Conditions) -> list[RowResult]:
    """One result per input row: valid, invalid or ineffective (see the module docstring)."""
    profile = plan.profile
    by_index: dict[int, RowResult] = {
        index: RowResult(line, "invalid", problem) for index, (line, problem) in plan.invalid.items()
    }
    depends = [row for row in plan.rows if conditions.effects(row.body)]
    on_records = [row for row in depends if any(e.scope == "record" for e in conditions.effects(row.body))]
    records = await reader.records(on_records) if on_records and reader.can_read else {}
    checked = {row.index for row in depends}
    for row in plan.rows:
        reasons = await conditions.reasons(row.body, records.get(row.index)) if row.index in checked else []
        status, error = ("ineffective", "; ".join(reasons)) if reasons else ("valid", None)
        by_index[row.index] = RowResult(row.line, status, error, row.names(profile.item_key))
    return [by_index[i] for i in sorted(by_index)]
