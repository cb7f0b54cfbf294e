"""Resuming only onto the output a checkpoint describes, and only from a sound checkpoint.

A checkpoint records the output's size and the sha256 of the bytes it covers. A
missing, shorter or changed output is refused (nothing is padded or mixed in);
bytes after the checkpoint (a crash mid-page) are cut back as before. A damaged
checkpoint is a library error naming the file, and nothing is touched.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from cafe24_async import Cafe24, Token
from cafe24_async.export import ExportError, ExportSpec, run_export
from cafe24_async.export.checkpoint import checkpoint_path
from tests.conftest import ClientFactory, SandboxFactory

SPEC = ExportSpec("products", ("one", "ghost"), {"fields": ["product_no"]})


def jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


async def half_done(make_sandbox: SandboxFactory, make_client: ClientFactory, out: Path) -> tuple[Cafe24, Token]:
    """An export of two malls where `ghost` has no token yet: `one` is written in full,
    `ghost` fails, and the checkpoint stays. Returns the client and a token for `ghost`."""
    sb = await make_sandbox(malls=("one",), products=300)
    api = await make_client(sb)
    report = await run_export(api, SPEC, str(out))
    assert report.records == {"one": 300, "ghost": 0} and "ghost" in report.errors
    assert checkpoint_path(str(out)).exists()
    return api, Token.from_response(sb.issue_token("ghost"))


async def finish(client: tuple[Cafe24, Token], out: Path, restart: bool = False) -> list[tuple[str, int]]:
    """Give `ghost` its token and run the same export again."""
    api, token = client
    await api.token_store.save("ghost", token)
    report = await run_export(api, SPEC, str(out), restart=restart)
    assert not report.errors
    return sorted((r["mall_id"], r["product_no"]) for r in jsonl(out))


EVERY_RECORD = sorted((m, n) for m in ("one", "ghost") for n in range(1, 301))


async def test_a_missing_output_is_refused_not_padded(make_sandbox: SandboxFactory, make_client: ClientFactory, tmp_path: Path) -> None:
    out = tmp_path / "products.jsonl"
    client = await half_done(make_sandbox, make_client, out)
    saved = checkpoint_path(str(out)).read_bytes()
    out.unlink()
    with pytest.raises(ExportError, match=r"(?s)missing.*--restart"):
        await finish(client, out)
    assert not out.exists()  # no file of NUL bytes in its place
    assert checkpoint_path(str(out)).read_bytes() == saved
    assert await finish(client, out, restart=True) == EVERY_RECORD


async def test_a_shorter_output_is_refused(make_sandbox: SandboxFactory, make_client: ClientFactory, tmp_path: Path) -> None:
    out = tmp_path / "products.jsonl"
    client = await half_done(make_sandbox, make_client, out)
    data = out.read_bytes()
    out.write_bytes(data[:-10])
    with pytest.raises(ExportError, match=rf"(?s){len(data) - 10:,} bytes.*{len(data):,}.*--restart"):
        await finish(client, out)
    assert out.read_bytes() == data[:-10]  # left as it was
    assert await finish(client, out, restart=True) == EVERY_RECORD


async def test_changed_bytes_under_the_checkpoint_are_refused(make_sandbox: SandboxFactory, make_client: ClientFactory, tmp_path: Path) -> None:
    out = tmp_path / "products.jsonl"
    client = await half_done(make_sandbox, make_client, out)
    data = out.read_bytes()
    changed = data.replace(b'"product_no":7}', b'"product_no":8}', 1)
    assert changed != data and len(changed) == len(data)
    out.write_bytes(changed)
    with pytest.raises(ExportError, match=r"(?s)differ.*--restart"):
        await finish(client, out)
    assert out.read_bytes() == changed
    assert await finish(client, out, restart=True) == EVERY_RECORD


async def test_bytes_after_the_checkpoint_are_cut_back(make_sandbox: SandboxFactory, make_client: ClientFactory, tmp_path: Path) -> None:
    """A crash mid-page leaves bytes the checkpoint does not cover: they are cut off."""
    out = tmp_path / "products.jsonl"
    client = await half_done(make_sandbox, make_client, out)
    data = out.read_bytes()
    saved = json.loads(checkpoint_path(str(out)).read_text(encoding="utf-8"))
    assert saved["size"] == len(data)
    assert saved["sha256"] == hashlib.sha256(data).hexdigest()  # what the checkpoint covers
    with out.open("ab") as fh:
        fh.write(b'{"mall_id":"ghost","product_no":1}\n{"mall_id":"gho')
    assert await finish(client, out) == EVERY_RECORD


DAMAGED = {
    "not json": "{ this is not json",
    "not an object": "[1, 2, 3]",
    "missing keys": json.dumps({"job": {"resource": "admin.products.list"}}),
    "wrong types": json.dumps({
        "job": {"resource": "admin.products.list", "malls": ["one", "ghost"], "params": {"fields": ["product_no"]},
                "format": "jsonl"},
        "size": "lots", "sha256": "x", "records": 1, "columns": None, "malls": {},
    }),
    "bad mall state": json.dumps({
        "job": {"resource": "admin.products.list", "malls": ["one", "ghost"], "params": {"fields": ["product_no"]},
                "format": "jsonl"},
        "size": 0, "sha256": hashlib.sha256(b"").hexdigest(), "records": 0, "columns": None,
        "malls": {"one": {"cursor": {"offset": "far"}, "done": "maybe", "records": -3}},
    }),
}


@pytest.mark.parametrize("damage", sorted(DAMAGED))
async def test_a_damaged_checkpoint_is_a_clear_error(damage: str, make_sandbox: SandboxFactory, make_client: ClientFactory, tmp_path: Path) -> None:
    sb = await make_sandbox(malls=("one", "ghost"), products=30)
    api = await make_client(sb)
    out = tmp_path / "products.jsonl"
    out.write_bytes(b"kept as it is\n")
    ck = checkpoint_path(str(out))
    ck.write_text(DAMAGED[damage], encoding="utf-8")
    with pytest.raises(ExportError, match=rf"(?s){ck.name}.*--restart"):
        await run_export(api, SPEC, str(out))
    assert out.read_bytes() == b"kept as it is\n"
    assert ck.read_text(encoding="utf-8") == DAMAGED[damage]
    report = await run_export(api, SPEC, str(out), restart=True)
    assert report.total == 60 and not ck.exists()
