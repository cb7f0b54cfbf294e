"""Pacing as a permit around one request.

    permit = pacer.try_admit(route) or await pacer.admit(route, deadline)
    try:
        answer = await send(...)
        pacer.observe(permit, answer.status, answer.headers)
    finally:
        pacer.release(permit)

Admission waits for the mall's usage-quota governor (a block pauses every call
of the mall) and then for the API's limiter (leaky bucket, per-second rule,
token bucket or fixed window); `try_admit` is the same without waiting, for the
usual call that finds room (no coroutine to run). The permit takes in the
rate-limit and usage headers of its answer, and its place is given back on
every exit, cancellation and errors included, exactly once.
"""

from __future__ import annotations

from collections.abc import Mapping

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

    def try_admit(self, route: Route) -> Permit | None:
        """`admit` when it would not wait (the usual case): the limiter's permit, or None."""
        return self.limiter.try_acquire(route) if self.quota.try_pass() else None

    async def admit(self, route: Route, deadline: float | None = None) -> Permit:
        """Wait until a request may go (no quota block, and room in the limiter); its
        permit. `deadline` (seconds) bounds a quota pause."""
        quota, limiter = self.quota, self.limiter
        while True:
            if not quota.try_pass():
                await quota.wait(deadline=deadline)
            permit = await limiter.acquire(route)
            if not quota.blocked():
                return permit
            limiter.release(permit)  # a block began while this call waited for the limiter

    def observe(self, permit: Permit, status: int, headers: Mapping[str, str]) -> None:
        """Take in the rate-limit and usage headers of the answer to `permit`'s call."""
        self.limiter.observe(permit, status, headers)
        self.quota.observe(status, headers)

    def release(self, permit: Permit) -> None:
        """`permit`'s call is over: give its place back (exactly once per permit)."""
        self.limiter.release(permit)
