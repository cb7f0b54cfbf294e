"""Token stores, the export and the command line driven with random input: only library
errors (or exit codes) come out.

- `FileTokenStore` reads files of any content (random bytes, JSON of any shape);
- `run_export` takes random resources, malls, params, outputs and settings: a refusal
  creates no file and sends nothing;
- the CLI's `export` takes random `--param` and `--concurrency` values: an exit code and
  one line on stderr, never a traceback.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from cafe24_async import Cafe24Error, FileTokenStore
from cafe24_async.export import ExportSpec, run_export
from cafe24_async.sandbox import Sandbox
from tests.conftest import ClientFactory, SandboxFactory

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3),
    max_leaves=8,
)
TOKENISH = st.fixed_dictionaries({}, optional={
    "access_token": JSON, "refresh_token": JSON, "expires_at": st.one_of(JSON, st.just("2026-01-01T00:00:00")),
    "refresh_token_expires_at": JSON, "scopes": JSON, "mall_id": JSON,
})
CONTENT = st.one_of(
    st.binary(max_size=60),
    JSON.map(lambda v: json.dumps(v).encode()),
    st.dictionaries(st.sampled_from(["acme", "x", ""]), st.one_of(TOKENISH, JSON), max_size=2).map(
        lambda v: json.dumps(v).encode()),
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(content=CONTENT)
async def test_a_token_file_of_any_content_gives_a_token_none_or_a_library_error(
    tmp_path: Path, content: bytes
) -> None:
    path = tmp_path / "tokens.json"
    path.write_bytes(content)
    store = FileTokenStore(path)
    try:
        token = await store.load("acme")
    except Exception as exc:
        assert isinstance(exc, Cafe24Error), f"{type(exc).__name__}: {exc}"
        event(type(exc).__name__)
        return
    event("token" if token is not None else "none")


ODD = st.one_of(st.none(), st.booleans(), st.integers(-5, 10**6), st.floats(), st.text(max_size=12),
                st.lists(st.integers(), max_size=2), st.just(object()))
PARAMS = st.dictionaries(
    st.sampled_from(["limit", "offset", "since_product_no", "fields", "start_date", "end_date", "bogus", "sort"]),
    ODD, max_size=3,
)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(resource=st.one_of(st.sampled_from(["products", "orders", "nothing", "front.products"]), ODD),
       malls=st.one_of(st.just(("acme",)), st.tuples(ODD), st.just(())), params=PARAMS,
       fmt=st.sampled_from([None, "jsonl", "csv", "xml"]), concurrency=st.one_of(st.none(), ODD),
       name=st.sampled_from(["out.jsonl", "out.csv", "out.txt", "sub/out.jsonl"]))
async def test_run_export_with_any_arguments(
    make_sandbox: SandboxFactory, make_client: ClientFactory, tmp_path: Path, resource: Any, malls: Any,
    params: dict[str, Any], fmt: Any, concurrency: Any, name: str,
) -> None:
    sb = await make_sandbox(malls=("acme",), per_mall_products={"acme": 30}, orders=20)
    api = await make_client(sb)
    out = tmp_path / "case" / name
    try:
        spec = ExportSpec(resource, malls, params, fmt)
        await run_export(api, spec, str(out), concurrency=concurrency)
    except Exception as exc:
        assert isinstance(exc, Cafe24Error), f"{type(exc).__name__}: {exc}"
        if not sb.requests:
            assert not out.exists(), "a refused export left a file"
        event(type(exc).__name__)
    else:
        event("exported")
    finally:
        await _cleanup(out, sb)


async def _cleanup(out: Path, sb: Sandbox) -> None:
    for path in sorted(out.parent.parent.glob("**/*"), reverse=True) if out.parent.parent.exists() else []:
        if path.is_file():
            path.unlink()
        else:
            path.rmdir()
    sb.clear_requests()


@pytest.mark.parametrize("args", [
    ["--param", "limit=ten"], ["--param", "limit=0"], ["--param", "=1"], ["--param", "since_product_no=x"],
    ["--concurrency", "-3"], ["--concurrency", "many"], ["--since", "2026-13-01"], ["--param", "bogus=1"],
    ["--fields", ""], ["--extra", "novalue"],
])
def test_the_cli_exits_with_a_code_never_a_traceback(tmp_path: Path, args: list[str]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "cafe24_async", "export", "products", "--sandbox", "--quiet",
         "--out", str(tmp_path / "p.jsonl"), *args], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert result.returncode in (0, 2), result.stderr
    assert "Traceback" not in result.stderr
    if result.returncode == 2:
        assert "error" in result.stderr.splitlines()[-1] and not (tmp_path / "p.jsonl").exists()
