"""What the sync tests share: a wall clock the test sets, clients and CLI runs against a sandbox."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from cafe24_async import Cafe24, FileTokenStore, Token
from cafe24_async.clock import KST
from cafe24_async.sandbox import Sandbox
from tests.conftest import ClientFactory, SandboxFactory

#: The wall time the tests start at: after the generated data ends (2026-10-31).
START = datetime(2026, 11, 2, 9, 0, tzinfo=KST)


class WallClock:
    """Wall time set by the test (shared by the sandbox and the client, so "changed since"
    means the same to both); monotonic time and sleeping are real, so pacing works as usual."""

    def __init__(self, start: datetime = START) -> None:
        self.wall = start

    def now(self) -> datetime:
        return self.wall

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))

    def advance(self, **delta: float) -> datetime:
        self.wall += timedelta(**delta)
        return self.wall


async def sandbox_and_client(
    make_sandbox: SandboxFactory, make_client: ClientFactory, clock: WallClock, **settings: Any
) -> tuple[Sandbox, Cafe24]:
    sandbox = await make_sandbox(now=clock.now, **settings)
    return sandbox, await make_client(sandbox, clock=clock)


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


async def token_file(sandbox: Sandbox, path: Path, *malls: str) -> Path:
    store = FileTokenStore(path)
    for mall in malls:
        await store.save(mall, Token.from_response(sandbox.issue_token(mall)))
    return path


def cli_env(sandbox: Sandbox, tokens: Path) -> dict[str, str]:
    return {**os.environ, "CAFE24_CLIENT_ID": sandbox.config.client_id,
            "CAFE24_CLIENT_SECRET": sandbox.config.client_secret, "CAFE24_TOKEN_FILE": str(tokens),
            "CAFE24_BASE_URL": sandbox.base_url}


def cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """`cafe24-async ARGS` in a process of its own (run it with asyncio.to_thread)."""
    return subprocess.run([sys.executable, "-m", "cafe24_async", *args, "--max-per-second", "0"],
                          capture_output=True, text=True, env=env, timeout=120)
