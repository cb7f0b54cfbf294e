"""Run every benchmark, print one table and write benchmarks/RESULTS.md.

    python -m benchmarks              # the real runs (a few minutes), then RESULTS.md
    python -m benchmarks --quick      # tiny sizes: checks that everything still runs
    python -m benchmarks --only overhead --only memory

Each benchmark module has `run(quick) -> rows`; a row is one figure beside its
target and whether the target was met (None for figures shown for comparison).
Servers run in processes of their own, so their CPU time is not the client's.
RESULTS.md records the machine, the Python, the date and the command with the
table, and under it, for each missed target, what limits it.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import shutil
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from benchmarks.common import Row, machine, row

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "RESULTS.md"
#: RESULTS.md keeps this section, to its end, when it is written again: it records
#: long runs at the issue's settings that `python -m benchmarks` does not make.
KEPT = "## Pacing at the issue's settings"


def _models(quick: bool) -> list[Row]:
    from benchmarks import bench_models

    result = bench_models.run(2_000 if quick else 20_000, 100, 1 if quick else 5)
    ratio = result["ratio"]
    return [row(
        "Models: structuring / json.loads time", f"{ratio:.2f}", "<= 1.00", ratio <= 1.0,
        f"{int(result['records']):,} products in pages of 100: json.loads {result['json_rps']:,.0f} rec/s, "
        f"structure {result['structure_rps']:,.0f} rec/s",
        **result,
    )]


def _redis(quick: bool) -> list[Row]:
    if importlib.util.find_spec("benchmarks.bench_redis") is None:
        return [row("Redis: shared bucket", "skipped", "-", None, "benchmarks/bench_redis.py is not there")]
    if shutil.which("redis-server") is None:
        return [row("Redis: shared bucket", "skipped", "-", None, "redis-server is not installed")]
    module = importlib.import_module("benchmarks.bench_redis")
    return [_redis_row(r) for r in module.run(quick=quick)]


def _redis_row(raw: dict[str, object]) -> Row:
    """bench_redis rows carry their own fields; put them in the common shape."""
    if "name" in raw and "figure" in raw:
        return {"target": "-", "met": None, "note": "", **raw}
    processes, mode = raw.get("processes", "?"), raw.get("mode", "?")
    efficiency = raw.get("efficiency")
    throttled = raw.get("throttled_429")
    shared = mode == "redis"
    met = None
    if shared and isinstance(efficiency, (int, float)) and isinstance(throttled, int):
        met = efficiency >= 0.9 and throttled == 0
    runs = raw.get("runs", 1)
    spread = f"worst of {runs} runs (median {raw.get('median_efficiency')}): " if runs != 1 else ""
    return row(
        f"Redis: {processes} process(es), {mode} bucket" + ("" if shared else " (comparison)"),
        f"{efficiency:.3f}" if isinstance(efficiency, (int, float)) else str(efficiency),
        ">= 0.9 and 0 × 429" if shared else "-", met,
        f"{spread}{raw.get('requests')} requests, {throttled} × 429 in all, {raw.get('seconds')} s "
        f"vs bound {raw.get('bound_seconds')} s",
        **raw,
    )


def _module(name: str) -> Callable[[bool], list[Row]]:
    def run(quick: bool) -> list[Row]:
        module = importlib.import_module(f"benchmarks.bench_{name}")
        rows: list[Row] = module.run(quick=quick)
        return rows

    return run


#: In the order of the issue; models and redis last.
BENCHMARKS: dict[str, Callable[[bool], list[Row]]] = {
    "ratelimit": _module("ratelimit"),
    "pacing": _module("pacing"),
    "economy": _module("economy"),
    "overhead": _module("overhead"),
    "malls": _module("malls"),
    "memory": _module("memory"),
    "models": _models,
    "redis": _redis,
}


def _met(value: object) -> str:
    return {True: "yes", False: "**no**", None: ""}.get(value if isinstance(value, bool) else None, "")


def table(rows: list[Row], markdown: bool) -> str:
    header = ("Benchmark", "Figure", "Target", "Met")
    lines = [(str(r["name"]), str(r["figure"]), str(r["target"]), _met(r["met"])) for r in rows]
    if markdown:
        out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        out += ["| " + " | ".join(cell.replace("|", "\\|") for cell in line) + " |" for line in lines]
        return "\n".join(out)
    widths = [max(len(h), *(len(line[i].replace("*", "")) for line in lines)) for i, h in enumerate(header)]
    fmt = "  ".join(f"{{:{w}}}" for w in widths)
    out = [fmt.format(*header), fmt.format(*("-" * w for w in widths))]
    out += [fmt.format(*(cell.replace("*", "") for cell in line)) for line in lines]
    return "\n".join(out)


def write_results(rows: list[Row], command: str, seconds: float) -> None:
    info = machine()
    notes = [r for r in rows if r.get("note")]
    missed = [r for r in rows if r.get("met") is False]
    text = [
        "# Benchmark results",
        "",
        f"- Command: `{command}` (from the repository root, {seconds:.0f} s)",
        f"- Date: {info['date']}",
        f"- Machine: {info['platform']}, {info['cpus']} CPUs ({info['cpu']})",
        f"- Python: {info['python']}",
        "",
        "Servers (the sandbox, or a synthetic one) run in their own processes; ratios are",
        "taken within one run, since the machine is shared and its speed varies.",
        "",
        table(rows, markdown=True),
        "",
    ]
    if missed:
        text += ["## What limits the missed targets", ""]
        for r in missed:
            text.append(f"- **{r['name']}**: {r.get('limit') or r.get('note')}")
        text.append("")
    text += ["## Details", ""]
    text += [f"- {r['name']}: {r['note']}" for r in notes]
    text.append("")
    text += kept_section()
    RESULTS.write_text("\n".join(text), encoding="utf-8")


def kept_section() -> list[str]:
    """The section of RESULTS.md that a new run leaves as it is (see `KEPT`)."""
    try:
        old = RESULTS.read_text(encoding="utf-8")
    except OSError:
        return []
    at = old.find("\n" + KEPT)
    return [old[at + 1 :].rstrip("\n"), ""] if at >= 0 else []


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes; RESULTS.md is not written")
    parser.add_argument("--only", action="append", choices=sorted(BENCHMARKS), help="run just these")
    parser.add_argument("--no-write", action="store_true", help="do not write RESULTS.md")
    args = parser.parse_args(argv)
    names = args.only or list(BENCHMARKS)
    rows: list[Row] = []
    started = time.perf_counter()
    failed = False
    for name in names:
        print(f"== {name}", file=sys.stderr, flush=True)
        t0 = time.perf_counter()
        try:
            got = BENCHMARKS[name](args.quick)
        except Exception as exc:  # one broken benchmark must not hide the others
            traceback.print_exc()
            got = [row(f"{name}: failed", "error", "-", False, f"{type(exc).__name__}: {exc}")]
            failed = True
        rows += got
        print(f"   {name}: {time.perf_counter() - t0:.1f} s", file=sys.stderr, flush=True)
    seconds = time.perf_counter() - started
    print(table(rows, markdown=False))
    if not args.quick and not args.no_write and not args.only:
        command = "python -m benchmarks"
        write_results(rows, command, seconds)
        print(f"\nwrote {RESULTS.relative_to(HERE.parent)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
