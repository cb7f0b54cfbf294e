"""A newcomer's first hour, through the real command in subprocesses.

One step to a sandbox token (`sandbox serve --write-token-file`), tokens that
survive a restart of the sandbox, errors filed under the right cause (a busy
port, a closed pipe, a file name that says another format), every API reachable
from `call`, help that lists only what applies, logging, and `status`.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from cafe24_async import FileTokenStore, Token
from tests.conftest import SandboxFactory

CLI = [sys.executable, "-m", "cafe24_async"]


def cli(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, env={**clean_env(), **(env or {})},
                          cwd=cwd, timeout=120, check=False)


def clean_env() -> dict[str, str]:
    """The environment without any CAFE24_* setting of the machine running the tests."""
    return {k: v for k, v in os.environ.items() if not k.startswith("CAFE24_")}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Served:
    """A `cafe24-async sandbox serve` process, its banner read."""

    def __init__(self, *args: str, cwd: Path, port: int) -> None:
        self.port = port
        self.proc = subprocess.Popen([*CLI, "sandbox", "serve", "--port", str(port), "--products", "30",
                                      "--orders", "40", *args], cwd=cwd, env=clean_env(), text=True,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert self.proc.stdout is not None
        lines = []
        for line in self.proc.stdout:  # the banner ends with the suggested status command
            lines.append(line)
            if line.strip().startswith("cafe24-async status"):
                break
        self.banner = "".join(lines)
        assert "Ctrl-C stops it" in self.banner, self.banner + (self.proc.stderr.read() if self.proc.stderr else "")

    def env(self) -> dict[str, str]:
        """The `export NAME=value` lines of the banner."""
        found = re.findall(r"^  export (CAFE24_\w+)=(.*)$", self.banner, re.M)
        return {name: value.strip("'") for name, value in found}

    def stop(self) -> subprocess.CompletedProcess[str]:
        self.proc.send_signal(signal.SIGTERM)
        out, err = self.proc.communicate(timeout=30)
        return subprocess.CompletedProcess(self.proc.args, self.proc.returncode, out, err)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[list[Served]]:
    started: list[Served] = []
    yield started
    for s in started:
        if s.proc.poll() is None:
            s.proc.kill()
            s.proc.wait(timeout=10)


def test_one_step_to_a_token_that_survives_a_restart(tmp_path: Path, served: list[Served]) -> None:
    port = free_port()
    first = Served("--write-token-file", "tokens.json", "--state", "state.json", cwd=tmp_path, port=port)
    served.append(first)
    banner = first.banner
    for shown in ("client id         sandbox-client", "client secret     sandbox-secret",
                  f"http://127.0.0.1:{port}/{{mall_id}}", "redirect URI", "token of sandbox"):
        assert shown in banner, shown
    env = first.env()
    assert env["CAFE24_BASE_URL"] == f"http://127.0.0.1:{port}/{{mall_id}}"
    assert env["CAFE24_TOKEN_FILE"] == str(tmp_path / "tokens.json")
    assert (tmp_path / "state.json").stat().st_mode & 0o777 == 0o600
    exported = cli("export", "products", "--mall", "sandbox", "--out", "p.jsonl", "--quiet", env=env, cwd=tmp_path)
    assert exported.returncode == 0, exported.stderr
    assert len((tmp_path / "p.jsonl").read_text().splitlines()) == 30
    stopped = first.stop()
    assert stopped.returncode == 0 and "sandbox stopped" in stopped.stderr

    second = Served("--state", "state.json", cwd=tmp_path, port=port)  # no new token written
    served.append(second)
    counted = cli("call", "GET", "/api/v2/admin/products/count", "--mall", "sandbox", env=env, cwd=tmp_path)
    assert counted.returncode == 0, counted.stderr
    assert counted.stdout.strip() == "30"
    second.stop()

    forgetful = Served("--no-state", cwd=tmp_path, port=port)  # tokens in memory only: the old one is unknown
    served.append(forgetful)
    refused = cli("call", "GET", "/api/v2/admin/products/count", "--mall", "sandbox", env=env, cwd=tmp_path)
    assert refused.returncode == 3 and "auth" in refused.stderr
    assert "memory only" in forgetful.banner
    forgetful.stop()


def test_a_busy_port_is_named_as_such(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = cli("sandbox", "serve", "--port", str(port), "--no-state", cwd=tmp_path)
    assert result.returncode == 2
    assert f"port {port} is in use" in result.stderr and "cannot write" not in result.stderr


@pytest.fixture
async def mall_env(make_sandbox: SandboxFactory, tmp_path: Path) -> dict[str, str]:
    """An in-process sandbox (usage quotas on) and the environment the CLI needs for it."""
    sb = await make_sandbox(malls=("acme",), products=150, call_quota=1000)
    tokens = tmp_path / "tokens.json"
    await FileTokenStore(tokens).save("acme", Token.from_response(sb.issue_token("acme")))
    options = sb.client_options()
    partner, secret = options["dcollection_credentials"]
    return {"CAFE24_CLIENT_ID": options["client_id"], "CAFE24_CLIENT_SECRET": options["client_secret"],
            "CAFE24_TOKEN_FILE": str(tokens), "CAFE24_BASE_URL": options["base_url"],
            "ROOT": options["analytics_base_url"], "PARTNER": partner, "PARTNER_SECRET": secret}


async def run(*args: str, env: dict[str, str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    import asyncio

    return await asyncio.to_thread(cli, *args, env=env, cwd=cwd)


async def test_a_closed_pipe_ends_quietly_with_exit_0(mall_env: dict[str, str], tmp_path: Path) -> None:
    command = " ".join([*CLI, "call", "GET", "/api/v2/admin/products", "limit=100", "embed=variants",
                        "--mall", "acme"])
    for shell in (f"{command} | head -c 10", f"{' '.join(CLI)} export products --mall acme --out - | head -c 10"):
        result = await run_shell(f"{shell}; echo \"status ${{PIPESTATUS[0]}}\" >&2", mall_env, tmp_path)
        assert result.stderr.strip().endswith("status 0"), result.stderr
        assert "Broken pipe" not in result.stderr and "cannot write" not in result.stderr
        assert len(result.stdout) == 10


def written(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if not p.name.startswith("tokens.json")]


def stored_token(path: str) -> str:
    return str(json.loads(Path(path).read_text())["acme"]["access_token"])


async def run_shell(script: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    import asyncio

    return await asyncio.to_thread(subprocess.run, ["bash", "-c", script], capture_output=True, text=True,
                                   env={**clean_env(), **env}, cwd=cwd, timeout=120, check=False)


async def test_the_format_follows_the_file_name(mall_env: dict[str, str], tmp_path: Path) -> None:
    for args, expected in (
        (("--out", "x.txt"), "x.txt is named .txt, which says no export format"),
        (("--out", "b.csv", "--format", "jsonl"), "b.csv is named .csv but the format asked for is JSON Lines"),
        (("--out", "c.jsonl", "--excel"), "c.jsonl is named .jsonl but the format asked for is CSV for Excel"),
    ):
        result = await run("export", "products", "--mall", "acme", *args, env=mall_env, cwd=tmp_path)
        assert result.returncode == 2 and expected in result.stderr, result.stderr
    assert written(tmp_path) == []  # nothing written, nothing locked
    excel = await run("export", "products", "--mall", "acme", "--out", "e.csv", "--excel", "--quiet",
                      env=mall_env, cwd=tmp_path)
    assert excel.returncode == 0, excel.stderr
    data = (tmp_path / "e.csv").read_bytes()
    assert data.startswith(b"\xef\xbb\xbfmall_id,") and data.count(b"\xef\xbb\xbf") == 1
    plain = await run("export", "products", "--mall", "acme", "--out", "p.csv", "--quiet", env=mall_env, cwd=tmp_path)
    assert plain.returncode == 0 and (tmp_path / "p.csv").read_bytes().startswith(b"mall_id,")


async def test_call_takes_json_values_filled_paths_and_refuses_a_key_twice(mall_env: dict[str, str]) -> None:
    twice = await run("call", "GET", "/api/v2/admin/products", "limit=1", "limit=2", "--mall", "acme", env=mall_env)
    assert twice.returncode == 2 and "limit is given twice" in twice.stderr
    created = await run("call", "POST", "/api/v2/admin/products", "--mall", "acme",
                        'request:={"product_name": "Tee", "supply_price": 9000}', env=mall_env)
    assert created.returncode == 0, created.stderr
    assert json.loads(created.stdout)["product_name"] == "Tee"
    filled = await run("call", "GET", "/api/v2/admin/products/7", "--mall", "acme", env=mall_env)
    assert filled.returncode == 0 and json.loads(filled.stdout)["product_no"] == 7
    bad_json = await run("call", "POST", "/api/v2/admin/products", "request:={oops", "--mall", "acme", env=mall_env)
    assert bad_json.returncode == 2 and "not JSON" in bad_json.stderr
    unknown = await run("call", "GET", "/api/v2/admin/prodcts/7", "--mall", "acme", env=mall_env)
    assert unknown.returncode == 2 and "positional or by name" not in unknown.stderr


async def test_call_reaches_analytics_and_dcollection_by_flag_and_by_environment(mall_env: dict[str, str]) -> None:
    root = mall_env["ROOT"]
    views = await run("call", "GET", "/visitors/view", "start_date=2026-03-01", "end_date=2026-03-02",
                      "--mall", "acme", "--analytics-base-url", root, env=mall_env)
    assert views.returncode == 0, views.stderr
    assert isinstance(json.loads(views.stdout), list)
    partner = {"CAFE24_DCOLLECTION_BASE_URL": root, "CAFE24_DCOLLECTION_ID": mall_env["PARTNER"],
               "CAFE24_DCOLLECTION_SECRET": mall_env["PARTNER_SECRET"]}
    count = await run("call", "GET", "/api/products/count", "dcollection_product_category=C200802",
                      env={**mall_env, **partner})
    assert count.returncode == 0, count.stderr
    assert int(count.stdout) >= 0
    by_flag = await run("call", "GET", "/api/products/count", "dcollection_product_category=C200802",
                        "--dcollection-base-url", root, "--dcollection-id", mall_env["PARTNER"],
                        "--dcollection-secret", mall_env["PARTNER_SECRET"], env=mall_env)
    assert by_flag.stdout == count.stdout
    half = await run("call", "GET", "/api/products/count", "--dcollection-id", "x", env=mall_env)
    assert half.returncode == 2 and "--dcollection-secret" in half.stderr
    assert mall_env["PARTNER_SECRET"] not in count.stderr + by_flag.stderr


async def test_verbose_logs_every_request_with_its_time_and_bucket(mall_env: dict[str, str]) -> None:
    result = await run("call", "GET", "/api/v2/admin/products/count", "--mall", "acme", "-vv", env=mall_env)
    assert result.returncode == 0, result.stderr
    line = next(line for line in result.stderr.splitlines() if "cafe24_async.request" in line)
    assert re.search(r"DEBUG cafe24_async\.request: admin\.products\.count on mall acme: HTTP 200 in \d+ ms "
                     r"\(waited \d+ ms to send; bucket \d+/40\)", line), line
    token = stored_token(mall_env["CAFE24_TOKEN_FILE"])
    assert token not in result.stderr
    quiet = await run("call", "GET", "/api/v2/admin/products/count", "--mall", "acme", env=mall_env)
    assert quiet.stderr == ""
    level = await run("call", "GET", "/api/v2/admin/products/count", "--mall", "acme", "--log-level", "info",
                      env=mall_env)
    assert "DEBUG" not in level.stderr


async def test_status_prints_the_bucket_and_quota_state(mall_env: dict[str, str]) -> None:
    result = await run("status", "--mall", "acme", env=mall_env)
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert "mall acme" in text and "probe GET /api/v2/admin/products/count" in text
    assert re.search(r"bucket\s+1/40 calls in the bucket", text), text
    assert re.search(r"call usage\s+[\d.]+% of the quota", text), text
    assert "blocked      no" in text
    shown = json.loads((await run("status", "--mall", "acme", "--json", env=mall_env)).stdout)
    assert shown["bucket_size"] == 40 and shown["call_usage_percent"] is not None


def test_help_lists_only_what_applies() -> None:
    auth_url = cli("auth", "url", "--help").stdout
    assert "--leak-rate" not in auth_url and "--analytics-base-url" not in auth_url and "--mall" in auth_url
    call = cli("call", "--help").stdout
    for option in ("--analytics-base-url", "--dcollection-base-url", "--dcollection-id", "K:=JSON",
                   "CAFE24_BASE_URL", "literal {mall_id}", "--verbose", "--log-level"):
        assert option in call, option
    serve = cli("sandbox", "serve", "--help").stdout
    assert "--write-token-file" in serve and "--state" in serve and "--client-id" not in serve
    export = cli("export", "--help").stdout
    assert "--excel" in export and "resume" in export and "CAFE24_DCOLLECTION_ID" in export
    assert "status" in cli("--help").stdout
