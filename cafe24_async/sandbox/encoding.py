"""JSON encoding of answers, with pre-encoded records for fast list pages.

Encoding a 100-product page from scratch costs more than everything else a
request does, so collections keep each record's encoded bytes and a page is
assembled by joining them (`Encoded`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import attrs


def dump_json(payload: Any) -> bytes:
    """Compact UTF-8 JSON (Korean text stays readable)."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


@attrs.frozen(slots=True)
class Encoded:
    """An answer body that is already JSON."""

    data: bytes


def wrap_list(root: str, parts: Iterable[bytes]) -> Encoded:
    """`{root: [part, ...]}` from encoded parts."""
    return Encoded(b"{" + dump_json(root) + b":[" + b",".join(parts) + b"]}")


def wrap_object(root: str, part: bytes) -> Encoded:
    """`{root: part}` from an encoded part."""
    return Encoded(b"{" + dump_json(root) + b":" + part + b"}")
