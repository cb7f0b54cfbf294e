"""The progress display of an export.

On a terminal one status line is redrawn in place (records, requests, bucket
level, rate, ETA); elsewhere (a log file, CI) a plain line is printed every few
seconds. It writes to stderr so that `--out -` keeps stdout for the records.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO


def _duration(seconds: float) -> str:
    seconds = max(0, int(seconds))
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


class Progress:
    def __init__(
        self,
        label: str,
        stream: TextIO | None = None,
        live: bool | None = None,
        interval: float | None = None,
    ) -> None:
        self.label = label
        self.stream = stream or sys.stderr
        self.live = self.stream.isatty() if live is None else live
        self.interval = interval if interval is not None else (0.2 if self.live else 5.0)
        self._started = time.monotonic()
        self._last = 0.0
        self._line_len = 0

    def line(self, records: int, requests: int, level: float, capacity: float, expected: int | None) -> str:
        elapsed = max(1e-9, time.monotonic() - self._started)
        rate = records / elapsed
        parts = [
            f"{self.label}: {records:,} records",
            f"{requests:,} requests",
            f"bucket {level:.0f}/{capacity:.0f}",
            f"{rate:,.1f} rec/s",
        ]
        if expected and rate > 0 and expected >= records:
            parts.append(f"ETA {_duration((expected - records) / rate)}")
        parts.append(f"elapsed {_duration(elapsed)}")
        return " | ".join(parts)

    def update(
        self, records: int, requests: int, level: float, capacity: float, expected: int | None,
        force: bool = False,
    ) -> None:
        now = time.monotonic()
        if not force and now - self._last < self.interval:
            return
        self._last = now
        text = self.line(records, requests, level, capacity, expected)
        if self.live:
            pad = max(0, self._line_len - len(text))
            self.stream.write("\r" + text + " " * pad)
            self._line_len = len(text)
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def finish(self, summary: str) -> None:
        if self.live and self._line_len:
            self.stream.write("\n")
        self.stream.write(summary + "\n")
        self.stream.flush()
