"""Bulk writes that land exactly once: stock, prices, order statuses and invoices by the thousand.

`bulk_apply(mall, route, rows, journal=..., results=...)` sends rows in calls of
the route's documented size, paced to leave the mall's quota room for other
apps, records every call in an fsynced journal before and after it goes out, and
settles unclear answers by reading the records back, so that after any crash a
second run applies each row once and skips none. `verify=True` reads back what
the mall took; `dry_run=True` checks rows and settings and sends no write.
`cafe24-async apply` is the command line for it.
"""

from cafe24_async.bulk.apply import BulkRun, BulkSettings, bulk_apply
from cafe24_async.bulk.caps import BULK_FORMS, BulkForm, bulk_form
from cafe24_async.bulk.effects import EFFECTS, Effect
from cafe24_async.bulk.errors import (
    BulkError,
    BulkInputError,
    BulkOutputError,
    JournalBusyError,
    JournalError,
)
from cafe24_async.bulk.profile import WriteProfile, profile_for, resolve_route
from cafe24_async.bulk.progress import BulkProgress
from cafe24_async.bulk.results import BulkReport, RowResult
from cafe24_async.bulk.rows import InputRows, read_rows

__all__ = [
    "BULK_FORMS",
    "EFFECTS",
    "BulkError",
    "BulkForm",
    "BulkInputError",
    "BulkOutputError",
    "BulkProgress",
    "BulkReport",
    "BulkRun",
    "BulkSettings",
    "Effect",
    "InputRows",
    "JournalBusyError",
    "JournalError",
    "RowResult",
    "WriteProfile",
    "bulk_apply",
    "bulk_form",
    "profile_for",
    "read_rows",
    "resolve_route",
]
