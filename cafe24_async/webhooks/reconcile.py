"""Replaying the delivery log: events that failed or never arrived reach the handlers.

Cafe24 retries failed deliveries, but it has also lost some (notices,
2024-12-31), and a receiver may have been down. The delivery log
(`GET /api/v2/admin/webhooks/logs`) lists every delivery with the body it sent.
`reconcile(mall, dispatcher, since_log_id=...)` reads it in log-id order (the
`since_log_id` keyset, `page_size` entries a call, through the mall's pacing),
parses each `request_body` and submits the event, with the log's `trace_id`, to
the same dispatcher the live receiver uses. The deduplicator drops what was
already handled, live or by an earlier run (the content key is the same for
the live body and the logged one); the rest is handled as if delivered now.

It is resumable by log id: the report's `last_log_id` is the highest log id up
to which every entry is done (handled, a duplicate, a test delivery skipped, or
a body that is not an event, which no retry can fix). Store it and pass it as
`since_log_id` next time. An entry whose handler gave up stops `last_log_id`
before it, so the next run tries it again; later entries are still handled now.
"""

from __future__ import annotations

import asyncio
import logging
import math
from typing import Any

import attrs

from cafe24_async.errors import ConfigurationError
from cafe24_async.mall import Mall
from cafe24_async.webhooks.dispatcher import Dispatcher
from cafe24_async.webhooks.errors import WebhookPayloadError
from cafe24_async.webhooks.normalise import to_int
from cafe24_async.webhooks.parse import parse_event

log = logging.getLogger("cafe24_async.webhooks")

#: Largest page the log route serves.
MAX_PAGE = 10_000


@attrs.define
class ReconcileReport:
    """What one `reconcile` run did."""

    #: Resume point: every entry up to this log id is done (None when nothing was read).
    last_log_id: int | None = None
    #: Log entries read.
    read: int = 0
    #: Events handled now (they had not been handled before).
    replayed: int = 0
    #: Entries whose event was already handled (live, or an earlier delivery of it).
    duplicates: int = 0
    #: Entries whose handler gave up (tried again by the next run).
    failed: int = 0
    #: Test deliveries (log_type T) passed over.
    skipped: int = 0
    #: Entries whose body is not a Cafe24 event.
    unreadable: int = 0
    #: Log pages read.
    calls: int = 0


@attrs.frozen
class _Entry:
    log_id: int
    done: asyncio.Future[bool] | None  # None: settled when read


async def reconcile(
    mall: Mall,
    dispatcher: Dispatcher,
    *,
    since_log_id: int | None = None,
    page_size: int = 1000,
    include_tests: bool = False,
    **params: Any,
) -> ReconcileReport:
    """Replay the mall's delivery log after `since_log_id` into `dispatcher`'s handlers.

    Extra keyword arguments filter the log (`event_no=`, `requested_start_date=`, ...).
    Returns when every replayed event is finished."""
    if not 1 <= page_size <= MAX_PAGE:
        raise ConfigurationError(f"page_size must be between 1 and {MAX_PAGE}")
    report = ReconcileReport()
    entries: list[_Entry] = []
    cursor = since_log_id
    while True:
        query = dict(params, limit=page_size)
        if cursor is not None:
            query["since_log_id"] = cursor
        page = await mall.admin.webhooks.logs.list(**query)
        report.calls += 1
        numbered = sorted(
            ((number, entry) for entry in page if (number := _log_id(entry)) is not None), key=lambda p: p[0]
        )
        fresh = [(n, e) for n, e in numbered if cursor is None or n > cursor]
        for log_id, entry in fresh:
            report.read += 1
            entries.append(await _submit(dispatcher, report, log_id, entry, include_tests))
        if not fresh or len(page) < page_size:
            break
        cursor = fresh[-1][0]
    await _settle(report, entries, since_log_id)
    return report


def _log_id(entry: Any) -> int | None:
    if not isinstance(entry, dict):
        return None
    try:
        return to_int(entry.get("log_id"))
    except ValueError:
        return None


async def _submit(
    dispatcher: Dispatcher, report: ReconcileReport, log_id: int, entry: dict[str, Any], include_tests: bool
) -> _Entry:
    if entry.get("log_type") == "T" and not include_tests:
        report.skipped += 1
        return _Entry(log_id, None)
    body = entry.get("request_body")
    try:
        if not isinstance(body, str | dict):
            raise WebhookPayloadError("the log entry has no request_body")
        event = parse_event(body)
    except WebhookPayloadError as exc:
        report.unreadable += 1
        log.warning("webhook log %s: not replayable: %s", log_id, exc)
        return _Entry(log_id, None)
    trace = entry.get("trace_id")
    if isinstance(trace, str) and trace:
        event = attrs.evolve(event, trace_id=trace)
    submission = await dispatcher.submit(event, wait=math.inf)
    if submission.duplicate:
        report.duplicates += 1
        return _Entry(log_id, None)
    return _Entry(log_id, submission.done)


async def _settle(report: ReconcileReport, entries: list[_Entry], since_log_id: int | None) -> None:
    """Wait for the replayed events; count them and find the resume point."""
    last = since_log_id
    blocked = False
    for entry in entries:
        ok = True if entry.done is None else await entry.done
        if entry.done is not None:
            if ok:
                report.replayed += 1
            else:
                report.failed += 1
        if not ok:
            blocked = True
        if not blocked:
            last = entry.log_id
    report.last_log_id = last
