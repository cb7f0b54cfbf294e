"""Deprecated import path: decoding answers now lives in `cafe24_async.pipeline.decode`.
Kept for one release so existing imports work.
"""

from __future__ import annotations

from cafe24_async.pipeline.decode import MultiStatus, parse_json, unwrap

__all__ = ["MultiStatus", "parse_json", "unwrap"]
