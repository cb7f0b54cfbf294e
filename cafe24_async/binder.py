"""Deprecated import path: the binder now lives in `cafe24_async.api`.

Kept for one release so existing imports work; import from `cafe24_async.api`.
"""

from __future__ import annotations

from cafe24_async.api import (
    CALL_OPTIONS,
    Namespace,
    NamespaceNode,
    api_tree,
    describe_param,
    docstring,
    endpoint_function,
    iterator_function,
    iterator_name,
    signature,
)

__all__ = [
    "CALL_OPTIONS",
    "Namespace",
    "NamespaceNode",
    "api_tree",
    "describe_param",
    "docstring",
    "endpoint_function",
    "iterator_function",
    "iterator_name",
    "signature",
]
