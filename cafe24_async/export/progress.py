"""The progress display of an export, and the estimate of how many records it will hold.

On a terminal one status line is redrawn in place (records, requests, bucket
level, rate, ETA); elsewhere (a log file, CI) a plain line is printed every few
seconds. It writes to stderr so that `--out -` keeps stdout for the records.
At the end the summary takes the status line's place, so the run's length is
shown once.

Records count every run of the export: after a resume the display goes on from
what earlier runs wrote, and the rate (hence the ETA) is this run's own.

A read in date windows (orders: at most 3 months per request) learns each
window's count only when it reaches the window. `expected_total` estimates the
whole: the windows counted so far, and for the range not reached yet as many
records per second of range as those windows held. The estimate firms up as
counts arrive and is exact once the last window is counted.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TextIO

from cafe24_async.dates import korea_moment


def duration(seconds: float) -> str:
    """A length of time as people read it: `85 ms`, `3.0s`, `4m 05s`, `1h 02m`."""
    seconds = max(0.0, seconds)
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 60:
        return f"{seconds:.1f}s"
    whole = int(seconds)
    if whole < 3600:
        return f"{whole // 60}m {whole % 60:02d}s"
    return f"{whole // 3600}h {whole % 3600 // 60:02d}m"


def plural(n: int, word: str, words: str | None = None) -> str:
    """`1 count`, `2 counts`, `1 retry`, `3 retries` (with thousands separators)."""
    return f"{n:,} {word if n == 1 else (words or word + 's')}"


def _moment(text: Any, end: bool) -> datetime | None:
    """A range bound as a moment: a whole day's end is the start of the next day."""
    try:
        moment, whole_day = korea_moment(text)
    except (ValueError, TypeError, OverflowError):
        return None
    return moment + timedelta(days=1) if end and whole_day else moment


def expected_total(
    before_window: int, window_total: int | None, window: tuple[str, str] | None,
    whole_range: tuple[Any, Any] | None,
) -> int | None:
    """How many records a mall's read will hold in all, as far as the counts so far tell.

    `before_window` records came from earlier windows (and earlier runs), the
    current `window` holds `window_total`; the part of `whole_range` after the
    window is assumed to hold as many records per second as the range read so far.
    """
    if window_total is None:
        return None
    known = before_window + window_total
    if window is None or whole_range is None:
        return known
    start, end = _moment(whole_range[0], False), _moment(whole_range[1], True)
    reached = _moment(window[1], True)
    if start is None or end is None or reached is None:
        return known
    covered = (reached - start).total_seconds()
    rest = (end - reached).total_seconds()
    if covered <= 0 or rest <= 0:
        return known
    return known + round(known / covered * rest)


class Progress:
    def __init__(
        self,
        label: str,
        stream: TextIO | None = None,
        live: bool | None = None,
        interval: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.label = label
        self.stream = stream or sys.stderr
        self.live = self.stream.isatty() if live is None else live
        self.interval = interval if interval is not None else (0.2 if self.live else 5.0)
        self._clock = clock
        self._started = clock()
        self._last = -float("inf")
        self._line_len = 0

    def start(self) -> None:
        """The run starts now: elapsed time and the rate count from here (not from set-up)."""
        self._started = self._clock()
        self._last = -float("inf")

    def line(
        self, records: int, requests: int, level: float, capacity: float, expected: int | None,
        *, done: int | None = None,
    ) -> str:
        """The status line: `records` written by this run, `done` by every run (default: the same)."""
        done = records if done is None else done
        elapsed = max(1e-9, self._clock() - self._started)
        rate = records / elapsed
        total = f" of ~{expected:,}" if expected and expected >= done else ""
        parts = [
            f"{self.label}: {done:,}{total} records",
            plural(requests, "request"),
            f"bucket {level:.0f}/{capacity:.0f}",
            f"{rate:,.1f} rec/s",
        ]
        if expected and rate > 0 and expected >= done:
            parts.append(f"ETA {duration((expected - done) / rate)}")
        parts.append(f"elapsed {duration(elapsed)}")
        return " | ".join(parts)

    def update(
        self, records: int, requests: int, level: float, capacity: float, expected: int | None,
        force: bool = False, *, done: int | None = None,
    ) -> None:
        now = self._clock()
        if not force and now - self._last < self.interval:
            return
        self._last = now
        text = self.line(records, requests, level, capacity, expected, done=done)
        if self.live:
            pad = max(0, self._line_len - len(text))
            self.stream.write("\r" + text + " " * pad)
            self._line_len = len(text)
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def finish(self, summary: str) -> None:
        """The summary, in place of the live status line (its time is the run's one figure)."""
        if self.live and self._line_len:
            pad = max(0, self._line_len - len(summary))
            self.stream.write("\r" + summary + " " * pad + "\n")
        else:
            self.stream.write(summary + "\n")
        self.stream.flush()
