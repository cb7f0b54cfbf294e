"""Incremental syncs: what changed since the last run, per mall, with a durable cursor.

`run_sync` (and `cafe24-async sync` on the command line) reads only the
records that changed since a (mall, resource)'s cursor in a state file, writes
them to a new output, and moves the cursor once that output is durable.
Delivery is at least once; every record carries its primary key and `mall_id`.
"""

from cafe24_async.sync.job import DEFAULT_LOOKBACK, SyncBusyError, SyncReport, SyncSpec, run_sync
from cafe24_async.sync.state import Cursor, StateError, SyncState

__all__ = [
    "DEFAULT_LOOKBACK",
    "Cursor",
    "StateError",
    "SyncBusyError",
    "SyncReport",
    "SyncSpec",
    "SyncState",
    "run_sync",
]
