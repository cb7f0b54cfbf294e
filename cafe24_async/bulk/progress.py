"""The progress display of a bulk write, as the export shows its own.

On a terminal one status line is redrawn in place (rows done of all, calls,
bucket level, quota usage, rate, ETA); elsewhere (a log file, CI) a plain line
every few seconds. It writes to stderr.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO


def _duration(seconds: float) -> str:
    seconds = max(0, int(seconds))
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


class BulkProgress:
    def __init__(
        self, label: str, stream: TextIO | None = None, live: bool | None = None,
        interval: float | None = None,
    ) -> None:
        self.label = label
        self.stream = stream or sys.stderr
        self.live = self.stream.isatty() if live is None else live
        self.interval = interval if interval is not None else (0.2 if self.live else 5.0)
        self._started = time.monotonic()
        self._last = 0.0
        self._width = 0

    def line(self, done: int, total: int, calls: int, level: float | None, usage: float | None) -> str:
        elapsed = max(1e-9, time.monotonic() - self._started)
        rate = done / elapsed
        parts = [f"{self.label}: {done:,}/{total:,} rows", f"{calls:,} calls"]
        if level is not None:
            parts.append(f"bucket {level:.0f}")
        if usage is not None:
            parts.append(f"quota {usage:.0f}%")
        parts.append(f"{rate:,.1f} rows/s")
        if rate > 0 and total > done:
            parts.append(f"ETA {_duration((total - done) / rate)}")
        parts.append(f"elapsed {_duration(elapsed)}")
        return " | ".join(parts)

    def update(
        self, done: int, total: int, calls: int, level: float | None, usage: float | None, force: bool = False
    ) -> None:
        now = time.monotonic()
        if not force and now - self._last < self.interval:
            return
        self._last = now
        text = self.line(done, total, calls, level, usage)
        if self.live:
            self.stream.write("\r" + text + " " * max(0, self._width - len(text)))
            self._width = len(text)
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def finish(self, summary: str) -> None:
        if self.live and self._width:
            self.stream.write("\n")
        self.stream.write(summary + "\n")
        self.stream.flush()
