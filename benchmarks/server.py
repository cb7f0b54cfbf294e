"""Servers for the benchmarks, run in a process of their own.

A benchmark measures the client, so the server must not share its process (its
CPU time would be counted against the client) and must not be the bottleneck.
Two kinds:

- `sandbox`: the library's Cafe24-compatible sandbox (leaky bucket per mall,
  OAuth tokens, generated shop data), configured from a JSON object of
  `SandboxConfig` fields. Tokens for the malls are issued up front and written
  to `--tokens-out` in the `FileTokenStore` format.
- `synthetic`: a bare asyncio HTTP/1.1 server that makes product records on the
  fly, so a million records need no dataset in memory, and answers with a bucket
  too large to ever fill. Mall `n<N>` (say `n1000000`) holds N products, any
  other mall `--records`. It serves

      GET /{mall}/api/v2/admin/products?limit=&offset=&since_product_no=
      GET /{mall}/api/v2/admin/products/count
      GET /{mall}/api/v2/admin/products/{product_no}

Either prints `READY <port>` on one line once it accepts connections, and runs
until its standard input closes or it is terminated.

Two sandbox options serve the pacing benchmarks and tests:

- `--log-out FILE`: when the server stops, write each mall's API requests as the
  server saw them (arrival time on its monotonic clock, status, route) to FILE,
  so a test can check what reached the server in any one second;
- `--foreign-burst CALLS`: the other app of the config's `foreign_rate` makes
  its calls in bursts of CALLS at once instead of at a steady rate.

    python -m benchmarks.server --kind sandbox --config '{"leak_rate": 100}' --malls 10 --tokens-out t.json
    python -m benchmarks.server --kind sandbox --config '{"foreign_rate": 5}' --malls 2 \\
        --foreign-burst 10 --log-out requests.json
    python -m benchmarks.server --kind synthetic --records 1000000
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import sys
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import attrs

HOST = "127.0.0.1"
#: `X-Api-Call-Limit` of the synthetic server: a bucket no benchmark fills.
SYNTHETIC_LIMIT = "1/1000000"
PRODUCTS_PATH = "/api/v2/admin/products"


def mall_names(count: int, prefix: str = "m") -> tuple[str, ...]:
    """`count` mall ids that sort in creation order: m0000, m0001, ..."""
    width = max(4, len(str(count - 1)))
    return tuple(f"{prefix}{i:0{width}d}" for i in range(count))


# -- the sandbox ---------------------------------------------------------------------


def _sandbox_config(raw: dict[str, Any], malls: tuple[str, ...], logged: bool = False) -> Any:
    from cafe24_async.sandbox import FaultConfig, SandboxConfig

    settings = dict(raw)
    if "faults" in settings:
        settings["faults"] = FaultConfig(**settings["faults"])
    if "items_per_order" in settings:
        settings["items_per_order"] = tuple(settings["items_per_order"])
    if "dataset_end" in settings:
        settings["dataset_end"] = datetime.fromisoformat(settings["dataset_end"])
    if malls:
        settings["malls"] = malls
    elif "malls" in settings:
        settings["malls"] = tuple(settings["malls"])
    # Unless it is written out, nothing reads the request log: keep it from costing time.
    settings.setdefault("request_log_size", LOG_SIZE if logged else 1)
    return SandboxConfig(**settings)


#: Requests the sandbox keeps for `--log-out`.
LOG_SIZE = 1_000_000


@attrs.frozen
class SandboxRun:
    """How to run the sandbox: where its outputs go and which other app it plays."""

    port: int = 0
    tokens_out: str | None = None
    log_out: str | None = None
    #: The other app's calls per burst on every configured mall (0: a steady rate).
    foreign_burst: int = 0


async def run_sandbox(config: Any, run: SandboxRun, stop: asyncio.Event) -> None:
    from cafe24_async.sandbox import Sandbox

    sandbox = Sandbox(config, HOST, run.port)
    await sandbox.start()
    try:
        for mall_id in config.malls:
            sandbox.state.mall(mall_id).bucket.foreign_burst = run.foreign_burst
        if run.tokens_out:
            tokens = {mall_id: sandbox.issue_token(mall_id) for mall_id in config.malls}
            _write_json(run.tokens_out, tokens)
        print(f"READY {sandbox.port}", flush=True)
        await stop.wait()
    finally:
        await sandbox.close()
        if run.log_out:
            _write_json(run.log_out, request_log(sandbox))


def request_log(sandbox: Any) -> dict[str, list[list[Any]]]:
    """Each mall's API requests, oldest first: [arrival time, status, route path]."""
    log: dict[str, list[list[Any]]] = {}
    for entry in sandbox.requests:
        if entry.api in (None, "oauth") or not entry.mall_id:
            continue
        log.setdefault(entry.mall_id, []).append([entry.at, entry.status, entry.path])
    return log




def _write_json(path: str, data: Any) -> None:
    """Write `data` to `path` whole (a reader never sees half a file)."""
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(data, fh)
    os.replace(tmp, path)


# -- the synthetic server --------------------------------------------------------------


def product_template() -> dict[str, Any]:
    """A realistic product record (the sandbox's generator), to vary per product_no."""
    import random

    from cafe24_async.sandbox import SandboxConfig, generate

    config = SandboxConfig()
    created = config.dataset_end
    return generate.product(config, 1, created, random.Random(1), [24, 25])


class Catalogue:
    """Products 1..`records`, made when asked for."""

    def __init__(self, records: int) -> None:
        self.records = records
        self._template = product_template()
        self._single: dict[int, bytes] = {}

    def record(self, product_no: int) -> dict[str, Any]:
        record = dict(self._template)
        record["product_no"] = product_no
        record["product_code"] = f"P{product_no:09d}"
        record["product_name"] = f"Product {product_no}"
        record["price"] = f"{1000 + product_no % 9000}.00"
        return record

    def page(self, query: dict[str, str], records: int) -> bytes:
        limit = min(100, max(1, int(query.get("limit") or 10)))
        offset = max(0, int(query.get("offset") or 0))
        since = max(0, int(query.get("since_product_no") or 0))
        first = since + offset + 1
        last = min(records, first + limit - 1)
        products = [self.record(n) for n in range(first, last + 1)]
        return json.dumps({"products": products}, ensure_ascii=False).encode("utf-8")

    def one(self, product_no: int) -> bytes:
        body = self._single.get(product_no)
        if body is None:
            body = json.dumps({"product": self.record(product_no)}, ensure_ascii=False).encode("utf-8")
            if len(self._single) < 10_000:
                self._single[product_no] = body
        return body

    def answer(self, target: str) -> tuple[int, bytes]:
        parts = urlsplit(target)
        path = parts.path
        slash = path.find("/", 1)
        mall, rest = (path[1:slash], path[slash:]) if slash > 0 else (path[1:], "")
        records = int(mall[1:]) if mall[:1] == "n" and mall[1:].isdigit() else self.records
        if rest == PRODUCTS_PATH:
            query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
            return 200, self.page(query, records)
        if rest == PRODUCTS_PATH + "/count":
            return 200, json.dumps({"count": records}).encode()
        if rest.startswith(PRODUCTS_PATH + "/"):
            tail = rest[len(PRODUCTS_PATH) + 1 :]
            if tail.isdigit() and 0 < int(tail) <= records:
                return 200, self.one(int(tail))
        return 404, b'{"error":{"code":404,"message":"No API found for the requested URL"}}'


_REASONS = {200: "OK", 404: "Not Found"}


class HttpProtocol(asyncio.Protocol):
    """Just enough HTTP/1.1 for a keep-alive client sending GETs."""

    def __init__(self, answer: Callable[[str], tuple[int, bytes]]) -> None:
        self._answer = answer
        self._buffer = b""
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        out = []
        close = False
        while True:
            end = self._buffer.find(b"\r\n\r\n")
            if end < 0:
                break
            head = self._buffer[:end].decode("latin-1")
            lines = head.split("\r\n")
            length = 0
            for line in lines[1:]:
                name, _, value = line.partition(":")
                lowered = name.strip().lower()
                if lowered == "content-length":
                    length = int(value.strip() or 0)
                elif lowered == "connection" and value.strip().lower() == "close":
                    close = True
            if len(self._buffer) < end + 4 + length:
                break  # the body is still on its way
            self._buffer = self._buffer[end + 4 + length :]
            _method, target, _version = lines[0].split(" ", 2)
            status, body = self._answer(target)
            out.append(
                (
                    f"HTTP/1.1 {status} {_REASONS.get(status, 'Error')}\r\n"
                    "Content-Type: application/json; charset=utf-8\r\n"
                    f"Content-Length: {len(body)}\r\n"
                    f"X-Api-Call-Limit: {SYNTHETIC_LIMIT}\r\n"
                    "\r\n"
                ).encode("latin-1")
                + body
            )
        if self._transport is not None:
            if out:
                self._transport.write(b"".join(out))
            if close:
                self._transport.close()


async def run_synthetic(records: int, port: int, stop: asyncio.Event) -> None:
    catalogue = Catalogue(records)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: HttpProtocol(catalogue.answer), HOST, port, backlog=1024)
    bound = server.sockets[0].getsockname()[1]
    print(f"READY {bound}", flush=True)
    try:
        await stop.wait()
    finally:
        server.close()
        await server.wait_closed()


# -- running --------------------------------------------------------------------------


def _watch_stdin(loop: asyncio.AbstractEventLoop, stop: asyncio.Event) -> None:
    """Stop when the parent closes our standard input (it went away)."""
    fd = sys.stdin.fileno()

    def readable() -> None:
        try:
            data = os.read(fd, 65536)
        except OSError:
            data = b""
        if not data:
            loop.remove_reader(fd)
            stop.set()

    loop.add_reader(fd, readable)


async def main_async(args: argparse.Namespace) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    if not sys.stdin.isatty():
        _watch_stdin(loop, stop)
    if args.kind == "sandbox":
        malls = mall_names(args.malls) if args.malls else ()
        config = _sandbox_config(json.loads(args.config or "{}"), malls, logged=bool(args.log_out))
        run = SandboxRun(args.port, args.tokens_out, args.log_out, args.foreign_burst or 0)
        await run_sandbox(config, run, stop)
    else:
        await run_synthetic(args.records, args.port, stop)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.server", description=__doc__.split("\n")[0])
    parser.add_argument("--kind", choices=("sandbox", "synthetic"), default="sandbox")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port (printed after READY)")
    parser.add_argument("--config", help="JSON object of SandboxConfig fields (sandbox)")
    parser.add_argument("--malls", type=int, default=0, help="serve malls m0000.. (sandbox)")
    parser.add_argument("--tokens-out", help="write a token per mall here (sandbox)")
    parser.add_argument("--log-out", help="at exit, write each mall's requests here (sandbox)")
    parser.add_argument("--foreign-burst", type=int, metavar="CALLS",
                        help="the config's other app calls in bursts of CALLS (sandbox)")
    parser.add_argument("--records", type=int, default=1000, help="products served (synthetic)")
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
