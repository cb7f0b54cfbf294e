"""The sandbox in a process of its own, with a control port to read what it counted.

The Celery tests and benchmark run the sandbox apart from the workers and the
test (its CPU time must not be theirs, and a worker killed with -9 must not
take it along). Beside the API port it serves a small control API on another
loopback port:

    GET  /stats              each mall's counters: requests, 429s, 401s, token requests,
                             refreshes, invalid grants, the highest bucket level
    POST /expire             expire every current access token of every mall now
    GET  /ids/products       each mall's product numbers (every product it holds)
    GET  /ids/orders         each mall's order ids

It prints `READY <api port> <control port>` once both accept connections,
writes a token per mall to `--tokens-out` (the documented token response), and
stops when its standard input closes.

    python -m tests.celery.sandbox_process --config '{"leak_rate": 20}' --malls 50 --tokens-out t.json
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from aiohttp import web

from benchmarks.server import mall_names

ROOT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"
ID_FIELDS = {"products": "product_no", "orders": "order_id"}


def _config(raw: dict[str, Any], malls: tuple[str, ...]) -> Any:
    from cafe24_async.sandbox import SandboxConfig

    return SandboxConfig(**{**raw, "malls": malls, "request_log_size": 1})


def _control_app(sandbox: Any) -> web.Application:
    malls: tuple[str, ...] = sandbox.config.malls

    async def stats(_: web.Request) -> web.Response:
        answer = {}
        for mall_id in malls:
            s = sandbox.stats(mall_id)
            answer[mall_id] = {
                "requests": s.requests, "throttled": s.throttled, "unauthorized": s.unauthorized,
                "token_requests": s.token_requests, "refreshes": s.refreshes,
                "invalid_grants": s.invalid_grants, "max_level": s.max_level,
            }
        return web.json_response(answer)

    async def expire(_: web.Request) -> web.Response:
        return web.json_response({mall_id: sandbox.expire_access_token(mall_id) for mall_id in malls})

    async def ids(request: web.Request) -> web.Response:
        resource = request.match_info["resource"]
        field = ID_FIELDS.get(resource)
        if field is None:
            raise web.HTTPNotFound()
        answer = {m: [r[field] for r in getattr(sandbox.dataset(m), resource).records] for m in malls}
        return web.json_response(answer)

    app = web.Application()
    app.router.add_get("/stats", stats)
    app.router.add_post("/expire", expire)
    app.router.add_get("/ids/{resource}", ids)
    return app


async def _serve(config: Any, tokens_out: str) -> None:
    from cafe24_async.sandbox import Sandbox

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)

    def readable() -> None:
        if not os.read(sys.stdin.fileno(), 65536):
            loop.remove_reader(sys.stdin.fileno())
            stop.set()

    loop.add_reader(sys.stdin.fileno(), readable)
    async with Sandbox(config, HOST) as sandbox:
        runner = web.AppRunner(_control_app(sandbox), access_log=None, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, HOST, 0)
        await site.start()
        control_port = runner.addresses[0][1]
        _write_json(tokens_out, {mall_id: sandbox.issue_token(mall_id) for mall_id in config.malls})
        print(f"READY {sandbox.port} {control_port}", flush=True)
        try:
            await stop.wait()
        finally:
            await runner.cleanup()


def _write_json(path: str, data: Any) -> None:
    """Write `data` whole (a reader never sees half a file)."""
    Path(path + ".tmp").write_text(json.dumps(data), encoding="utf-8")
    os.replace(path + ".tmp", path)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.celery.sandbox_process")
    parser.add_argument("--config", default="{}", help="JSON object of SandboxConfig fields")
    parser.add_argument("--malls", type=int, required=True, help="serve malls m0000..")
    parser.add_argument("--tokens-out", required=True)
    args = parser.parse_args(argv)
    config = _config(json.loads(args.config), mall_names(args.malls))
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(config, args.tokens_out))


# -- the test's side ---------------------------------------------------------------------------


class SandboxProcess:
    """A running sandbox process: its URLs, the tokens it issued, and its control API."""

    def __init__(self, process: subprocess.Popen[str], port: int, control_port: int, tokens_file: str) -> None:
        self.process = process
        self.port = port
        self.control_port = control_port
        self.tokens_file = tokens_file

    @property
    def root_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def base_url(self) -> str:
        return self.root_url + "/{mall_id}"

    def tokens(self) -> dict[str, dict[str, Any]]:
        data: dict[str, dict[str, Any]] = json.loads(Path(self.tokens_file).read_text(encoding="utf-8"))
        return data

    def _call(self, method: str, path: str) -> Any:
        request = urllib.request.Request(f"http://{HOST}:{self.control_port}{path}", method=method)
        with urllib.request.urlopen(request, timeout=30) as answer:
            return json.loads(answer.read())

    def stats(self) -> dict[str, dict[str, Any]]:
        data: dict[str, dict[str, Any]] = self._call("GET", "/stats")
        return data

    def expire_tokens(self) -> dict[str, int]:
        data: dict[str, int] = self._call("POST", "/expire")
        return data

    def ids(self, resource: str) -> dict[str, list[Any]]:
        data: dict[str, list[Any]] = self._call("GET", f"/ids/{resource}")
        return data

    def cpu_seconds(self) -> float:
        return process_cpu_seconds(self.process.pid)


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds process `pid` has used (Linux), its threads included."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def sandbox_process(config: dict[str, Any], malls: int, start_timeout: float = 120.0) -> Iterator[SandboxProcess]:
    """Run the sandbox with `config` (SandboxConfig fields) for `malls` malls, for the block."""
    with tempfile.TemporaryDirectory(prefix="cafe24-sandbox-") as tmp:
        tokens_file = os.path.join(tmp, "tokens.json")
        command = [sys.executable, "-m", "tests.celery.sandbox_process", "--config", json.dumps(config),
                   "--malls", str(malls), "--tokens-out", tokens_file]
        process = subprocess.Popen(command, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        try:
            assert process.stdout is not None
            deadline = time.monotonic() + start_timeout
            line = ""
            while time.monotonic() < deadline and process.poll() is None:
                ready, _, _ = select.select([process.stdout], [], [], 0.5)
                if ready:
                    line = process.stdout.readline()
                    break
            if not line.startswith("READY "):
                raise RuntimeError(f"the sandbox process did not start (exit code {process.poll()})")
            _, port, control = line.split()
            yield SandboxProcess(process, int(port), int(control), tokens_file)
        finally:
            if process.stdin is not None:
                with contextlib.suppress(OSError):
                    process.stdin.close()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
            if process.stdout is not None:
                process.stdout.close()


if __name__ == "__main__":
    main()
