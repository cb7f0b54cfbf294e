"""Memory: peak RSS of the export command while it streams N records to JSONL.

The synthetic server (its own process) makes product records on the fly, so a
million records need no dataset anywhere, and reports a bucket that never
fills. The export is the real command line, run as a child process:

    python -m cafe24_async export products --mall bench --out FILE.jsonl
        --base-url http://127.0.0.1:PORT/{mall_id} --token-file F --client-id bench
        --leak-rate 1000000 --max-per-second 0 --quiet

and its peak resident set size is read from the kernel when it exits
(`os.wait4`: that child's own `ru_maxrss`). Target: under 100 MB and flat,
whatever N (pages are written as they come; nothing grows with N).

    python -m benchmarks.bench_memory [--quick]
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time

from benchmarks.common import ROOT, Row, Server, row, serve, synthetic_token

LIMIT_MB = 100.0
#: Peak RSS at the largest N may be at most this much above the smallest.
FLAT_MB = 10.0
TIMEOUT = 900.0


def export_peak(server: Server, records: int) -> tuple[float, float, int]:
    """(peak RSS in MB, seconds, bytes written) of one export of `records` products."""
    mall = f"n{records}"  # the synthetic server's mall of that many products
    with tempfile.TemporaryDirectory(prefix="cafe24-bench-") as tmp:
        tokens = os.path.join(tmp, "tokens.json")
        with open(tokens, "w", encoding="utf-8") as fh:
            json.dump({mall: synthetic_token(mall)}, fh)
        out = os.path.join(tmp, "products.jsonl")
        command = [
            sys.executable, "-m", "cafe24_async", "export", "products", "--mall", mall, "--out", out,
            "--base-url", server.base_url, "--token-file", tokens, "--client-id", "bench",
            "--leak-rate", "1000000", "--max-per-second", "0", "--quiet",
        ]
        env = dict(os.environ, CAFE24_CLIENT_SECRET="bench-secret")
        started = time.perf_counter()
        child = subprocess.Popen(command, cwd=ROOT, env=env, stdin=subprocess.DEVNULL)
        deadline = started + TIMEOUT
        while True:
            pid, status, usage = os.wait4(child.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                child.kill()
                os.wait4(child.pid, 0)
                raise RuntimeError(f"export of {records:,} records did not finish in {TIMEOUT:g}s")
            time.sleep(0.05)
        seconds = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        if child.returncode != 0:
            raise RuntimeError(f"export of {records:,} records failed (exit {child.returncode})")
        size = os.path.getsize(out)
        with open(out, "rb") as fh:
            lines = sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 20), b""))
        if lines != records:
            raise RuntimeError(f"exported {lines:,} lines, expected {records:,}")
        return usage.ru_maxrss / 1024, seconds, size


def run(quick: bool = False) -> list[Row]:
    sizes = (500, 3_000) if quick else (100_000, 1_000_000)
    with serve("synthetic") as server:
        results = [(n, *export_peak(server, n)) for n in sizes]
    rows = []
    for n, peak, seconds, size in results:
        rows.append(row(
            f"5. Memory: peak RSS streaming {n:,} records to JSONL", f"{peak:.0f} MB",
            f"< {LIMIT_MB:.0f} MB", peak < LIMIT_MB,
            f"the export command's own peak (ru_maxrss); {size / 1e6:,.0f} MB written in {seconds:.1f} s "
            f"({n / seconds:,.0f} records/s)",
            records=n, peak_mb=peak, seconds=seconds,
        ))
    low, high = results[0][1], results[-1][1]
    rows.append(row(
        "5. Memory: flat in N", f"{high - low:+.1f} MB from {results[0][0]:,} to {results[-1][0]:,}",
        f"<= +{FLAT_MB:.0f} MB", high - low <= FLAT_MB,
        "pages are written as they arrive; the checkpoint holds one cursor per mall",
    ))
    return rows


if __name__ == "__main__":
    for r in run(quick="--quick" in sys.argv):
        print(r["name"], "|", r["figure"], "|", r["target"], r["met"], "|", r["note"])
