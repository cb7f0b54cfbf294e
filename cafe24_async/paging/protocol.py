"""What paging needs of a mall: prepare a call, and send it.

Paging sits above the request pipeline and below the objects that wire it
together, so it never imports the client or the mall. Anything with these two
methods can be paged through (a `Mall` is one; a test may pass its own).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from cafe24_async.paging.caps import OffsetCaps
from cafe24_async.pipeline.build import PreparedRequest
from cafe24_async.routes.route import Route


class Requester(Protocol):
    #: The offset caps this mall's server has shown (see `paging.caps`).
    offset_caps: OffsetCaps

    def prepare(
        self, route: Route, args: Sequence[Any], params: dict[str, Any], *, whole_range: bool = False
    ) -> PreparedRequest:
        """Check and render one call (nothing is sent); `ValidationError` on bad input."""

    async def execute(self, prepared: PreparedRequest, *, typed: bool | None = None,
                      timeout: Any = None) -> Any:
        """Send one prepared call through pacing, auth, retries and decoding."""
