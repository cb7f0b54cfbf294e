"""What every benchmark shares: a server in its own process, clients wired to it, rows.

A benchmark starts its server with `serve(...)` (a `python -m benchmarks.server`
child process, so the server's CPU time is not the client's), builds clients
with `client_for(...)`, and returns rows made by `row(...)`: one figure beside
its target, and whether the target was met.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import select
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import attrs

from cafe24_async import Cafe24, MemoryTokenStore, Token
from cafe24_async.transport import PoolSettings

ROOT = Path(__file__).resolve().parent.parent
CLIENT_ID = "sandbox-client"
CLIENT_SECRET = "sandbox-secret"
#: Seconds a server may take to say READY (1,000 malls' data is made first).
START_TIMEOUT = 180.0

Row = dict[str, object]


def row(name: str, figure: str, target: str, met: bool | None, note: str = "", **extra: object) -> Row:
    """One result line: `met` is None for figures shown for comparison only."""
    return {"name": name, "figure": figure, "target": target, "met": met, "note": note, **extra}


@attrs.frozen
class Server:
    process: subprocess.Popen[str]
    port: int
    tokens_file: str | None
    #: With `serve(..., log=True)`: each mall's requests as the server saw them,
    #: [arrival time, status, route path], filled in once the server has stopped.
    requests: dict[str, list[list[Any]]] = attrs.field(factory=dict)

    @property
    def root_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        return self.root_url + "/{mall_id}"

    def url_for(self, mall_id: str) -> str:
        return f"{self.root_url}/{mall_id}"

    def tokens(self) -> dict[str, dict[str, Any]]:
        if self.tokens_file is None:
            return {}
        with open(self.tokens_file, encoding="utf-8") as fh:
            data: dict[str, dict[str, Any]] = json.load(fh)
        return data

    def cpu_seconds(self) -> float:
        """User + system CPU time the server process has used so far (Linux)."""
        try:
            fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        ticks = os.sysconf("SC_CLK_TCK")
        return (int(fields[11]) + int(fields[12])) / ticks


@contextlib.contextmanager
def serve(
    kind: str = "sandbox",
    *,
    config: dict[str, Any] | None = None,
    malls: int = 0,
    records: int = 0,
    log: bool = False,
    foreign_burst: int = 0,
) -> Iterator[Server]:
    """Run a benchmark server in a child process for the duration of the block.

    With `log` (sandbox), `Server.requests` holds what reached the server once
    the block is left; with `foreign_burst`, the other app of the config's
    `foreign_rate` calls in bursts of that many.
    """
    with tempfile.TemporaryDirectory(prefix="cafe24-bench-") as tmp:
        tokens_file = os.path.join(tmp, "tokens.json") if kind == "sandbox" else None
        log_file = os.path.join(tmp, "requests.json") if log else None
        command = [sys.executable, "-m", "benchmarks.server", "--kind", kind]
        if config is not None:
            command += ["--config", json.dumps(config)]
        if malls:
            command += ["--malls", str(malls)]
        if records:
            command += ["--records", str(records)]
        if tokens_file:
            command += ["--tokens-out", tokens_file]
        if log_file:
            command += ["--log-out", log_file]
        if foreign_burst:
            command += ["--foreign-burst", str(foreign_burst)]
        process = subprocess.Popen(
            command, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        server: Server | None = None
        try:
            port = _wait_ready(process)
            server = Server(process, port, tokens_file)
            yield server
        finally:
            _stop(process)
            if server is not None and log_file is not None and os.path.exists(log_file):
                with open(log_file, encoding="utf-8") as fh:
                    server.requests.update(json.load(fh))


def _wait_ready(process: subprocess.Popen[str]) -> int:
    assert process.stdout is not None
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        ready, _, _ = select.select([process.stdout], [], [], 0.5)
        if ready:
            line = process.stdout.readline()
            if line.startswith("READY "):
                return int(line.split()[1])
            if not line:
                break
        elif process.poll() is not None:
            break
    raise RuntimeError(f"benchmark server did not start (exit code {process.poll()})")


def _stop(process: subprocess.Popen[str]) -> None:
    if process.stdin is not None:
        with contextlib.suppress(OSError):
            process.stdin.close()
    if process.poll() is None:
        process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)
    if process.stdout is not None:
        process.stdout.close()


async def client_for(
    server: Server,
    malls: tuple[str, ...] | None = None,
    *,
    leak_rate: float,
    bucket_capacity: int = 40,
    connections: int = 64,
    **settings: Any,
) -> Cafe24:
    """A client for `server` with a token per mall, the per-second cap off."""
    store = MemoryTokenStore()
    tokens = server.tokens()
    for mall_id in malls if malls is not None else tuple(tokens):
        raw = tokens.get(mall_id) or synthetic_token(mall_id)
        await store.save(mall_id, Token.from_response(raw))
    settings.setdefault("max_per_second", None)
    return Cafe24(
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        token_store=store,
        base_url=server.base_url,
        analytics_base_url=server.root_url,
        dcollection_base_url=server.root_url,
        leak_rate=leak_rate,
        bucket_capacity=bucket_capacity,
        pool=PoolSettings(limit=connections, limit_per_host=connections),
        **settings,
    )


def synthetic_token(mall_id: str) -> dict[str, Any]:
    """A token response for the synthetic server (which does not check tokens)."""
    now = datetime.now(UTC)
    return {
        "access_token": f"bench-{mall_id}",
        "refresh_token": f"bench-refresh-{mall_id}",
        "expires_at": (now + timedelta(hours=2)).isoformat(timespec="seconds"),
        "refresh_token_expires_at": (now + timedelta(days=14)).isoformat(timespec="seconds"),
        "scopes": ["mall.read_product"],
        "mall_id": mall_id,
        "issued_at": now.isoformat(timespec="seconds"),
    }


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine() -> dict[str, str]:
    return {
        "platform": platform.platform(),
        "cpus": str(os.cpu_count()),
        "cpu": cpu_model(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


def ratio(a: float, b: float) -> float:
    return a / b if b else 0.0


def busiest_second(arrivals: list[float], period: float = 1.0) -> int:
    """The most requests that arrived within any closed window of `period` seconds."""
    times = sorted(arrivals)
    most = first = 0
    for last, at in enumerate(times):
        while times[first] < at - period:
            first += 1
        most = max(most, last - first + 1)
    return most
