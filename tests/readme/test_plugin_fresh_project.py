"""The pytest plugin in a project of its own: no asyncio_mode, no pytest configuration.

A user's project runs pytest-asyncio in its default "strict" mode; the plugin's
async tests must run there all the same, and the suite's other async tests be
left alone. Each project is a temporary folder with only a conftest.py and a test
file, run by pytest in a subprocess (nothing of this repository's configuration
applies there).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

CONFTEST = 'pytest_plugins = ["cafe24_async.pytest_plugin"]\n'

TESTS = '''
import pytest

@pytest.mark.cafe24_sandbox(products=500, leak_rate=200.0)
async def test_something(cafe24_client):
    assert await cafe24_client.mall("sandbox").admin.products.count() == 500

async def test_the_sandbox_alone(cafe24_sandbox):
    assert cafe24_sandbox.config.products == 250

class TestInAClass:
    async def test_a_method(self, cafe24_client):
        assert await cafe24_client.mall("sandbox").admin.products.count() == 250
'''

OTHER = '''
async def test_not_ours():
    pass
'''


def run_pytest(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "CAFE24_"))}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rs", *args], cwd=folder, env=env,
        capture_output=True, text=True, timeout=300, check=False,
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "conftest.py").write_text(CONFTEST, encoding="utf-8")
    (tmp_path / "test_shop.py").write_text(textwrap.dedent(TESTS), encoding="utf-8")
    return tmp_path


def test_the_plugin_tests_pass_in_strict_mode(project: Path) -> None:
    result = run_pytest(project)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 passed" in result.stdout, result.stdout
    assert "mode=Mode.STRICT" in result.stdout or "asyncio_mode" not in result.stdout


def test_other_async_tests_are_left_to_the_suite(project: Path) -> None:
    (project / "test_other.py").write_text(OTHER, encoding="utf-8")
    result = run_pytest(project, "test_other.py")
    # Not ours to mark: pytest-asyncio's strict mode does not run it, exactly as without the plugin.
    assert "1 failed" in result.stdout and "async def functions are not natively supported" in result.stdout
