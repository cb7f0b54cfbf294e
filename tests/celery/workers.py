"""Celery workers as processes of their own, for the tests and the benchmark.

Each worker is `python -m celery -A cafe24_async.celery.app worker`, started in
a session of its own (so `kill9` takes its whole process group, as a lost
machine would), with its settings in its environment and its log in a file.
`wait_ready` asks the workers over the broker (Celery's ping) until each has
answered, so a test never guesses how long a start takes.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import attrs

from tests.celery.sandbox_process import ROOT, process_cpu_seconds

#: Seconds a worker may take to answer its first ping.
READY_TIMEOUT = 60.0


@attrs.define
class Worker:
    name: str
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def hostname(self) -> str:
        return f"{self.name}@{socket.gethostname()}"

    @property
    def pid(self) -> int:
        return self.process.pid

    def cpu_seconds(self) -> float:
        return process_cpu_seconds(self.process.pid)

    def kill9(self) -> None:
        """SIGKILL to the worker's whole process group: no cleanup, no goodbye to the broker."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self, timeout: float = 30.0) -> None:
        if self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill9()

    def log_text(self) -> str:
        try:
            return self.log.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""


def start_worker(
    name: str, env: Mapping[str, str], log_dir: Path, *, concurrency: int, pool: str = "threads",
) -> Worker:
    """Start one worker process named `name` with `env` added to this process's environment."""
    log = log_dir / f"{name}.log"
    command = [
        sys.executable, "-m", "celery", "-A", "cafe24_async.celery.app", "worker",
        "--pool", pool, "--concurrency", str(concurrency), "--hostname", f"{name}@%h",
        "--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel", "INFO",
    ]
    full_env = {**os.environ, **env, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    with open(log, "wb") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=full_env, stdout=out, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, start_new_session=True)
    return Worker(name, process, log)


def wait_ready(app: Any, workers: Iterable[Worker], timeout: float = READY_TIMEOUT) -> None:
    """Return once every worker has answered a ping over the broker."""
    waiting = {w.hostname: w for w in workers}
    deadline = time.monotonic() + timeout
    while waiting:
        for worker in waiting.values():
            if worker.process.poll() is not None:
                raise RuntimeError(f"worker {worker.name} exited ({worker.process.returncode}):\n"
                                   + worker.log_text()[-3000:])
        answers = app.control.ping(destination=list(waiting), timeout=0.5) or []
        for answer in answers:
            for hostname in answer:
                waiting.pop(hostname, None)
        if waiting and time.monotonic() > deadline:
            raise TimeoutError(f"workers not ready after {timeout:g}s: {', '.join(waiting)}")


def stop_all(workers: Iterable[Worker]) -> None:
    for worker in workers:
        worker.stop()
