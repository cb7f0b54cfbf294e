"""One list call without its paging: what is asked, of whom, and how to ask for a page.

Everything that reads pages of a list (offset pages, keyset segments, date
windows) goes through a `ListQuery`, so there is one place where a page or a
count is requested, always through the mall's full request path.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from cafe24_async.paging.counts import count_of
from cafe24_async.paging.protocol import Requester
from cafe24_async.routes.route import Pagination, Route


@attrs.frozen(slots=True)
class ListQuery:
    requester: Requester
    route: Route
    args: tuple[Any, ...]
    #: Filters, fields and embeds of the call: everything but `limit` and `offset`.
    params: Mapping[str, Any]
    timeout: float | None = None

    @property
    def paging(self) -> Pagination:
        assert self.route.pagination is not None  # a ListQuery is only made for a list route
        return self.route.pagination

    @property
    def label(self) -> str:
        return f"{self.route.method} {self.route.path}"

    def with_params(self, **changes: Any) -> ListQuery:
        return attrs.evolve(self, params={**self.params, **changes})

    async def page(self, limit: int, offset: int) -> list[Any]:
        """One page, raw (dicts), through the full request path."""
        query = dict(self.params, limit=limit)
        if self.paging.has_offset and offset:
            query["offset"] = offset
        prepared = self.requester.prepare(self.route, self.args, query)
        page = await self.requester.execute(prepared, typed=False, timeout=self.timeout)
        return list(page) if page else []

    async def count(self) -> int | None:
        """Records the list holds now, when its count route takes these filters."""
        return await count_of(self.requester, self.route, self.args, dict(self.params), self.timeout)
