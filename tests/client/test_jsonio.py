"""The answer decoder: orjson (the `speed` extra) and the standard library agree.

Whatever bytes arrive, `jsonio.loads` gives the value `json.loads` gives, or
raises `ValueError` where it raises; and over real HTTP an HTML page or a body
cut short is a `DecodeError` with either decoder.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cafe24_async import DecodeError, RetrySettings, jsonio
from cafe24_async.sandbox import FaultConfig
from tests.conftest import ClientFactory, SandboxFactory

DECODERS = [jsonio.loads_standard] + ([jsonio.loads] if jsonio.DECODER != "json" else [])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=8), inner, max_size=5),
    max_leaves=30,
)


def outcome(body: bytes) -> tuple[str, Any]:
    """What `json.loads` makes of `body`: ("value", its JSON text) or ("error", None)."""
    try:
        value = json.loads(body)
    except ValueError:
        return "error", None
    return "value", json.dumps(value, sort_keys=True)


def same_as_standard(body: bytes) -> None:
    expected = outcome(body)
    try:
        value = jsonio.loads(body)
    except ValueError:
        assert expected == ("error", None), body
        return
    assert ("value", json.dumps(value, sort_keys=True)) == expected, body


@settings(max_examples=300, deadline=None)
@given(json_values, st.booleans())
def test_any_json_document_reads_the_same(value: Any, ascii_only: bool) -> None:
    same_as_standard(json.dumps(value, ensure_ascii=ascii_only).encode())


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=64))
def test_any_bytes_read_the_same_or_fail_the_same(body: bytes) -> None:
    same_as_standard(body)


HOSTILE = [
    b"\xef\xbb\xbf{\"a\": 1}",                    # a UTF-8 byte-order mark (json reads it, orjson not)
    '{"a": "é"}'.encode("utf-16"),                # UTF-16 with its mark
    b'{"a": NaN, "b": Infinity, "c": -Infinity}',  # not JSON, yet json reads them
    b'{"a": 123456789012345678901234567890}',     # past 64 bits
    b'{"a": 1e400}',                              # a float too large: json gives inf
    b'{"a": "\\ud800"}',                          # a lone surrogate, escaped
    b'{"a": 1, "a": 2}',                          # a repeated key: the last wins
    b"<html><body>busy</body></html>",
    b'{"products": [{"product_no": 1}',           # cut short
    b"\xff\xfe\x00",                              # not text
    b"",
]


@pytest.mark.parametrize("body", HOSTILE)
def test_hostile_bodies_read_as_the_standard_library_reads_them(body: bytes) -> None:
    same_as_standard(body)


def test_nan_and_huge_numbers_keep_their_standard_values() -> None:
    assert math.isnan(jsonio.loads(b'{"a": NaN}')["a"])
    assert jsonio.loads(b'{"a": 1e400}')["a"] == math.inf
    assert jsonio.loads(b'{"a": 123456789012345678901234567890}')["a"] == 123456789012345678901234567890


@pytest.fixture(params=DECODERS, ids=lambda f: f.__name__)
def decoder(request: pytest.FixtureRequest) -> Iterator[None]:
    """Run a test with each installed decoder behind `jsonio.loads`."""
    chosen, jsonio.loads = jsonio.loads, request.param
    try:
        yield
    finally:
        jsonio.loads = chosen


@pytest.mark.usefixtures("decoder")
async def test_html_and_cut_bodies_are_decode_errors_with_either_decoder(
    make_sandbox: SandboxFactory, make_client: ClientFactory
) -> None:
    sb = await make_sandbox(malls=("acme",), per_mall_products={"acme": 300})
    api = await make_client(sb, retry=RetrySettings(base_delay=0.001, max_delay=0.01, max_attempts=6))
    mall = api.mall("acme")
    sb.set_faults(FaultConfig(seed=3, html_rate=0.2))
    seen = [p["product_no"] async for p in mall.admin.products.iterate(fields=["product_no"])]
    assert sorted(seen) == sorted(p["product_no"] for p in sb.dataset("acme").products.records)
    sb.set_faults(FaultConfig(html_rate=1.0))
    with pytest.raises(DecodeError, match="text/html"):
        await mall.admin.products.get(1)
