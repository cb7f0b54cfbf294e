"""Pacing measured as in production: the sandbox in a process of its own, fresh clients.

A server in the client's own process hides what these tests look for: its
answers come back in the order it took the calls, at the moment it took them.
In a process of its own, answers overtake each other and each reports the
bucket's level at the server's moment, not the client's; requests sent
together over freshly opened connections reach it bunched. Each test runs a
scenario of `benchmarks.bench_pacing` several times, every run a fresh client
on a fresh mall (an empty bucket) started with a burst, and checks every run:

- not slower than 1.2 × max(drain bound, per-second rule) (a run is stopped
  at that limit and counted as slow);
- at most `max_per_second` requests in any one second at the server, from the
  server's own log of arrival times;
- with a real other app in the bucket (steady, or in bursts), the client still
  sees it, and its 429s stay few.

The rates are accelerated (drain 40-100/s, 20 calls per second) so the whole
file runs in about a minute.
"""

from __future__ import annotations

import pytest

from benchmarks.bench_pacing import Run, Scenario, Spread, measure

#: 60 calls at once: the per-second rule binds (2 s), the bucket fills with the first 40.
ALONE = Scenario("alone", "concurrent", 60, bucket=40, drain=40.0, per_second=20)
#: An export of 3,000 products: a count, then 30 pages from 20 at once.
EXPORT = Scenario("export", "export", 3000, bucket=40, drain=40.0, per_second=20)
#: The default 10 per second, 5xx answers retried, a drain that never binds.
RETRIES = Scenario("retries", "concurrent", 30, bucket=40, drain=200.0, per_second=10, errors=0.2)


def limit(scenario: Scenario) -> float:
    """When a run is stopped: it is slow by then."""
    return scenario.slowest * scenario.bound(scenario.size + 1) + 0.5


def report(scenario: Scenario, runs: list[Run]) -> str:
    seconds = ", ".join(f"{r.seconds:.2f}" for r in runs)
    return f"{scenario.title()}: {Spread.of(scenario, runs).text()}; runs: {seconds} s"


def slow(scenario: Scenario, run: Run) -> bool:
    return run.cut or run.seconds > scenario.slowest * scenario.bound(run.requests - run.throttled)


@pytest.mark.parametrize("scenario", [ALONE, EXPORT], ids=lambda s: s.name)
def test_every_fresh_run_paces_at_the_bound(scenario: Scenario) -> None:
    """No other app: no run may believe in one (the old estimate made 3 runs in 4
    of ALONE crawl at its 5% floor), and the server never sees more than the
    per-second rule allows, the first burst included."""
    runs = measure(scenario, 10, limit=limit(scenario))
    summary = report(scenario, runs)
    print(summary)
    assert not [r for r in runs if slow(scenario, r)], summary
    assert sum(r.throttled for r in runs) == 0, summary
    assert max(r.busiest for r in runs) <= (scenario.per_second or 0), summary
    assert max(r.foreign_seen for r in runs) < 0.05 * scenario.drain, summary


def test_no_second_at_the_server_holds_more_than_ten() -> None:
    """Default settings (10 per second), the first burst over new connections, and
    5xx answers retried: a one-second window slid over the server's arrival times
    never holds more than 10 requests of the mall."""
    runs = measure(RETRIES, 2)
    summary = report(RETRIES, runs)
    print(summary)
    assert all(r.requests > RETRIES.size for r in runs), "no retry happened: " + summary
    assert max(r.busiest for r in runs) <= 10, summary


#: How far the estimate may be from the other app's rate, and the share of 429s.
#: Bursts of 10 (a quarter of the bucket) come 2 or 3 to a window of two
#: bucket-times, so the estimate swings by a burst per window; and a burst takes the
#: room ahead of everyone, so calls already on their way meet a full bucket.
TOLERANCE = {0: (0.6, 1.2, 0.1), 10: (0.5, 1.5, 0.2)}


@pytest.mark.parametrize("burst", [0, 10], ids=["steady", "bursts"])
@pytest.mark.parametrize("share", [0.25, 0.75])
def test_a_real_other_app_is_seen(share: float, burst: int) -> None:
    """Another app uses a quarter or three quarters of the drain, steadily or in
    bursts of 10: the client sees it (its estimate near the truth), keeps to what
    is left, and few of its calls are refused."""
    scenario = Scenario("other", "concurrent", 100, bucket=40, drain=100.0, per_second=None,
                        share=share, burst=burst)
    low, high, refused = TOLERANCE[burst]
    runs = measure(scenario, 2, limit=limit(scenario))
    summary = report(scenario, runs) + "; seen: " + ", ".join(f"{r.foreign_seen:.1f}/s" for r in runs)
    print(summary)
    foreign = scenario.foreign
    assert all(low * foreign <= r.foreign_seen <= high * foreign for r in runs), summary
    assert not [r for r in runs if slow(scenario, r)], summary
    assert all(r.throttled <= refused * r.requests for r in runs), summary
