"""Deprecated import path: checking and rendering a call's arguments now lives in
`cafe24_async.pipeline.build`. Kept for one release so existing imports work.
"""

from __future__ import annotations

from cafe24_async.pipeline.build import (
    MAX_LIST_ITEMS,
    PreparedRequest,
    RouteShape,
    bind_path,
    prepare,
    render_datetime,
    render_query_value,
    route_shape,
    whole_number,
)

__all__ = [
    "MAX_LIST_ITEMS",
    "PreparedRequest",
    "RouteShape",
    "bind_path",
    "prepare",
    "render_datetime",
    "render_query_value",
    "route_shape",
    "whole_number",
]
