"""The API surface: namespaces and endpoint coroutines bound from the route table.

`Namespace(caller, api_tree("admin"))` is `mall.admin`; every coroutine below it
is built from a route row (`binder`), with its docstring and signature (`docs`).
"""

from cafe24_async.api.binder import Caller, Namespace, endpoint_function, iterator_function
from cafe24_async.api.docs import CALL_OPTIONS, describe_param, docstring, signature
from cafe24_async.api.tree import NamespaceNode, api_tree, iterator_name

__all__ = [
    "CALL_OPTIONS",
    "Caller",
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
