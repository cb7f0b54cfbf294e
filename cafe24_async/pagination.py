"""Deprecated import path: paging now lives in `cafe24_async.paging`.

Kept for one release so existing imports work; import from
`cafe24_async.paging` instead.
"""

from __future__ import annotations

from cafe24_async.paging.cursor import Cursor, Page
from cafe24_async.paging.keyset import keyset_field
from cafe24_async.paging.reader import check_read, read_pages

__all__ = ["Cursor", "Page", "check_read", "keyset_field", "read_pages"]
