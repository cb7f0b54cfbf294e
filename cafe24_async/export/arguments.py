"""Every argument of an export checked before a file is created or a request sent.

A bad argument found late is worse than a crash: the output and checkpoint of a
run that failed on its first request make the corrected command look like "a
different export". So `plan_export` checks the resource, the malls, the params
(with the list route's own rules, `pagination.check_read`: names, values, page
size, dates in order), the date range a route needs to be read in full, the
format, the concurrency and the checkpoint interval, and raises a library error
(`ExportError`, `ValidationError`, `ConfigurationError`) naming what is wrong.

Params given as text (the CLI's `--param K=V`) are turned into numbers where the
route documents a number, so a keyset compares numbers and the checkpoint's
fingerprint is the same however the value was given.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

import attrs

from cafe24_async.errors import ValidationError
from cafe24_async.export.errors import ExportError
from cafe24_async.export.resources import resolve_resource
from cafe24_async.export.spec import ExportSpec, format_for
from cafe24_async.export.writers import FORMATS
from cafe24_async.paging import check_read
from cafe24_async.routes.route import Param, Route

if TYPE_CHECKING:
    from cafe24_async.client import Cafe24
    from cafe24_async.mall import Mall

WHERE = "run_export"
_WHOLE = re.compile(r"[+-]?[0-9]+")


@attrs.frozen
class ExportPlan:
    """An export whose every argument was checked; nothing has been written or sent yet."""

    spec: ExportSpec
    route: Route
    output: str
    format: str
    malls: Mapping[str, Mall]
    job: dict[str, Any]


def plan_export(
    api: Cafe24, spec: ExportSpec, output: str, *, restart: bool, concurrency: int | None,
    checkpoint_interval: float,
) -> ExportPlan:
    """Check everything an export was given (see the module docstring)."""
    if not isinstance(spec, ExportSpec):
        raise ExportError(f"spec must be an ExportSpec, not {type(spec).__name__}")
    output = _output(output)
    _flag("restart", restart)
    _concurrency(concurrency)
    _interval(checkpoint_interval)
    route = resolve_resource(spec.resource)
    fmt = format_for(output, spec.format)
    if fmt not in FORMATS:
        raise ExportError(f"unknown format {spec.format!r}: use one of {', '.join(FORMATS)}")
    malls = _malls(api, route, spec.malls)
    params = typed_params(route, spec.params)
    _no_offset(route, params)
    _date_range(spec.resource, route, params)
    for mall in malls.values():
        check_read(mall, route, (), params, timeout=None, concurrency=concurrency)
    checked = attrs.evolve(spec, malls=tuple(malls), params=params)
    return ExportPlan(checked, route, output, fmt, malls, checked.fingerprint(output))


def typed_params(route: Route, params: Mapping[str, Any]) -> dict[str, Any]:
    """`params` with text given for a documented number turned into that number."""
    if not isinstance(params, Mapping):
        raise ExportError(f"params must be a mapping of names to values, not {type(params).__name__}")
    documented = {p.name: p for p in route.params}
    typed: dict[str, Any] = {}
    for name, value in params.items():
        param = documented.get(name) if isinstance(name, str) else None
        if param is not None and param.type == "number" and isinstance(value, str):
            value = _numbers(param, value, route)
        typed[name] = value
    return typed


def _numbers(param: Param, text: str, route: Route) -> int | Decimal | list[int | Decimal]:
    parts = text.split(",") if param.multiple else [text]
    values = [_number(param.name, part.strip(), route) for part in parts]
    return values if len(values) > 1 else values[0]


def _number(name: str, text: str, route: Route) -> int | Decimal:
    if _WHOLE.fullmatch(text):
        return int(text)
    try:
        number = Decimal(text)
    except InvalidOperation:
        number = Decimal("NaN")
    if not number.is_finite():
        raise ValidationError(name, f"must be a number, not {text!r}", f"{route.method} {route.path}")
    return number


def _output(output: Any) -> str:
    if isinstance(output, os.PathLike):
        output = os.fspath(output)
    if not isinstance(output, str) or not output:
        raise ExportError("output must be a file path, or '-' for standard output")
    return output


def _flag(name: str, value: Any) -> None:
    if not isinstance(value, bool):
        raise ValidationError(name, "must be True or False", WHERE)


def _concurrency(value: Any) -> None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        raise ValidationError("concurrency", "must be None or a whole number of at least 1", WHERE)


def _interval(value: Any) -> None:
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if not number or not math.isfinite(value) or value < 0:
        raise ValidationError("checkpoint_interval", "must be a number of seconds, 0 or more", WHERE)


def _malls(api: Cafe24, route: Route, malls: Any) -> dict[str, Mall]:
    """The malls to read, in order: each once (the D.Collection API has one, the partner)."""
    if route.api == "dcollection":
        from cafe24_async.client import PARTNER

        return {PARTNER: api.partner}
    if isinstance(malls, str) or not isinstance(malls, (tuple, list)):
        raise ExportError("malls must be a tuple of mall ids, e.g. ('acme',)")
    if not malls:
        raise ExportError("no mall to export from: give at least one mall id")
    contexts = [api.mall(mall_id) for mall_id in malls]  # a bad id is a ConfigurationError
    twice = [m for m in malls if malls.count(m) > 1]
    if twice:
        raise ExportError(f"mall {twice[0]!r} is given more than once: each mall is exported once")
    return dict(zip(malls, contexts, strict=True))


def _no_offset(route: Route, params: Mapping[str, Any]) -> None:
    if "offset" in params:
        keyset = route.pagination.keyset if route.pagination else None
        narrow = f"filters or {keyset}" if keyset else "filters"
        raise ExportError(f"offset: an export pages by itself from the first record; narrow it with {narrow}")


def _date_range(resource: str, route: Route, params: Mapping[str, Any]) -> None:
    """A route that must be read by date windows needs both ends of the range."""
    dr = route.date_range
    if dr is None or (params.get(dr.start) is not None and params.get(dr.end) is not None):
        return
    if dr.required:
        why = "the API requires one"
    elif dr.max_span_months:
        why = f"the API reads at most {dr.max_span_months} months per request, so it is read in windows"
    else:
        return
    raise ExportError(
        f"{resource} needs a date range ({why}): pass --since and --until ({dr.start} and {dr.end})"
    )
