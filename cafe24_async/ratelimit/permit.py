"""The permit one request holds in its limiter, from `acquire` to `release`.

`Limiter.observe` and `Limiter.release` do not name the call they are about,
yet the limiter must know it: the foreign-use estimate reads a report with the
moment its own call was sent, and the per-second window frees a place only for
a call that took one. The request path calls acquire, observe and release from
one task, so the permit travels in a context variable of that task: `hold` at
the end of `acquire`, `current` in `observe`, `drop` in `release`. A permit
belongs to one limiter, so a task that holds several (one per API) never mixes
them up.
"""

from __future__ import annotations

from contextvars import ContextVar

import attrs

from cafe24_async.ratelimit.foreign import Ticket


@attrs.define(slots=True, eq=False)
class Permit:
    """One request's place: the limiter it belongs to and what it took there."""

    owner: object
    #: The bucket's ticket for the call (to match its report), once it goes out.
    ticket: Ticket | None = None
    #: True once the call holds a place in the per-second window.
    windowed: bool = False


_CURRENT: ContextVar[Permit | None] = ContextVar("cafe24_async_permit", default=None)


def hold(permit: Permit) -> None:
    """The running task now holds `permit`."""
    _CURRENT.set(permit)


def current(owner: object) -> Permit | None:
    """The permit of `owner` the running task holds, if any."""
    permit = _CURRENT.get()
    return permit if permit is not None and permit.owner is owner else None


def drop(owner: object) -> Permit | None:
    """Give up the running task's permit of `owner`, and return it."""
    permit = current(owner)
    if permit is not None:
        _CURRENT.set(None)
    return permit
