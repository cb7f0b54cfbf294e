"""Every library error the CLI meets becomes one line and an exit code, never a traceback.

0 done, 1 API failure, 2 bad input, 3 authorisation needed (a damaged token
store included), 4 output not writable or owned by another run, 130 Ctrl-C,
143 SIGTERM. An OS error that is not the output's own is not reported as
"cannot write output".
"""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
from pathlib import Path

from cafe24_async import FileTokenStore, Token
from cafe24_async.export.checkpoint import checkpoint_path
from tests.conftest import SandboxFactory


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cafe24_async", *args], capture_output=True, text=True,
                          timeout=120, env={"PATH": "/usr/bin:/bin", "CAFE24_CLIENT_SECRET": "sandbox-secret"})


def clean(result: subprocess.CompletedProcess[str]) -> bool:
    lines = result.stderr.splitlines()
    return "Traceback" not in result.stderr and any(line.startswith("cafe24-async: ") for line in lines)


async def test_a_damaged_token_store_is_named_as_such(make_sandbox: SandboxFactory, tmp_path: Path) -> None:
    sb = await make_sandbox(malls=("acme",), products=20)
    folder = tmp_path / "tokens.json"
    folder.mkdir()  # a folder where the token file should be
    damaged = tmp_path / "damaged.json"
    damaged.write_text('{"acme": {"access_token": ', encoding="utf-8")
    for tokens in (folder, damaged):
        common = ("--mall", "acme", "--token-file", str(tokens), "--client-id", sb.config.client_id,
                  "--base-url", sb.base_url)
        out = tmp_path / "out.jsonl"
        for result in await asyncio.gather(
            asyncio.to_thread(cli, "auth", "show", *common),
            asyncio.to_thread(cli, "export", "products", "--out", str(out), "--quiet", *common),
        ):
            assert result.returncode == 3, result.stderr
            assert clean(result) and "token store" in result.stderr and str(tokens) in result.stderr
            assert "cannot write output" not in result.stderr and "API error" not in result.stderr


def test_a_busy_port_is_not_an_output_problem() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = cli("sandbox", "serve", "--port", str(port))
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and f"port {port}" in result.stderr
    assert "cannot write output" not in result.stderr


async def test_a_damaged_checkpoint_is_bad_input(make_sandbox: SandboxFactory, tmp_path: Path) -> None:
    sb = await make_sandbox(malls=("acme",), products=20)
    tokens = tmp_path / "tokens.json"
    await FileTokenStore(tokens).save("acme", Token.from_response(sb.issue_token("acme")))
    out = tmp_path / "out.jsonl"
    ck = checkpoint_path(str(out))
    ck.write_text("{ not json", encoding="utf-8")
    command = ("export", "products", "--mall", "acme", "--out", str(out), "--token-file", str(tokens),
               "--client-id", sb.config.client_id, "--base-url", sb.base_url, "--quiet")
    result = await asyncio.to_thread(cli, *command)
    assert result.returncode == 2, result.stderr
    assert clean(result) and str(ck) in result.stderr and "--restart" in result.stderr
    assert not out.exists() and ck.read_text(encoding="utf-8") == "{ not json"
    restarted = await asyncio.to_thread(cli, *command, "--restart")
    assert restarted.returncode == 0, restarted.stderr
    assert len(out.read_text(encoding="utf-8").splitlines()) == 20


def test_unknown_routes_and_unwritable_output() -> None:
    unknown = cli("call", "GET", "/api/v2/admin/nothing", "--mall", "acme", "--client-id", "c")
    assert unknown.returncode == 2 and clean(unknown) and "no documented route" in unknown.stderr
    unwritable = cli("export", "products", "--sandbox", "--out", "/proc/nope/x.jsonl", "--quiet")
    assert unwritable.returncode == 4 and clean(unwritable) and "/proc/nope/x.jsonl" in unwritable.stderr


def test_export_help_lists_the_exit_codes() -> None:
    result = cli("export", "--help")
    assert result.returncode == 0
    text = " ".join(result.stdout.split())
    for code in ("0 done", "1 ", "2 bad input", "3 ", "4 ", "130 ", "143 "):
        assert code in text, code
    assert "SIGTERM" in text and "Ctrl-C" in text
