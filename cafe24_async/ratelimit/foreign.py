"""How fast other apps use a mall's bucket, estimated without inventing any.

Other apps drain the same bucket, so this client may use only what they leave
of the drain. The only evidence is `X-Api-Call-Limit`: the bucket's level at
the server's moment, which lies somewhere between our send and our receipt,
rounded to a whole call, on answers that overtake each other. Read as a point,
that evidence shows other apps where there are none (a burst of our own calls
answered out of order looks like hundreds of foreign calls per second, and
rounding hides the drain of a short burst). So each report is read as an
interval, and other apps are credited only with what our own calls cannot
explain.

The bookkeeping is one quantity, the potential

    P(t) = level(t) - ours(t) + drain · t

where ours(t) counts our calls the server had taken in by t. While the bucket
never runs dry, P grows by exactly the calls other apps made: our calls and
the drain are taken out. The report on one of our calls, sent at s and
answered at r (so the server's moment is in [s, r]), bounds P there:

    P >= (used - 1) - (our calls sent by r, less those refused) + drain · s
    P <= used - (our calls answered before s, and this one) + drain · r

(the count is of whole calls and includes the reported one, so the level is
less than one call below `used`). Between an earlier report a and a later
report b, other apps made at least lower(b) - upper(a) calls: every call of
ours that was sent but maybe not yet counted, and every moment the server
might have taken, is given to us, never to them. That holds only while the
bucket surely never ran dry in between; a report of `used` proves the bucket
busy until (used - 1) / drain seconds after its call was sent, and a stretch
of such proofs without a gap is where the estimator learns.

The estimate is that lower bound over a window reaching back up to two
bucket-times (capacity / drain), divided by the window's length and never by
less than a quarter bucket-time, so that a short burst of another app is not
read as a high rate. While the stretch is younger than one bucket-time, the
best of its windows may only raise the estimate; after that the window from
the oldest report sets it, so the estimate follows an app that slows down or
stops; outside a stretch it decays with a time constant of two bucket-times.
A real app using the bucket steadily is seen within about a bucket-time, a few
calls short (those the uncertainty absorbs), and nothing our own calls can
explain is ever taken for another app.
"""

from __future__ import annotations

import math
from collections import deque
from typing import NamedTuple


class Ticket(NamedTuple):
    """One of our calls as the estimator saw it go out; its report is read with it."""

    sent_at: float
    #: Our calls answered (so surely counted by the server) before this one was sent.
    counted_before: int


class ForeignUse:
    """Calls per second other apps make on the bucket: a lower bound, decayed."""

    __slots__ = ("_baselines", "_busy_until", "_counted", "_drain", "_rate", "_rate_at", "_refused", "_sent")

    def __init__(self) -> None:
        self._sent = 0
        self._refused = 0
        self._counted = 0
        #: The drain the current stretch's potentials were computed with.
        self._drain = 0.0
        #: Until when the bucket is surely busy, from the reports of the current stretch.
        self._busy_until = -math.inf
        #: (sent at, upper bound of the potential) of reports that may open a window.
        self._baselines: deque[tuple[float, float]] = deque()
        self._rate = 0.0
        self._rate_at = 0.0

    def __repr__(self) -> str:
        return f"ForeignUse(rate={self._rate:.3g}/s, sent={self._sent}, refused={self._refused})"

    def sent(self, now: float) -> Ticket:
        """One of our calls goes out now."""
        self._sent += 1
        return Ticket(now, self._counted)

    def rate(self, now: float, capacity: float, drain: float) -> float:
        """The estimate at `now`, in calls per second."""
        if self._rate <= 0:
            return 0.0
        elapsed = max(0.0, now - self._rate_at)
        return self._rate * math.exp(-elapsed / (2 * _bucket_time(capacity, drain)))

    def report(
        self,
        ticket: Ticket | None,
        now: float,
        used: float | None,
        capacity: float,
        drain: float,
        counted: bool = True,
    ) -> None:
        """The answer to the call of `ticket` came back at `now` with the level `used`
        (None: no level). `counted` is False for a call the server refused (429)."""
        if not counted:
            self._refused += 1
        if ticket is not None and used is not None and drain > 0:
            self._learn(ticket, now, used, capacity, drain, counted)
        if counted and used is not None:
            self._counted += 1

    def _learn(
        self, ticket: Ticket, now: float, used: float, capacity: float, drain: float, counted: bool
    ) -> None:
        lower = (used - 1) - (self._sent - self._refused) + drain * ticket.sent_at
        upper = used - (ticket.counted_before + counted) + drain * now
        busy_until = ticket.sent_at + (used - 1) / drain
        if drain != self._drain or now > self._busy_until:
            # The bucket may have run dry since the last report: a new stretch.
            self._baselines.clear()
            self._drain, self._busy_until = drain, busy_until
        else:
            if self._baselines:
                self._sample(lower, now, capacity, drain)
            self._busy_until = max(self._busy_until, busy_until)
        if busy_until >= now:  # busy from this report's moment on: it may open a window
            self._add_baseline(ticket.sent_at, upper)

    def _sample(self, lower: float, now: float, capacity: float, drain: float) -> None:
        bucket_time = _bucket_time(capacity, drain)
        baselines = self._baselines
        while len(baselines) > 1 and baselines[1][0] <= now - 2 * bucket_time:
            baselines.popleft()
        since, upper = baselines[0]
        if now - since >= bucket_time:  # a full window: it sets the estimate
            self._rate, self._rate_at = _rate(lower - upper, now - since, bucket_time, drain), now
            return
        # A stretch just begun: the best of its windows may raise the estimate.
        sample = max(_rate(lower - upper, now - since, bucket_time, drain) for since, upper in baselines)
        if sample > self.rate(now, capacity, drain):
            self._rate, self._rate_at = sample, now

    def _add_baseline(self, sent_at: float, upper: float) -> None:
        """Keep a report that may open a window, and drop those it beats: a later
        moment with no higher bound on the potential yields the larger sample."""
        baselines = self._baselines
        while baselines and baselines[-1][1] >= upper:
            baselines.pop()
        baselines.append((sent_at, upper))


def _rate(calls: float, window: float, bucket_time: float, drain: float) -> float:
    """Other apps' `calls` over `window` seconds as a rate, the window never taken
    shorter than a quarter bucket-time, nor the rate above the drain."""
    return min(drain, max(0.0, calls) / max(window, bucket_time / 4))


def _bucket_time(capacity: float, drain: float) -> float:
    """Seconds the bucket takes to drain from full."""
    return max(capacity, 1.0) / drain
