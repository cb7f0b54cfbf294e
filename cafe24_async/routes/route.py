"""The shape of one row of the route table.

Every documented endpoint is one frozen `Route`: what it is called in Python
(`namespace` + `action`), what is sent (`method`, `path`, `params`), what limits
apply (`request_limit`, `pagination`, `date_range`) and how the answer is unwrapped
(`response_root`, `response_kind`). The rows themselves live in the generated
modules beside this one; nothing here knows about HTTP.
"""

from __future__ import annotations

from typing import Literal

import attrs

ParamLocation = Literal["path", "query", "body"]
ResponseKind = Literal["list", "object", "count"]


@attrs.frozen(slots=True)
class Param:
    """One documented parameter and the rules the docs give for it."""

    name: str
    location: ParamLocation
    required: bool = False
    #: "string", "number", "date", "object", "array" or None when the docs do not say.
    type: str | None = None
    minimum: float | None = None
    maximum: float | None = None
    min_length: int | None = None
    max_length: int | None = None
    #: True when the param takes several values, sent comma-separated.
    multiple: bool = False
    #: Most values a list may hold (the docs' general rule is 100).
    max_items: int | None = None
    #: Codes listed in the docs (best effort, so informative, not enforced).
    enum: tuple[str, ...] = ()
    #: "date" or "datetime" when the docs show a date badge.
    format: str | None = None
    #: Allowed characters as the docs write them, e.g. "A-Z0-9".
    charset: str | None = None
    default: object = None


@attrs.frozen(slots=True)
class Pagination:
    """Documented paging rules of a list route."""

    limit_max: int
    limit_min: int = 1
    limit_default: int | None = None
    #: Highest `offset` the server accepts; None when the docs give no cap.
    offset_max: int | None = None
    has_offset: bool = True
    #: Parameter that continues past the offset cap (e.g. `since_product_no`).
    keyset: str | None = None


@attrs.frozen(slots=True)
class DateRange:
    """A start/end date pair the route filters on."""

    start: str
    end: str
    required: bool = False
    #: Longest span one request may cover, in months (orders: 3).
    max_span_months: int | None = None


@attrs.frozen(slots=True)
class Changes:
    """How a list route tells which records changed in a period (spec/incremental.json).

    Either a pair of filters on the time a record last changed (`updated`, with
    the record's field holding that time), or, where no such filter exists, the
    param that picks which of the record's dates the route's date range filters
    on (`date_type`) and the dates a change sets (`date_types`, read together).
    """

    #: Filters on the time a record last changed, e.g. (`updated_start_date`, `updated_end_date`).
    updated: tuple[str, str] | None = None
    #: The record's field holding that time, e.g. `updated_date`.
    field: str | None = None
    #: The param choosing the date the date range filters on, e.g. `date_type`.
    date_type: str | None = None
    #: The dates a change sets, read by default (orders: placed, paid, shipped, ...).
    date_types: tuple[str, ...] = ()


@attrs.frozen(slots=True, cache_hash=True)
class Route:
    """One endpoint: the only place it is described. (Its hash is computed once: routes
    key the per-route caches of the request path.)"""

    api: str
    method: str
    #: Documented path with named placeholders, e.g. `/api/v2/admin/products/{product_no}`.
    path: str
    scope: str | None
    #: Attribute path under the API namespace, e.g. ("products", "variants").
    namespace: tuple[str, ...]
    #: Coroutine name: list, count, get, create, update, delete, or a clear variant.
    action: str
    summary: str
    params: tuple[Param, ...] = ()
    #: Per-endpoint "Request Limit" of the older reference, when it printed one.
    request_limit: int | None = None
    pagination: Pagination | None = None
    date_range: DateRange | None = None
    embed: tuple[str, ...] = ()
    response_root: str | None = None
    response_kind: ResponseKind = "object"
    #: The live API may answer one object where the reference shows a list: it is read
    #: as a one-element list (a correction from spec/overrides.json).
    lone_object: bool = False
    #: True for paths of the older reference that the current inventory replaced.
    legacy: bool = False
    #: For legacy rows: the current path that replaced this one, when known.
    replaced_by: str | None = None
    #: The field that identifies one record of a list route (spec/incremental.json).
    primary_key: str | None = None
    #: How a list route tells which records changed in a period (spec/incremental.json).
    changes: Changes | None = None

    @property
    def path_params(self) -> tuple[str, ...]:
        """Names of the placeholders in `path`, in order."""
        return tuple(p.name for p in self.params if p.location == "path")

    @property
    def qualified_name(self) -> str:
        """`admin.products.variants.get`: the name users call it by."""
        return ".".join((self.api, *self.namespace, self.action))
