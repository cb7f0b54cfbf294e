"""The cafe24-async command against the sandbox: auth, call, sandbox serve, progress."""

from __future__ import annotations

import asyncio
import io
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import aiohttp

from cafe24_async import FileTokenStore
from cafe24_async.export.progress import Progress
from tests.conftest import SandboxFactory


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cafe24_async", *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=120)


async def test_auth_flow_and_call(make_sandbox: SandboxFactory, tmp_path: Path) -> None:
    sb = await make_sandbox(malls=("acme",), products=12)
    tokens = tmp_path / "tokens.json"
    env = {"CAFE24_CLIENT_ID": sb.config.client_id, "CAFE24_CLIENT_SECRET": sb.config.client_secret,
           "CAFE24_TOKEN_FILE": str(tokens), "CAFE24_BASE_URL": sb.base_url}
    url = await asyncio.to_thread(cli, "auth", "url", "--mall", "acme", "--redirect-uri", sb.config.redirect_uri,
                                  "--scope", "mall.read_product", env=env)
    assert url.returncode == 0, url.stderr
    async with aiohttp.ClientSession() as http, http.get(url.stdout.strip(), allow_redirects=False) as resp:
        code = resp.headers["Location"].split("code=")[1].split("&")[0]
    # --code=CODE: the sandbox's codes, like any URL-safe token, may start with '-'
    exchanged = await asyncio.to_thread(cli, "auth", "exchange", f"--code={code}", "--mall", "acme",
                                        "--redirect-uri", sb.config.redirect_uri, env=env)
    assert exchanged.returncode == 0, exchanged.stderr
    stored = await FileTokenStore(tokens).load("acme")
    assert stored is not None and stored.refresh_token
    for result in (exchanged, await asyncio.to_thread(cli, "auth", "show", "--mall", "acme", env=env)):
        shown = json.loads(result.stdout)
        assert "hidden" in shown["access_token"]
        assert stored.access_token not in result.stdout + result.stderr
        assert stored.refresh_token not in result.stdout + result.stderr
        assert sb.config.client_secret not in result.stdout + result.stderr
    refreshed = await asyncio.to_thread(cli, "auth", "refresh", "--mall", "acme", env=env)
    assert refreshed.returncode == 0 and sb.stats("acme").refreshes == 1
    rotated = await FileTokenStore(tokens).load("acme")
    assert rotated is not None and rotated.refresh_token != stored.refresh_token
    call = await asyncio.to_thread(cli, "call", "GET", "/api/v2/admin/products/{product_no}", "product_no=7",
                                   "--mall", "acme", env=env)
    assert call.returncode == 0, call.stderr
    assert json.loads(call.stdout)["product_no"] == 7
    bad = await asyncio.to_thread(cli, "call", "GET", "/api/v2/admin/products", "limit=1000", "--mall", "acme", env=env)
    assert bad.returncode == 2 and "limit: must be at most 100" in bad.stderr


async def test_sandbox_serve(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "cafe24_async", "sandbox", "serve", "--port", str(port),
                             "--products", "15", "--orders", "10"], stderr=subprocess.PIPE)
    try:
        async with aiohttp.ClientSession() as http:
            for _ in range(300):
                try:
                    async with http.get(f"http://127.0.0.1:{port}/sandbox/api/v2/products/count",
                                        headers={"X-Cafe24-Client-Id": "sandbox-client"}) as resp:
                        body = await resp.json()
                        break
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.05)
            assert body == {"count": 15}
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_progress_display_live_and_plain() -> None:
    now = [0.0]
    live = io.StringIO()
    progress = Progress("products", stream=live, live=True, interval=0, clock=lambda: now[0])
    now[0] = 10.0
    progress.update(100, 3, 12, 40, 1000, force=True)
    now[0] = 20.0
    progress.update(200, 4, 14, 40, 1000, force=True)
    progress.finish("done in 20.0s")
    text = live.getvalue()
    # Each status line is redrawn in place, and the summary takes the last one's place.
    assert text.count("\r") == 3 and text.endswith("\n")
    assert "200 of ~1,000 records" in text and "bucket 14/40" in text
    assert "ETA 1m 20s" in text  # 800 records left at 10 per second
    plain = io.StringIO()
    progress = Progress("orders", stream=plain, live=False, interval=0)
    progress.update(5, 1, 1, 40, None, force=True)
    assert "\r" not in plain.getvalue() and plain.getvalue().endswith("\n")
    assert "1 request |" in plain.getvalue()  # not "1 requests"


def test_resources_lists_exportable_routes() -> None:
    result = cli("resources")
    assert result.returncode == 0
    names = {line.split()[0] for line in result.stdout.splitlines()}
    assert {"products", "orders", "customersprivacy", "front.products", "analytics.visitors.view"} <= names


async def test_auth_exchange_takes_a_code_that_starts_with_a_dash(
    make_sandbox: SandboxFactory, tmp_path: Path
) -> None:
    """A code like "-6uIc..." was read as an unknown option (exit 2): `--code=CODE` takes it,
    the positional form still works for the others, and no code at all names the way out."""
    sb = await make_sandbox(malls=("acme",))
    env = {"CAFE24_CLIENT_ID": sb.config.client_id, "CAFE24_CLIENT_SECRET": sb.config.client_secret,
           "CAFE24_TOKEN_FILE": str(tmp_path / "tokens.json"), "CAFE24_BASE_URL": sb.base_url}
    url = await asyncio.to_thread(cli, "auth", "url", "--mall", "acme", "--redirect-uri",
                                  sb.config.redirect_uri, "--scope", "mall.read_product", env=env)
    dashed: str | None = None
    plain: str | None = None
    async with aiohttp.ClientSession() as http:
        for _ in range(2000):  # a URL-safe code starts with '-' once in 64, on average
            async with http.get(url.stdout.strip(), allow_redirects=False) as resp:
                code = resp.headers["Location"].split("code=")[1].split("&")[0]
            if code.startswith("-"):
                dashed = dashed or code
            else:
                plain = plain or code
            if dashed and plain:
                break
    assert dashed is not None and plain is not None
    for args in ((f"--code={dashed}",), (plain,)):
        done = await asyncio.to_thread(cli, "auth", "exchange", *args, "--mall", "acme",
                                       "--redirect-uri", sb.config.redirect_uri, env=env)
        assert done.returncode == 0, done.stderr
    missing = await asyncio.to_thread(cli, "auth", "exchange", "--mall", "acme",
                                      "--redirect-uri", sb.config.redirect_uri, env=env)
    assert missing.returncode == 2 and "--code=CODE" in missing.stderr
