"""The permit one request holds in its limiter, from `acquire` to `release`.

`acquire` hands the request a permit; the request hands it back to `observe`
with its answer and to `release` when it is over. The permit is how the
limiter knows which call a report or a release is about: the foreign-use
estimate reads a report with the moment its own call was sent, the per-second
window frees a place only for a call that took one, and the Redis bucket
reports each call under its own id.
"""

from __future__ import annotations

from cafe24_async.ratelimit.foreign import Ticket


class Permit:
    """One request's place in one limiter, and what it took there."""

    __slots__ = ("call", "fallback", "report", "ticket", "windowed")

    def __init__(self, ticket: Ticket | None = None, windowed: bool = False) -> None:
        #: The bucket's ticket for the call (to match its report), once it goes out.
        self.ticket = ticket
        #: True once the call holds a place in the per-second window.
        self.windowed = windowed
        #: The shared bucket's id for the call (Redis), and the report to hand back with it.
        self.call: str | None = None
        self.report: tuple[int, int] | None = None
        #: The in-process bucket's permit, for a call paced there while Redis is lost.
        self.fallback: Permit | None = None

    def __repr__(self) -> str:
        return f"Permit(ticket={self.ticket}, windowed={self.windowed}, call={self.call!r})"
