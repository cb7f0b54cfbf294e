"""Pacing as a permit around one request.

    async with pacer.slot(route, deadline) as slot:
        answer = await send(...)
        slot.observe(answer.status, answer.headers)

Entering the slot waits for the mall's usage-quota governor (a block pauses
every call of the mall) and then for the API's limiter (leaky bucket,
per-second rule, token bucket or fixed window). The slot takes in the rate-limit
and usage headers of the answer, and gives its place back on every exit,
cancellation and errors included, exactly once.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import TracebackType

from cafe24_async.ratelimit.limiter import Limiter
from cafe24_async.ratelimit.permit import Permit
from cafe24_async.ratelimit.quota import QuotaGovernor
from cafe24_async.routes.route import Route


class Pacer:
    """One API's pacing for one mall: its limiter behind the mall's quota governor."""

    __slots__ = ("limiter", "quota")

    def __init__(self, limiter: Limiter, quota: QuotaGovernor) -> None:
        self.limiter = limiter
        self.quota = quota

    def __repr__(self) -> str:
        return f"Pacer({self.limiter!r})"

    def slot(self, route: Route, deadline: float | None = None) -> Slot:
        """A permit for one request of `route`; `deadline` bounds a quota pause (seconds)."""
        return Slot(self, route, deadline)

    def try_admit(self, route: Route) -> Permit | None:
        """`admit` when it would not wait (the usual case): the limiter's permit, or None."""
        return self.limiter.try_acquire(route) if self.quota.try_pass() else None

    async def admit(self, route: Route, deadline: float | None) -> Permit:
        """Wait until a request may go (no quota block, and room in the limiter); its permit."""
        quota, limiter = self.quota, self.limiter
        while True:
            if not quota.try_pass():
                await quota.wait(deadline=deadline)
            permit = await limiter.acquire(route)
            if not quota.blocked():
                return permit
            limiter.release(permit)  # a block began while this call waited for the limiter


class Slot:
    """The permit of one request (an async context manager, released exactly once)."""

    __slots__ = ("_deadline", "_pacer", "_permit", "_route")

    def __init__(self, pacer: Pacer, route: Route, deadline: float | None) -> None:
        self._pacer, self._route, self._deadline = pacer, route, deadline
        self._permit: Permit | None = None

    async def __aenter__(self) -> Slot:
        pacer = self._pacer
        permit = pacer.try_admit(self._route)
        self._permit = permit if permit is not None else await pacer.admit(self._route, self._deadline)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        permit, self._permit = self._permit, None
        if permit is not None:
            self._pacer.limiter.release(permit)

    def observe(self, status: int, headers: Mapping[str, str]) -> None:
        """Take in the answer's rate-limit and usage headers."""
        if self._permit is None:
            raise RuntimeError("observe() outside the slot")
        self._pacer.limiter.observe(self._permit, status, headers)
        self._pacer.quota.observe(status, headers)
