"""Tokens under stress: several processes, failing networks, rejected and cancelled refreshes.

Cafe24 rotates the refresh token on every use, so a refresh must be done once,
by one holder, and its result saved before anything else happens. These tests
share one `FileTokenStore` file between real processes, break the network under
a refresh, and cancel a caller in the middle of one.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
import pytest_asyncio

from cafe24_async import Cafe24, Cafe24ConnectionError, FileTokenStore, ReauthorizeError, RetrySettings, Token
from cafe24_async.sandbox import Sandbox
from tests.conftest import SandboxFactory

MALL = "acme"

CHILD = r"""
import asyncio, json, os, sys
from cafe24_async import Cafe24, FileTokenStore, RetrySettings

async def main(base_url: str, store_path: str, barrier: str, rounds: str) -> None:
    print("ready", flush=True)
    for round_no in range(int(rounds)):
        while not os.path.exists(f"{barrier}.{round_no}"):
            await asyncio.sleep(0.001)
        async with Cafe24(client_id=os.environ["SB_CLIENT_ID"], client_secret=os.environ["SB_CLIENT_SECRET"],
                          token_store=FileTokenStore(store_path), base_url=base_url, leak_rate=1000.0,
                          max_per_second=None, retry=RetrySettings(base_delay=0.001)) as api:
            mall = api.mall("acme")
            try:
                results = await asyncio.gather(*(mall.admin.products.get(1 + i % 20) for i in range(10)))
            except Exception as exc:
                print(json.dumps({"error": type(exc).__name__}), flush=True)
                return
            print(json.dumps({"ok": len(results), "refreshes": mall.stats.refreshes}), flush=True)

asyncio.run(main(*sys.argv[1:]))
"""
PROCESSES = 3
ROUNDS = 4


async def save_expired(sb: Sandbox, store: FileTokenStore) -> Token:
    """A real token pair whose access token has expired (on both sides)."""
    issued = Token.from_response(sb.issue_token(MALL))
    sb.expire_access_token(MALL)
    stale = Token(access_token=issued.access_token, refresh_token=issued.refresh_token,
                  expires_at=datetime.now(UTC) - timedelta(seconds=5),
                  refresh_token_expires_at=issued.refresh_token_expires_at)
    await store.save(MALL, stale)
    return stale


def client(sb: Sandbox, store: FileTokenStore, base_url: str | None = None, **options: object) -> Cafe24:
    settings: dict[str, object] = {"leak_rate": 1000.0, "max_per_second": None,
                                   "retry": RetrySettings(max_attempts=2, base_delay=0.001)}
    settings.update(options)
    return Cafe24(client_id=sb.config.client_id, client_secret=sb.config.client_secret, token_store=store,
                  base_url=base_url or sb.base_url, **settings)  # type: ignore[arg-type]


async def test_processes_sharing_a_token_file_refresh_once(
    make_sandbox: SandboxFactory, tmp_path: Path
) -> None:
    """Each round, every process starts at once on an expired token: one refresh per round."""
    sb = await make_sandbox(malls=(MALL,), products=20)
    path = tmp_path / "tokens.json"
    barrier = tmp_path / "go"
    env = {**os.environ, "SB_CLIENT_ID": sb.config.client_id, "SB_CLIENT_SECRET": sb.config.client_secret}
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable, "-c", CHILD, sb.base_url, str(path), str(barrier), str(ROUNDS),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env,
        )
        for _ in range(PROCESSES)
    ]
    streams = [proc.stdout for proc in procs]
    assert all(stream is not None for stream in streams)
    for stream in streams:  # every process imported and waiting
        assert (await asyncio.wait_for(stream.readline(), 30)).strip() == b"ready"  # type: ignore[union-attr]
    for round_no in range(ROUNDS):
        stale = await save_expired(sb, FileTokenStore(path))
        (tmp_path / f"go.{round_no}").touch()
        reports = [json.loads(await asyncio.wait_for(stream.readline(), 30)) for stream in streams]  # type: ignore[union-attr]
        assert [r.get("ok") for r in reports] == [10] * PROCESSES, reports
        assert sorted(r["refreshes"] for r in reports) == [0] * (PROCESSES - 1) + [1]  # the others re-read
        saved = await FileTokenStore(path).load(MALL)
        assert saved is not None and saved.refresh_token != stale.refresh_token
    for proc in procs:
        _, err = await asyncio.wait_for(proc.communicate(), 30)
        assert proc.returncode == 0, err.decode()
    stats = sb.stats(MALL)
    assert stats.refreshes == ROUNDS and stats.invalid_grants == 0


async def test_two_clients_in_one_process_sharing_a_file_refresh_once(
    make_sandbox: SandboxFactory, tmp_path: Path
) -> None:
    sb = await make_sandbox(malls=(MALL,), products=20)
    path = tmp_path / "tokens.json"
    await save_expired(sb, FileTokenStore(path))
    apis = [client(sb, FileTokenStore(path)) for _ in range(3)]  # separate stores: the file lock decides
    try:
        results = await asyncio.gather(
            *(api.mall(MALL).admin.products.get(1 + i % 20) for api in apis for i in range(40))
        )
    finally:
        for api in apis:
            await api.close()
    assert len(results) == 120
    assert sb.stats(MALL).refreshes == 1 and sb.stats(MALL).invalid_grants == 0


@pytest_asyncio.fixture
async def dropping_server() -> AsyncIterator[int]:
    """A TCP server that reads a request and hangs up without answering."""

    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(65536)
        writer.close()

    server = await asyncio.start_server(hang_up, "127.0.0.1", 0)
    yield server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()


def closed_port() -> int:
    """A loopback port with nothing listening on it (connections are refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize("failure", ["refused", "dropped"])
async def test_a_refresh_failing_on_the_network_keeps_the_stored_token(
    make_sandbox: SandboxFactory, tmp_path: Path, dropping_server: int, failure: str
) -> None:
    sb = await make_sandbox(malls=(MALL,), products=20)
    path = tmp_path / "tokens.json"
    stale = await save_expired(sb, FileTokenStore(path))
    before = path.read_bytes()
    port = closed_port() if failure == "refused" else dropping_server
    broken = client(sb, FileTokenStore(path), base_url=f"http://127.0.0.1:{port}/{{mall_id}}")
    async with broken:
        with pytest.raises(Cafe24ConnectionError):
            await broken.mall(MALL).admin.products.count()
    assert path.read_bytes() == before  # the refresh token was not lost or overwritten
    async with client(sb, FileTokenStore(path)) as api:  # the network is back: the kept token works
        assert await api.mall(MALL).admin.products.count() == 20
    assert sb.stats(MALL).refreshes == 1 and sb.stats(MALL).invalid_grants == 0
    saved = await FileTokenStore(path).load(MALL)
    assert saved is not None and saved.refresh_token != stale.refresh_token


async def test_a_spent_refresh_token_asks_for_reauthorization(
    make_sandbox: SandboxFactory, tmp_path: Path
) -> None:
    """Another copy of the token file was refreshed first: invalid_grant, a clear error, file kept."""
    sb = await make_sandbox(malls=(MALL,), products=20)
    ours, theirs = tmp_path / "ours.json", tmp_path / "theirs.json"
    stale = await save_expired(sb, FileTokenStore(ours))
    theirs.write_bytes(ours.read_bytes())
    async with client(sb, FileTokenStore(theirs)) as api:
        await api.mall(MALL).admin.products.count()  # spends the shared refresh token
    before = ours.read_bytes()
    async with client(sb, FileTokenStore(ours)) as api:
        with pytest.raises(ReauthorizeError) as info:
            await api.mall(MALL).admin.products.count()
    assert info.value.mall_id == MALL and "re-authorize" in str(info.value)
    assert stale.refresh_token is not None and stale.refresh_token not in str(info.value)
    assert ours.read_bytes() == before
    assert sb.stats(MALL).invalid_grants == 1


async def test_a_caller_cancelled_during_its_refresh_still_saves_the_new_pair(
    make_sandbox: SandboxFactory, tmp_path: Path
) -> None:
    """The server has rotated the pair when the caller is cancelled: the pair must not be lost."""
    sb = await make_sandbox(malls=(MALL,), products=20)
    path = tmp_path / "tokens.json"
    stale = await save_expired(sb, FileTokenStore(path))
    caller: asyncio.Task[int] | None = None

    async def on_request_end(
        session: aiohttp.ClientSession, ctx: object, params: aiohttp.TraceRequestEndParams
    ) -> None:
        if params.url.path.endswith("/oauth/token") and caller is not None:
            caller.cancel()  # the answer's headers are in; its body is not read yet

    trace = aiohttp.TraceConfig()
    trace.on_request_end.append(on_request_end)
    async with client(sb, FileTokenStore(path), trace_configs=[trace]) as api:
        mall = api.mall(MALL)
        caller = asyncio.create_task(mall.admin.products.count())
        with pytest.raises(asyncio.CancelledError):
            await caller
        caller = None
        saved = await FileTokenStore(path).load(MALL)
        assert saved is not None and saved.refresh_token != stale.refresh_token
        assert await mall.admin.products.count() == 20  # no re-authorization needed
    assert sb.stats(MALL).refreshes == 1 and sb.stats(MALL).invalid_grants == 0
