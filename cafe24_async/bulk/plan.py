"""Every row checked, then grouped into calls: the plan of a bulk write.

`make_plan` checks the rows before anything is sent, with the route's own rules
(`Mall.prepare`, the same checks as any call): the columns must be parameters
of the route and the required ones present; each row's values must pass the
documented rules; two rows may not write the same record (the journal tells an
ambiguous write apart by comparing the record with what the row sent, so one
record has one target). A bad row stops the whole job with a `BulkInputError`
naming every bad row, unless `skip_invalid` reports them as failed and sends
the rest.

`Plan.chunks` groups rows into calls: for a route with a list form, rows with
the same path values (the same product, say) go together, up to the route's
cap (`bulk.caps`), in input order; otherwise one row per call. Each chunk
carries the request exactly as it will be sent and a fingerprint of it (sha256
of method, path and body), which the journal records before sending.

The job's fingerprint (route, mall, and the sha256 of every row as it will be
sent) is what the journal keeps to know that a later run is the same job.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

import attrs

from cafe24_async.bulk.errors import BulkInputError
from cafe24_async.bulk.profile import WriteProfile
from cafe24_async.bulk.rows import InputRows
from cafe24_async.errors import ValidationError
from cafe24_async.pipeline.build import PreparedRequest
from cafe24_async.routes.route import Param

if TYPE_CHECKING:
    from cafe24_async.mall import Mall

_WHOLE = re.compile(r"-?(0|[1-9][0-9]*)")
_ITEM_PREFIX = re.compile(r"^requests\[\d+\]\.")


@attrs.frozen
class Row:
    """One valid row: what it writes and which record."""

    #: Position in the input, from 0: the row's name in the journal.
    index: int
    #: Where it is in the file (from 1), for people.
    line: int
    path: dict[str, Any]
    body: dict[str, Any]
    #: The record it writes: path values and item key values, as text.
    key: tuple[str, ...]

    @property
    def group(self) -> tuple[str, ...]:
        """Rows of one call share their path values."""
        return tuple(str(v) for v in self.path.values())

    def names(self, item_key: tuple[str, ...]) -> dict[str, Any]:
        """The values that name the row's record, for the results file."""
        return {**self.path, **{k: self.body[k] for k in item_key if k in self.body}}


@attrs.frozen
class Chunk:
    """One call: its rows, the request as sent, and that request's fingerprint."""

    number: int
    rows: tuple[Row, ...]
    prepared: PreparedRequest
    fingerprint: str


@attrs.define
class Plan:
    mall: Mall
    profile: WriteProfile
    #: Rows that may be sent, in input order.
    rows: list[Row]
    #: Rows that may not, by index: (line, why).
    invalid: dict[int, tuple[int, str]]
    total: int
    #: What the journal keeps to know the job again.
    job: dict[str, Any]
    chunk_size: int

    def chunks(self, rows: Iterable[Row], numbers: Iterator[int]) -> list[Chunk]:
        """`rows` as calls, numbered from `numbers`."""
        if not self.profile.bulk:
            return [self._chunk(next(numbers), (row,)) for row in rows]
        groups: dict[tuple[str, ...], list[Row]] = {}
        for row in rows:
            groups.setdefault(row.group, []).append(row)
        chunks: list[Chunk] = []
        size = self.chunk_size
        for members in groups.values():
            for start in range(0, len(members), size):
                chunks.append(self._chunk(next(numbers), tuple(members[start:start + size])))
        return chunks

    def _chunk(self, number: int, rows: tuple[Row, ...]) -> Chunk:
        prepared = prepare_rows(self.mall, self.profile, rows)
        return Chunk(number, rows, prepared, fingerprint(prepared))


def prepare_rows(mall: Mall, profile: WriteProfile, rows: tuple[Row, ...]) -> PreparedRequest:
    """The request that sends `rows` (all with the same path values)."""
    route = profile.route
    if profile.bulk:
        return mall.prepare(route, (), {**rows[0].path, "requests": [dict(r.body) for r in rows]})
    return mall.prepare(route, (), {**rows[0].path, **rows[0].body})


def fingerprint(prepared: PreparedRequest) -> str:
    """sha256 of what a request sends: method, path (encoded), query and body."""
    text = json.dumps(
        [prepared.route.method, prepared.path, list(prepared.query), prepared.body],
        sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str,
    )
    return hashlib.sha256(text.encode()).hexdigest()


def make_plan(
    mall: Mall, profile: WriteProfile, given: InputRows, *, skip_invalid: bool = False,
    chunk_size: int | None = None,
) -> Plan:
    """Check every row (see the module docstring); `BulkInputError` before anything is sent."""
    route = profile.route
    params = {p.name: p for p in route.params}
    if chunk_size is not None and (isinstance(chunk_size, bool) or not isinstance(chunk_size, int)
                                   or chunk_size < 1):
        raise BulkInputError(f"chunk_size must be a whole number of at least 1, not {chunk_size!r}")
    size = min(profile.cap, chunk_size or profile.cap)
    _check_columns(given, params, profile)
    rows: list[Row] = []
    invalid: dict[int, tuple[int, str]] = {}
    seen: dict[tuple[str, ...], int] = {}
    check_twins = profile.readback is not None
    for index, (values, line) in enumerate(zip(given.rows, given.lines, strict=True)):
        typed = {name: _typed(params.get(name), value, given.text_values) for name, value in values.items()}
        path = {name: typed[name] for name in profile.path_params if name in typed}
        body = {name: value for name, value in typed.items() if name not in path}
        key = (*(str(v) for v in path.values()), *(str(body.get(k, "")) for k in profile.item_key))
        problem = _check_row(mall, profile, path, body)
        if problem is None and check_twins and key in seen:
            problem = f"writes the same record as row {seen[key]} ({_label(profile, path, body)})"
        if problem is not None:
            invalid[index] = (line, problem)
            continue
        seen.setdefault(key, line)
        rows.append(Row(index, line, path, body, key))
    if invalid and not skip_invalid:
        problems = [(line, text) for line, text in invalid.values()]
        raise BulkInputError(
            f"{len(invalid)} of {len(given.rows)} rows of {given.source} cannot be sent, so nothing was sent "
            "(fix them, or skip them with --skip-invalid / skip_invalid=True)",
            problems,
        )
    return Plan(mall, profile, rows, invalid, len(given.rows), _job(mall, profile, rows, invalid), size)


def _check_columns(given: InputRows, params: dict[str, Param], profile: WriteProfile) -> None:
    present: set[str] = set()
    for row in given.rows:
        present.update(row)
    unknown = sorted(present - set(params))
    if unknown:
        known = ", ".join(sorted(params))
        raise BulkInputError(
            f"{given.source}: {', '.join(unknown)} "
            f"{'is not a parameter' if len(unknown) == 1 else 'are not parameters'} "
            f"of {profile.route.method} {profile.route.path} (it takes: {known}); rename a column with "
            "--map COLUMN=PARAM or leave it out with --ignore COLUMN"
        )
    required = [p.name for p in profile.route.params if p.required and p.name != "shop_no"]
    missing = [name for name in required if name not in present]
    if missing and given.rows:
        raise BulkInputError(
            f"{given.source} has no column for {', '.join(missing)}, which "
            f"{profile.route.method} {profile.route.path} requires"
        )


def _typed(param: Param | None, value: Any, text_values: bool) -> Any:
    """A CSV cell as the value to send: whole numbers become numbers where the route's
    rules allow (not codes, dates, enums or length-limited text); the rest stays text."""
    if not text_values or not isinstance(value, str) or param is None or param.location == "path":
        return value
    if param.charset or param.min_length or param.max_length or param.enum:
        return value
    if param.type in ("string", "date"):
        return value
    return int(value) if _WHOLE.fullmatch(value) else value


def _check_row(mall: Mall, profile: WriteProfile, path: dict[str, Any], body: dict[str, Any]) -> str | None:
    """Why the row cannot be sent, or None."""
    route = profile.route
    params = {**path, "requests": [body]} if profile.bulk else {**path, **body}
    try:
        mall.prepare(route, (), params)
    except ValidationError as exc:
        return f"{_ITEM_PREFIX.sub('', exc.param)}: {exc.rule}"
    return None


def _label(profile: WriteProfile, path: dict[str, Any], body: dict[str, Any]) -> str:
    names = {**path, **{k: body.get(k) for k in profile.item_key}}
    return " ".join(f"{k}={v}" for k, v in names.items())


def _job(
    mall: Mall, profile: WriteProfile, rows: list[Row], invalid: dict[int, tuple[int, str]]
) -> dict[str, Any]:
    digest = hashlib.sha256()
    for row in rows:
        digest.update(json.dumps([row.index, row.path, row.body], sort_keys=True, ensure_ascii=False,
                                 default=str).encode())
        digest.update(b"\n")
    digest.update(json.dumps(sorted(invalid)).encode())
    return {
        "route": f"{profile.route.method} {profile.route.path}",
        "mall": mall.mall_id,
        "rows": len(rows) + len(invalid),
        "sha256": digest.hexdigest(),
    }
