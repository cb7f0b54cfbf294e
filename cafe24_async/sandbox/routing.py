"""Matching a request path to a documented route.

Paths are matched segment by segment in a tree built from the route table.
At every level a literal segment is tried before a placeholder, so
`/products/count` wins over `/products/{product_no}`, and a dead end backtracks
to the placeholder branch. Placeholders are named per route, so two routes may
name the same position differently (`{member_id}` and `{writing_id}`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Generic, TypeVar

import attrs

T = TypeVar("T")

_PLACEHOLDER = re.compile(r"^\{([^{}]+)\}$")


def split_template(path: str) -> list[str]:
    """`/api/v2/admin/products/{product_no}` -> its segments."""
    return path.strip("/").split("/")


def placeholder_names(path: str) -> tuple[str, ...]:
    """Placeholder names in path order."""
    names = []
    for segment in split_template(path):
        found = _PLACEHOLDER.match(segment)
        if found:
            names.append(found.group(1))
    return tuple(names)


@attrs.define(slots=True)
class _Node(Generic[T]):
    static: dict[str, _Node[T]] = attrs.field(factory=dict)
    param: _Node[T] | None = None
    #: method -> (target, placeholder names in path order)
    targets: dict[str, tuple[T, tuple[str, ...]]] = attrs.field(factory=dict)


@attrs.frozen(slots=True)
class Match(Generic[T]):
    target: T
    params: dict[str, str]


class RouteTree(Generic[T]):
    """Path templates to targets (whatever the caller stores per route)."""

    def __init__(self) -> None:
        self._root: _Node[T] = _Node()

    def add(self, method: str, path: str, target: T) -> None:
        node = self._root
        for segment in split_template(path):
            if _PLACEHOLDER.match(segment):
                if node.param is None:
                    node.param = _Node()
                node = node.param
            else:
                node = node.static.setdefault(segment, _Node())
        method = method.upper()
        if method in node.targets:
            raise ValueError(f"duplicate route {method} {path}")
        node.targets[method] = (target, placeholder_names(path))

    def match(self, method: str, segments: Sequence[str]) -> tuple[Match[T] | None, bool]:
        """(match, path_known): path_known is True when some route has this path
        under another method (a 404/405 rather than an unknown path)."""
        captured: list[str] = []
        known = False
        count = len(segments)

        def visit(node: _Node[T], depth: int) -> tuple[T, tuple[str, ...]] | None:
            nonlocal known
            if depth == count:
                if not node.targets:
                    return None
                known = True
                return node.targets.get(method)
            segment = segments[depth]
            child = node.static.get(segment)
            if child is not None:
                found = visit(child, depth + 1)
                if found is not None:
                    return found
            if node.param is not None and segment:
                captured.append(segment)
                found = visit(node.param, depth + 1)
                if found is not None:
                    return found
                captured.pop()
            return None

        hit = visit(self._root, 0)
        if hit is None:
            return None, known
        target, names = hit
        return Match(target, dict(zip(names, captured, strict=True))), True
