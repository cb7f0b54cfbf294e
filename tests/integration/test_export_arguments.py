"""`run_export` checks every argument before it creates a file or sends a request.

A bad resource, param name or value, page size, mall list, format, date range,
concurrency or checkpoint interval is a library error (a `Cafe24Error`), raised
while the output folder is still empty; a corrected call then runs as a new export.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cafe24_async import Cafe24Error, ConfigurationError, Token, ValidationError
from cafe24_async.export import ExportError, ExportSpec, run_export
from cafe24_async.export.checkpoint import checkpoint_path
from tests.conftest import ClientFactory, SandboxFactory

ORDERS_RANGE = {"start_date": "2025-11-01", "end_date": "2026-10-31"}

#: (spec, run_export keywords, error class, what the message names)
BAD: dict[str, tuple[ExportSpec, dict[str, Any], type[Cafe24Error], str]] = {
    "unknown resource": (ExportSpec("prodcuts", ("acme",)), {}, ExportError, "unknown resource"),
    "unknown param": (ExportSpec("products", ("acme",), {"bogus": 1}), {}, ValidationError, "bogus"),
    "bad number": (ExportSpec("products", ("acme",), {"retail_price_min": "cheap"}), {}, ValidationError,
                   "retail_price_min"),
    "page size 0": (ExportSpec("products", ("acme",), {"limit": 0}), {}, ValidationError, "limit"),
    "page size over the maximum": (ExportSpec("products", ("acme",), {"limit": 101}), {}, ValidationError,
                                   "limit"),
    "offset": (ExportSpec("products", ("acme",), {"offset": 100}), {}, ExportError, "offset"),
    "dates out of order": (ExportSpec("orders", ("acme",), {"start_date": "2026-02-01", "end_date": "2026-01-01"}),
                           {}, ValidationError, "end_date"),
    "no date range where paging needs one": (ExportSpec("orders", ("acme",)), {}, ExportError, "date range"),
    "half a date range": (ExportSpec("orders", ("acme",), {"start_date": "2026-01-01"}), {}, ExportError,
                          "date range"),
    "no mall": (ExportSpec("products", ()), {}, ExportError, "mall"),
    "a mall twice": (ExportSpec("products", ("acme", "acme")), {}, ExportError, "acme"),
    "bad mall id": (ExportSpec("products", ("Not A Mall!",)), {}, ConfigurationError, "mall id"),
    "unknown format": (ExportSpec("products", ("acme",), format="xml"), {}, ExportError, "format"),
    "concurrency 0": (ExportSpec("products", ("acme",)), {"concurrency": 0}, ValidationError, "concurrency"),
    "concurrency not a number": (ExportSpec("products", ("acme",)), {"concurrency": "4"}, ValidationError,
                                 "concurrency"),
    "negative checkpoint interval": (ExportSpec("products", ("acme",)), {"checkpoint_interval": -1.0},
                                     ValidationError, "checkpoint_interval"),
    "checkpoint interval not a number": (ExportSpec("products", ("acme",)), {"checkpoint_interval": float("nan")},
                                         ValidationError, "checkpoint_interval"),
}


@pytest.mark.parametrize("case", sorted(BAD))
async def test_bad_arguments_are_refused_before_anything(case: str, make_sandbox: SandboxFactory, make_client: ClientFactory, tmp_path: Path) -> None:
    spec, options, error, named = BAD[case]
    sb = await make_sandbox(malls=("acme",), products=30, orders=30)
    api = await make_client(sb)
    out = tmp_path / "exports" / "out.jsonl"
    with pytest.raises(error, match=named):
        await run_export(api, spec, str(out), **options)
    assert not (tmp_path / "exports").exists()  # no output, checkpoint, lock or folder
    assert len(sb.requests) == 0  # and nothing was sent


async def test_number_params_given_as_text_are_numbers(make_sandbox: SandboxFactory, make_client: ClientFactory, tmp_path: Path) -> None:
    """`since_product_no="250"` is the number 250: the keyset compares numbers, and the
    checkpoint records the same job as `since_product_no=250`."""
    sb = await make_sandbox(malls=("acme", "beta"), products=300)
    api = await make_client(sb)
    out = tmp_path / "products.jsonl"
    text = ExportSpec("products", ("acme", "ghost"), {"since_product_no": "250", "fields": ["product_no"]})
    report = await run_export(api, text, str(out))
    assert report.records == {"acme": 50, "ghost": 0} and "ghost" in report.errors  # ghost: no token
    saved = json.loads(checkpoint_path(str(out)).read_text(encoding="utf-8"))
    assert saved["job"]["params"]["since_product_no"] == 250
    await api.token_store.save("ghost", Token.from_response(sb.issue_token("ghost")))
    number = ExportSpec("products", ("acme", "ghost"), {"since_product_no": 250, "fields": ["product_no"]})
    report = await run_export(api, number, str(out))
    assert report.resumed and report.records == {"acme": 0, "ghost": 50}
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert sorted((r["mall_id"], r["product_no"]) for r in rows) == [
        (m, n) for m in ("acme", "ghost") for n in range(251, 301)
    ]
