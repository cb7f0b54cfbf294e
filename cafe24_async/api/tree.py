"""The route table arranged as a tree of namespaces, one tree per API.

`admin.products.variants` is a node; its routes are keyed by action (`list`,
`get`, ...). The trees are built once per process from the route table.
"""

from __future__ import annotations

from functools import cache

from cafe24_async.routes import ROUTES
from cafe24_async.routes.route import Route


class NamespaceNode:
    """One level of the tree: child namespaces and the routes (by action) at this level."""

    __slots__ = ("children", "name", "routes")

    def __init__(self, name: str) -> None:
        self.name = name
        self.children: dict[str, NamespaceNode] = {}
        self.routes: dict[str, Route] = {}


@cache
def api_tree(api: str) -> NamespaceNode:
    """The namespace tree of one API (admin, front, analytics, dcollection)."""
    root = NamespaceNode(api)
    for route in ROUTES:
        if route.api != api:
            continue
        node = root
        for part in route.namespace:
            node = node.children.setdefault(part, NamespaceNode(f"{node.name}.{part}"))
        node.routes[route.action] = route
    return root


def iterator_name(action: str) -> str | None:
    """`list` -> `iterate`, `list_by_order_id` -> `iterate_by_order_id`."""
    return "iterate" + action[4:] if action.startswith("list") else None
