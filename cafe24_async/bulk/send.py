"""Sending one call of a bulk write exactly once, and reading its answer row by row.

The request path retries a PUT after a 5xx or a lost answer, since setting the
same values twice is harmless for one call. For a bulk write it is not: a
retried call whose first attempt was applied would apply the rows twice, and
each application counts (stock movements, notifications). So `Sender` sends
through a copy of the mall's executor that never repeats a call that may have
reached the server; a 429, a refused connection or a 401 (refreshed once)
still go again, as they were not processed. Whatever else goes wrong comes
back to the bulk loop, which knows what the call carried.

`Verdict` says, per row: decided by the answer (ok; failed for good; "retry":
refused before it was applied, so safe to send again), or ambiguous (the call
may have been applied: a 5xx, a timeout, a dropped connection, an unreadable
200), which the loop settles by re-reading the records. A 207 is read object by
object; a 4xx refuses the whole call (nothing applied), and when it names
objects (`requests[3]`) only those rows fail, the others go again. A DELETE sent
again after an unclear answer that meets a 404 is done: the first one removed
the record.
"""

from __future__ import annotations

import copy
import json
import re
from typing import TYPE_CHECKING, Any

import attrs

from cafe24_async.bulk.journal import OK, Outcome
from cafe24_async.bulk.plan import Chunk, Row
from cafe24_async.bulk.profile import WriteProfile
from cafe24_async.errors import (
    APIError,
    AuthenticationError,
    Cafe24Error,
    ClientClosedError,
    NotFoundError,
    PermissionDeniedError,
    QuotaHeadroomError,
    QuotaWaitError,
    RateLimitError,
    ReauthorizeError,
    ServerError,
    TokenStoreError,
    ValidationError,
)
from cafe24_async.transport import ConnectFailed

if TYPE_CHECKING:
    from cafe24_async.mall import Mall
    from cafe24_async.pipeline.executor import Executor

_NAMED = re.compile(r"requests\[(\d+)\]")
#: Not processed by the server: safe to send again.
_NOT_SENT = (RateLimitError, ConnectFailed, QuotaWaitError, QuotaHeadroomError)
#: Nothing more can be sent until a person acts.
_FATAL = (ReauthorizeError, TokenStoreError, ClientClosedError, AuthenticationError, PermissionDeniedError)


@attrs.frozen
class Verdict:
    """What one call's answer (or error) says about its rows."""

    outcomes: dict[int, Outcome]
    #: Rows the call may or may not have applied.
    ambiguous: tuple[Row, ...] = ()
    error: Cafe24Error | None = None
    #: The run must stop (authorisation, a closed client): the rows are not applied.
    fatal: bool = False


class Sender:
    """Sends prepared calls of one mall, never twice once they may have reached the server."""

    def __init__(self, mall: Mall, profile: WriteProfile) -> None:
        self.profile = profile
        executor: Executor = copy.copy(mall.executor)
        executor.retry = attrs.evolve(executor.retry, max_attempts=1)
        self._executor = executor

    async def send(self, chunk: Chunk, resent: bool = False) -> Verdict:
        """Send `chunk` once; `resent` when every row of it went out in an earlier call."""
        try:
            value = await self._executor.run(chunk.prepared)
        except Cafe24Error as error:
            if resent and isinstance(error, NotFoundError) and self.profile.route.method == "DELETE":
                return Verdict(dict.fromkeys((r.index for r in chunk.rows), OK))  # gone: the first one did it
            return judge_error(self.profile, chunk.rows, error)
        return judge_value(self.profile, chunk.rows, value)


def judge_value(profile: WriteProfile, rows: tuple[Row, ...], value: Any) -> Verdict:
    """The rows of a call that was answered 2xx."""
    if not profile.bulk:
        return Verdict({rows[0].index: OK})
    items = value if isinstance(value, list) else []
    matched = _match(profile, rows, items)
    outcomes: dict[int, Outcome] = {}
    unmatched: list[Row] = []
    for row in rows:
        item = matched.get(row.index)
        if item is None:
            unmatched.append(row)
            continue
        failed = _item_failure(item)
        if failed is None:
            outcomes[row.index] = OK
        else:
            status, message = failed
            text = f"{status} {profile.route.method} {profile.route.path}: {message} (one object of a 207)"
            outcomes[row.index] = Outcome("retry" if _transient(status) else "failed", text)
    return Verdict(outcomes, tuple(unmatched))


def _match(profile: WriteProfile, rows: tuple[Row, ...], items: list[Any]) -> dict[int, Any]:
    """Each row's object of the answer: by position, checked by the item key; by the
    item key when the positions do not fit."""
    key = profile.item_key

    def fits(row: Row, item: Any) -> bool:
        if not isinstance(item, dict):
            return False
        return all(str(item[k]) == str(row.body.get(k)) for k in key if k in item)

    if len(items) == len(rows) and all(fits(r, i) for r, i in zip(rows, items, strict=True)):
        return {row.index: item for row, item in zip(rows, items, strict=True)}
    if not key:
        return {}
    by_key = {
        tuple(str(item.get(k)) for k in key): item
        for item in items if isinstance(item, dict) and all(k in item for k in key)
    }
    found = {row.index: by_key.get(tuple(str(row.body.get(k)) for k in key)) for row in rows}
    return {index: item for index, item in found.items() if item is not None}


def _item_failure(item: dict[str, Any]) -> tuple[int, str] | None:
    """(status, message) of an object the server refused, None for one it applied."""
    error = item.get("error")
    if isinstance(error, dict):
        return _status(error.get("code")), str(error.get("message") or "refused")
    if error is not None:
        return 500, str(error)
    status = _http_status(item.get("status_code", item.get("code")))
    if status is not None and status >= 400:
        return status, str(item.get("message") or "refused")
    return None


def _status(code: Any) -> int:
    """An error's status: its code when that is one, else 500."""
    return _http_status(code) or 500


def _http_status(code: Any) -> int | None:
    """`code` when it is an HTTP status (an int or digits, 100-599): a record's own
    `code` field (a product code, say) is not one."""
    if isinstance(code, bool):
        return None
    if isinstance(code, str) and code.isdigit():
        code = int(code)
    return code if isinstance(code, int) and 100 <= code <= 599 else None


def _transient(status: int) -> bool:
    return status == 429 or status >= 500


def judge_error(profile: WriteProfile, rows: tuple[Row, ...], error: Cafe24Error) -> Verdict:
    """The rows of a call that failed."""
    text = str(error)
    if isinstance(error, _FATAL):
        return Verdict({r.index: Outcome("retry", text) for r in rows}, error=error, fatal=True)
    if isinstance(error, ValidationError):
        return Verdict({r.index: Outcome("failed", text) for r in rows}, error=error)
    if isinstance(error, _NOT_SENT):
        return Verdict({r.index: Outcome("retry", text) for r in rows}, error=error)
    if isinstance(error, APIError) and 400 <= error.status < 500 and not isinstance(error, ServerError):
        return _refused(rows, error)
    return Verdict({}, rows, error=error)  # 5xx, timeout, dropped, unreadable: it may have been applied


def _refused(rows: tuple[Row, ...], error: APIError) -> Verdict:
    """A 4xx refuses the call: nothing of it was applied. Rows it names fail; the rest go again."""
    named = _named(error, len(rows))
    if not named:
        return Verdict({r.index: Outcome("failed", str(error)) for r in rows}, error=error)
    parts = [p.strip() for p in error.message.split(";")] if error.message else []
    outcomes: dict[int, Outcome] = {}
    for position, row in enumerate(rows):
        if position in named:
            why = "; ".join(p for p in parts if f"requests[{position}]" in p) or error.message
            why = _NAMED.sub("", why).lstrip(".")
            outcomes[row.index] = Outcome("failed", f"{error.status} {error.method} {error.path}: {why}")
        else:
            outcomes[row.index] = Outcome("retry", f"sent with a refused call ({error.status}), not applied")
    return Verdict(outcomes, error=error)


def _named(error: APIError, count: int) -> set[int]:
    """Positions of the call's objects that a 4xx names (`requests[3]`, or `more_info`)."""
    text = error.message or ""
    if error.more_info is not None:
        text += " " + json.dumps(error.more_info, default=str)
    found = {int(m) for m in _NAMED.findall(text)}
    more = error.more_info.get("requests") if isinstance(error.more_info, dict) else None
    if isinstance(more, list):
        found.update(i for i in more if isinstance(i, int) and not isinstance(i, bool))
    return {i for i in found if 0 <= i < count}
