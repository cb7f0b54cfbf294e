"""Every code example of README.md runs against the sandbox, so the README cannot drift.

One test per README section that holds code: its Python blocks run in order in
one namespace, its shell blocks in the section's folder, each the way
`tests/readme/harness.py` describes (an HTML comment `<!-- example: ... -->`
before a block says when it runs otherwise). A section added to the README is
picked up with no change here. A failure names the README line.
"""

from __future__ import annotations

import ast
import asyncio
import contextlib
import inspect
import logging
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from cafe24_async import Cafe24, FileTokenStore, MemoryTokenStore, Token
from cafe24_async.sandbox import Sandbox, SandboxConfig
from tests.readme.harness import (
    HARNESS,
    README,
    Block,
    Outcome,
    free_port,
    python_tree,
    read_blocks,
    sections,
    shell_lines,
)

BLOCKS = read_blocks()
SECTIONS = sections(BLOCKS)
RUNNABLE = [name for name, blocks in SECTIONS.items() if any(b.kind in ("python", "shell") for b in blocks)]
MALLS = ("acme", "beta", "sandbox")
BIN = Path(sys.executable).parent


def clean_env(folder: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a newcomer's shell: none of this machine's CAFE24_* or pytest settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CAFE24_", "PYTEST_"))}
    env.update(HOME=str(folder / "home"), XDG_STATE_HOME=str(folder / "state"))
    env.update(extra or {})
    return env


class SectionRun:
    """The sandbox, client and folder one README section's examples run with."""

    def __init__(self, folder: Path, sandbox: Sandbox, store: MemoryTokenStore) -> None:
        self.folder = folder
        self.sandbox = sandbox
        self.store = store
        self.options = sandbox.client_options()
        self.api = Cafe24(**self.options, token_store=store)
        self.namespace: dict[str, Any] = {"__name__": "__readme__"}
        self.servers: list[tuple[Block, subprocess.Popen[str], list[str]]] = []
        self.skipped: list[str] = []
        self.ran = 0

    def sandbox_env(self) -> dict[str, str]:
        partner, secret = self.options["dcollection_credentials"]
        return {
            "CAFE24_CLIENT_ID": self.options["client_id"], "CAFE24_CLIENT_SECRET": self.options["client_secret"],
            "CAFE24_BASE_URL": self.options["base_url"],
            "CAFE24_ANALYTICS_BASE_URL": self.options["analytics_base_url"],
            "CAFE24_DCOLLECTION_BASE_URL": self.options["dcollection_base_url"],
            "CAFE24_DCOLLECTION_ID": partner, "CAFE24_DCOLLECTION_SECRET": secret,
            "CAFE24_TOKEN_FILE": str(self.folder / "tokens.json"),
        }

    # -- Python ----------------------------------------------------------------------------

    async def python(self, block: Block) -> None:
        files = block.files
        # Programs run in other processes while this event loop goes on serving the sandbox.
        if files is not None:
            await asyncio.to_thread(self.project, block, files)
            return
        server = block.directive("server on port")
        if server is not None:
            await asyncio.to_thread(self.server_program, block, int(server.split()[0]))
            return
        with self.block_env(block):
            tree = python_tree(block)
            code = compile(tree, str(README), "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
            self.namespace.update(
                {HARNESS: Outcome(self.options), "sandbox": self.sandbox, "store": self.store, "api": self.api,
                 "mall": self.api.mall("acme")}
            )
            result = eval(code, self.namespace)  # the README's own code, line numbers kept
            if inspect.iscoroutine(result):
                await result

    @contextlib.contextmanager
    def block_env(self, block: Block) -> Iterator[None]:
        extra = dict(block.env)
        redis = block.directive("needs redis") is not None
        with contextlib.ExitStack() as stack:
            if redis:
                if shutil.which("redis-server") is None:
                    pytest.skip(f"{block.where()}: redis-server is not installed (.ci/run installs it)")
                from benchmarks.bench_redis import redis_server

                extra["REDIS_URL"] = stack.enter_context(redis_server())
            saved = {k: os.environ.get(k) for k in extra}
            os.environ.update(extra)
            try:
                yield
            finally:
                for k, v in saved.items():
                    if v is None:
                        os.environ.pop(k, None)
                    else:
                        os.environ[k] = v

    def project(self, block: Block, files: dict[str, str]) -> None:
        """A several-file example (conftest.py and tests): pytest runs it in a folder of its own."""
        project = self.folder / f"project-{block.line}"
        project.mkdir()
        for name, text in files.items():
            (project / name).write_text(text, encoding="utf-8")
        done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=project,
                              env=clean_env(self.folder), capture_output=True, text=True, timeout=300, check=False)
        assert done.returncode == 0, f"{block.where()}: pytest failed\n{done.stdout}\n{done.stderr}"
        assert " passed" in done.stdout and "failed" not in done.stdout, done.stdout

    def server_program(self, block: Block, port: int) -> None:
        """A program that serves until stopped: it must answer HTTP, then stop on Ctrl-C."""
        new_port = free_port()
        tree = python_tree(block, port=(port, new_port))
        prelude = textwrap.dedent(f"""
            class _Readme:
                options = {self.options!r}
            {HARNESS} = _Readme()
        """)
        script = self.folder / f"example-{block.line}.py"
        script.write_text(prelude + ast.unparse(tree) + "\n", encoding="utf-8")
        proc = subprocess.Popen([sys.executable, str(script)], cwd=self.folder, text=True,
                                env=clean_env(self.folder, block.env), stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT)
        try:
            answered = wait_for_http(new_port, proc)
            assert answered, f"{block.where()}: the program never answered on port {port}: {read_all(proc)}"
        finally:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        assert proc.returncode == 0, f"{block.where()}: exit {proc.returncode} after Ctrl-C: {read_all(proc)}"

    # -- shell -----------------------------------------------------------------------------

    def shell(self, block: Block, port: int) -> None:
        env = clean_env(self.folder, block.env)
        env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"  # as after `. .venv/bin/activate`
        if block.directive("run with the sandbox") is not None:
            env.update(self.sandbox_env())
        lines = list(shell_lines(block, port))
        preamble = [line for serve, line in lines if not serve and is_setup(line)]
        for serve, line in lines:
            if serve:
                self.start_server(block, preamble, line, env, port)
        script = "\n".join(["set -euo pipefail"] + [line for serve, line in lines if not serve])
        done = subprocess.run(["bash", "-c", script], cwd=self.folder, env=env, capture_output=True, text=True,
                              timeout=300, check=False)
        assert done.returncode == 0, (
            f"{block.where()}: exit {done.returncode}\n--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}"
        )

    def start_server(self, block: Block, preamble: list[str], line: str, env: dict[str, str], port: int) -> None:
        command = line.strip().removesuffix("&").strip()
        script = "\n".join([*preamble, f"exec {command}"])
        proc = subprocess.Popen(["bash", "-c", script], cwd=self.folder, env=env, text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        seen: list[str] = []
        ready = threading.Event()

        def read() -> None:
            assert proc.stdout is not None
            for out in proc.stdout:
                seen.append(out)
                if "Ctrl-C stops it" in out:
                    ready.set()

        threading.Thread(target=read, daemon=True).start()
        self.servers.append((block, proc, seen))
        deadline = time.monotonic() + 120
        while not ready.wait(0.1):
            assert proc.poll() is None and time.monotonic() < deadline, (
                f"{block.where()}: `{command}` did not start: {''.join(seen)}"
            )

    def stop_servers(self) -> None:
        for block, proc, seen in self.servers:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            assert proc.returncode == 0, f"{block.where()}: the server ended with {proc.returncode}: {''.join(seen)}"


def is_setup(line: str) -> bool:
    """A line that sets up the shell (`. .venv/bin/activate`, `export ...`, `cd ...`)."""
    return line.strip().startswith((". ", "source ", "export ", "cd "))


def wait_for_http(port: int, proc: subprocess.Popen[str], timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5):
                return True
        except urllib.error.HTTPError:
            return True  # an HTTP answer, whatever its status
        except OSError:
            time.sleep(0.1)
    return False


def read_all(proc: subprocess.Popen[str]) -> str:
    if proc.poll() is None or proc.stdout is None:
        return ""
    return proc.stdout.read()


@pytest_asyncio.fixture
async def section_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[SectionRun]:
    venv = tmp_path / ".venv" / "bin"
    venv.mkdir(parents=True)
    (venv / "activate").write_text(f'export PATH="{BIN}:$PATH"\n', encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    loggers = {name: logging.getLogger(name).level for name in logging.root.manager.loggerDict
               if name.startswith("cafe24_async")}
    root_handlers = list(logging.root.handlers)
    async with Sandbox(SandboxConfig(malls=("acme",))) as sandbox:
        store = MemoryTokenStore()
        files = FileTokenStore(tmp_path / "tokens.json")
        for mall_id in MALLS:
            token = Token.from_response(sandbox.issue_token(mall_id))
            await store.save(mall_id, token)
            await files.save(mall_id, token)
        run = SectionRun(tmp_path, sandbox, store)
        try:
            yield run
        finally:
            await run.api.close()
            for name, level in loggers.items():  # an example may set levels: give the suite back its own
                logging.getLogger(name).setLevel(level)
            logging.root.handlers[:] = root_handlers


@pytest.mark.parametrize("section", RUNNABLE)
async def test_readme_section(section: str, section_run: SectionRun) -> None:
    port = free_port()
    try:
        for block in SECTIONS[section]:
            if block.kind == "text":
                continue
            if block.skip_reason is not None:
                section_run.skipped.append(f"{block.where()}: {block.skip_reason}")
                continue
            if block.kind == "python":
                await section_run.python(block)
            elif block.directive("run") is not None:
                await asyncio.to_thread(section_run.shell, block, port)  # the sandbox serves meanwhile
            else:
                section_run.skipped.append(f"{block.where()}: a shell block without a directive")
                continue
            section_run.ran += 1
    finally:
        section_run.stop_servers()
    if not section_run.ran:
        pytest.skip("; ".join(section_run.skipped))


def test_every_block_is_runnable_or_says_why_not() -> None:
    """A shell block must say whether it runs; a skip must give its reason; no unknown language."""
    problems = []
    for block in BLOCKS:
        if block.kind not in ("python", "shell", "text"):
            problems.append(f"{block.where()}: a ```{block.lang} block, which this test cannot run")
        if block.kind == "shell" and block.directive("run") is None and block.skip_reason is None:
            problems.append(f"{block.where()}: a shell block without <!-- example: run --> or a skip reason")
        if block.skip_reason == "":
            problems.append(f"{block.where()}: skipped without a reason")
    assert not problems, "\n".join(problems)
    runnable = [b for b in BLOCKS if b.kind in ("python", "shell") and b.skip_reason is None]
    assert len(runnable) >= 15, len(runnable)
