"""Reading whole lists: pages, keyset segments past the offset cap, date windows, counts.

Paging sits above the request pipeline and sees a mall only through the small
`Requester` protocol (prepare a call, execute it), so it never imports the
client. `read_pages` yields pages with resumable cursors (the export uses it);
`iterate_records` yields the records.
"""

from cafe24_async.paging.cursor import Cursor, Page
from cafe24_async.paging.protocol import Requester
from cafe24_async.paging.reader import check_read, iterate_records, read_pages

__all__ = ["Cursor", "Page", "Requester", "check_read", "iterate_records", "read_pages"]
