"""Overhead per request: the library's request path against bare aiohttp.

Against the synthetic server (a separate process, no rate limit that ever
binds), the same GETs of `/api/v2/admin/products/{no}` go out two ways, in
alternating rounds within one run:

- bare: a plain `aiohttp.ClientSession()` with default settings (not the
  library's session), `session.get(url, headers=Authorization)`, reading the
  body and `json.loads`-ing it;
- library: `mall.admin.products.get(no)`: validation, pacing, token, stats,
  rate-limit header sync, unwrapping; answers decoded by the standard library's
  `json`, as installed without extras;
- library with the `speed` extra: the same, decoded by orjson (shown when orjson
  is installed).

The figure is the library's requests per second over bare aiohttp's, counted
per second of the client's own CPU time (the best round of each): that is the
rate each reaches when the client is what limits it, which is what overhead
costs. Wall-clock requests per second are shown too, but on a shared two-core
machine they follow the server process and the neighbours as much as the
client. Target: >= 0.90.

The same comparison is also counted in instructions (rows 3d and 3e), when
valgrind is installed: each path runs alone under cachegrind, twice, and the
difference between a short and a long run, per request, is what one request
costs the client in user-space instructions. The count does not move with the
machine's load, so it settles what the timed rows only estimate on a busy host
(it does not see how fast the instructions run, nor the kernel's share).

    python -m benchmarks.bench_overhead [--quick]
"""

from __future__ import annotations

import asyncio
import cProfile
import json
import os
import pstats
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import aiohttp

from benchmarks.common import ROOT, Row, client_for, row, serve
from cafe24_async import jsonio

TARGET = 0.90
MALL = "bench"
PRODUCTS = 1000
#: Requests in the short and the long run of an instruction count.
COUNT_RUNS = (400, 2400)


Call = Callable[[int], Awaitable[Any]]


async def _timed(call: Call, requests: int, concurrency: int) -> tuple[float, float]:
    """(wall seconds, CPU seconds) for `requests` calls, `concurrency` at a time."""
    per_worker = requests // concurrency

    async def worker(first: int) -> None:
        for i in range(per_worker):
            await call(1 + (first + i * concurrency) % PRODUCTS)

    cpu = time.process_time()
    wall = time.perf_counter()
    await asyncio.gather(*(worker(w) for w in range(concurrency)))
    return time.perf_counter() - wall, time.process_time() - cpu


async def _calls_per_request(call: Call, concurrency: int) -> float:
    """Python function calls (aiohttp's, asyncio's, the library's, builtins) per request:
    a count that does not depend on the machine's speed or load."""
    requests = concurrency * 50
    profile = cProfile.Profile()
    profile.enable()
    await _timed(call, requests, concurrency)
    profile.disable()
    return float(pstats.Stats(profile).total_calls) / requests  # type: ignore[attr-defined]


class _AnswerFromMemory:
    """Stands in for the aiohttp session: every request gets the same answer at once,
    so what is timed is the library's own code and nothing of aiohttp's."""

    closed = False

    def __init__(self, status: int, headers: Any, body: bytes) -> None:
        self._answer = _Answer(status, headers, body)

    def request(self, *args: Any, **kwargs: Any) -> _Answer:
        return self._answer

    async def close(self) -> None:
        return None


class _Answer:
    def __init__(self, status: int, headers: Any, body: bytes) -> None:
        self.status, self.headers, self._body = status, headers, body

    async def __aenter__(self) -> _Answer:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None

    async def read(self) -> bytes:
        return self._body


async def _own_cpu_us(api: Any, mall: Any, rounds: int, calls: int = 5000) -> float:
    """The library's CPU per `products.get` beyond the `json.loads` bare aiohttp also does,
    answered from memory (best of `rounds`)."""
    answer = await api.session.get(mall.base_url + "/api/v2/admin/products/1", headers={
        "Authorization": f"Bearer {(await api.token_store.load(MALL)).access_token}"})
    body = await answer.read()
    real, api._session = api._session, _AnswerFromMemory(answer.status, answer.headers, body)
    try:
        best, decode = float("inf"), float("inf")
        for _ in range(rounds):
            cpu = time.process_time()
            for _ in range(calls):
                await mall.admin.products.get(1)
            best = min(best, (time.process_time() - cpu) / calls * 1e6)
            cpu = time.process_time()
            for _ in range(calls):
                json.loads(body)
            decode = min(decode, (time.process_time() - cpu) / calls * 1e6)
        return best - decode
    finally:
        api._session = real


async def _paths(api: Any, session: aiohttp.ClientSession, mall_url: str) -> dict[str, Call]:
    """The ways to fetch product `no`: "bare" aiohttp, the "library" with the standard
    json decoder, and with the `speed` extra's (when installed)."""
    mall = api.mall(MALL)
    token = await api.token_store.load(MALL)
    assert token is not None
    headers = {"Authorization": f"Bearer {token.access_token}"}
    base = mall_url + "/api/v2/admin/products/"
    fast = jsonio.loads

    async def bare(no: int) -> Any:
        async with session.get(base + str(no), headers=headers) as resp:
            body = await resp.read()
            return json.loads(body)["product"]

    async def library(no: int) -> Any:
        jsonio.loads = jsonio.loads_standard
        return await mall.admin.products.get(no)

    async def speed(no: int) -> Any:
        jsonio.loads = fast
        return await mall.admin.products.get(no)

    calls: dict[str, Call] = {"bare": bare, "library": library}
    if fast is not jsonio.loads_standard:
        calls["speed"] = speed
    return calls


async def _count_run(path: str, requests: int, concurrency: int = 16) -> None:
    """Warm one path up, then send `requests` (what one instruction count covers)."""
    with serve("synthetic", records=PRODUCTS) as server:
        api = await client_for(
            server, (MALL,), leak_rate=1e6, bucket_capacity=1_000_000, connections=concurrency
        )
        async with api:
            session = aiohttp.ClientSession()
            call = (await _paths(api, session, server.url_for(MALL)))[path]
            await _timed(call, concurrency * 20, concurrency)
            await _timed(call, requests, concurrency)
            await session.close()


def _instructions(path: str, requests: int) -> int:
    """User-space instructions of a whole `_count_run`, counted by cachegrind."""
    done = subprocess.run(
        ["valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null",
         sys.executable, "-m", "benchmarks.bench_overhead", "--count", path, str(requests)],
        cwd=ROOT, capture_output=True, text=True, timeout=1800,
        env={**os.environ, "PYTHONHASHSEED": "0"}, check=True,
    )
    found = re.search(r"I\s+refs:\s+([\d,]+)", done.stderr)
    if found is None:
        raise RuntimeError(f"no instruction count in valgrind's output: {done.stderr[-500:]}")
    return int(found.group(1).replace(",", ""))


def count_instructions(paths: tuple[str, ...]) -> dict[str, float]:
    """Instructions per request of each path: (long run - short run) / extra requests."""
    short, long = COUNT_RUNS
    jobs = [(path, n) for path in paths for n in (short, long)]
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        counts = dict(zip(jobs, pool.map(lambda job: _instructions(*job), jobs), strict=True))
    return {path: (counts[path, long] - counts[path, short]) / (long - short) for path in paths}


async def measure(requests: int, rounds: int, concurrency: int) -> dict[str, float]:
    with serve("synthetic", records=PRODUCTS) as server:
        api = await client_for(
            server, (MALL,), leak_rate=1e6, bucket_capacity=1_000_000, connections=concurrency
        )
        async with api:
            mall = api.mall(MALL)
            session = aiohttp.ClientSession()  # bare aiohttp: its own pool, default settings
            calls = await _paths(api, session, server.url_for(MALL))
            fast = jsonio.loads
            # Warm every path (connections open, token cached, code paths built).
            for call in calls.values():
                await _timed(call, concurrency * 20, concurrency)
            walls = dict.fromkeys(calls, float("inf"))
            cpus = dict.fromkeys(calls, float("inf"))
            for r in range(rounds):
                order = list(calls.items())
                for name, call in order if r % 2 == 0 else reversed(order):
                    wall, cpu = await _timed(call, requests, concurrency)
                    walls[name] = min(walls[name], wall)
                    cpus[name] = min(cpus[name], cpu)
            jsonio.loads = jsonio.loads_standard
            own_us = await _own_cpu_us(api, mall, rounds)
            calls_bare = await _calls_per_request(calls["bare"], concurrency)
            calls_library = await _calls_per_request(calls["library"], concurrency)
            jsonio.loads = fast
            await session.close()
            done = (requests // concurrency) * concurrency
            result = {
                "requests": float(done),
                "bare_rps": done / walls["bare"],
                "library_rps": done / walls["library"],
                "wall_ratio": walls["bare"] / walls["library"],
                "bare_cpu_us": cpus["bare"] / done * 1e6,
                "library_cpu_us": cpus["library"] / done * 1e6,
                "ratio": cpus["bare"] / cpus["library"],
                "own_cpu_us": own_us,
                "bare_calls": calls_bare,
                "library_calls": calls_library,
            }
            if "speed" in cpus:
                result["speed_cpu_us"] = cpus["speed"] / done * 1e6
                result["speed_ratio"] = cpus["bare"] / cpus["speed"]
            return result


def run(quick: bool = False) -> list[Row]:
    requests, rounds, concurrency = (400, 2, 8) if quick else (4000, 11, 16)
    result = asyncio.run(measure(requests, rounds, concurrency))
    ratio = result["ratio"]
    lib_us, bare_us = result["library_cpu_us"], result["bare_cpu_us"]
    note = (
        f"client CPU per request {lib_us:.0f} µs vs {bare_us:.0f} µs, i.e. "
        f"{1e6 / lib_us:,.0f} vs {1e6 / bare_us:,.0f} req per CPU-second; wall clock "
        f"{result['library_rps']:,.0f} vs {result['bare_rps']:,.0f} req/s ({result['wall_ratio']:.2f}); "
        f"{concurrency} in flight, best of {rounds} alternating rounds of {int(result['requests']):,}; "
        f"function calls per request {result['library_calls']:.0f} vs {result['bare_calls']:.0f}"
    )
    limit = (
        f"the library spends {lib_us - bare_us:.0f} µs of CPU per request beside aiohttp's "
        f"{bare_us:.0f} µs: checking the arguments, the mall's bucket and quota state (taken and "
        "re-synced from the response headers, with the estimate of other apps' use), the "
        "token's expiry, per-route counters and unwrapping. Each is a few µs of Python."
    )
    rows = [
        row(
            "3. Overhead: mall.admin.products.get / bare aiohttp (req/s)",
            f"{ratio:.2f}",
            f">= {TARGET:.2f}",
            ratio >= TARGET,
            note,
            limit=limit,
            **result,
        )
    ]
    if "speed_ratio" in result:
        speed_us = result["speed_cpu_us"]
        rows.append(row(
            "3b. Overhead with the speed extra (orjson) / bare aiohttp (req/s)",
            f"{result['speed_ratio']:.2f}",
            f">= {TARGET:.2f}",
            result["speed_ratio"] >= TARGET,
            f"client CPU per request {speed_us:.0f} µs vs {bare_us:.0f} µs (bare decodes with json.loads); "
            f"same run and rounds as row 3",
        ))
    rows.append(row(
        "3c. The library's own CPU per products.get beyond json.loads, answered from memory (µs)",
        f"{result['own_cpu_us']:.0f}",
        "-",
        None,
        "the same call with the session replaced by an answer kept in memory (standard json decoder): "
        "validation, pacing and its estimate of other apps, the token, the time limit, counters and "
        "unwrapping, with no aiohttp and no network. Not the whole difference to bare aiohttp: the "
        "library also asks less of aiohttp (one timer for every request in flight, the URL and "
        "headers made ready), and in a real run the same code costs more (caches are shared)",
    ))
    if not quick:
        rows += instruction_rows(("bare", "library", "speed") if "speed_cpu_us" in result
                                 else ("bare", "library"))
    return rows


def instruction_rows(paths: tuple[str, ...]) -> list[Row]:
    """Rows 3d and 3e: the same ratios in instructions per request (needs valgrind)."""
    if shutil.which("valgrind") is None:
        return [row("3d. Overhead in instructions per request (valgrind)", "not measured", f">= {TARGET:.2f}",
                    None, "valgrind is not installed")]
    per_request = count_instructions(paths)
    bare = per_request["bare"]
    names = {"library": "3d. Overhead in instructions: bare aiohttp / library, per request",
             "speed": "3e. Overhead in instructions with the speed extra: bare aiohttp / library"}
    rows = []
    for path in paths[1:]:
        ratio = bare / per_request[path]
        rows.append(row(
            names[path], f"{ratio:.3f}", f">= {TARGET:.2f}", ratio >= TARGET,
            f"{per_request[path]:,.0f} vs {bare:,.0f} user-space instructions per request (cachegrind; "
            f"runs of {COUNT_RUNS[1]:,} and {COUNT_RUNS[0]:,} requests, the difference per request)",
            instructions=per_request[path], bare_instructions=bare,
        ))
    return rows


if __name__ == "__main__":
    if sys.argv[1:2] == ["--count"]:  # one run of an instruction count (see count_instructions)
        asyncio.run(_count_run(sys.argv[2], int(sys.argv[3])))
        sys.exit(0)
    for r in run(quick="--quick" in sys.argv):
        print(r["name"], r["figure"], r["target"], r["note"])
