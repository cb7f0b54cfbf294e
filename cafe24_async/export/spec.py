"""What an export is asked to do, and the fingerprint its checkpoint keeps of it.

The fingerprint (resource, malls, params, format) is how a resume knows that a
checkpoint belongs to the same job; params are written as plain JSON values, so
`since_product_no=250` is the same job however it was given (see
`export.arguments`, which turns documented numbers given as text into numbers).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from cafe24_async.export.output import output_format
from cafe24_async.export.resources import resolve_resource
from cafe24_async.routes.route import Route


@attrs.frozen
class ExportSpec:
    """What to export: a resource, the malls, and the list params (filters, fields, embed)."""

    resource: str
    malls: tuple[str, ...]
    params: Mapping[str, Any] = attrs.field(factory=dict)
    format: str | None = None

    @property
    def route(self) -> Route:
        return resolve_resource(self.resource)

    def fingerprint(self, output: str) -> dict[str, Any]:
        return {
            "resource": self.route.qualified_name,
            "malls": list(self.malls),
            "params": {k: _plain(v) for k, v in sorted(self.params.items())},
            "format": format_for(output, self.format),
        }


def format_for(path: str, explicit: str | None) -> str:
    """The output's format, from `explicit` or the file name (see `export.output.output_format`)."""
    return output_format(path, explicit)


def _plain(value: Any) -> Any:
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_plain(v) for v in value]
    return value if isinstance(value, (int, float, bool)) or value is None else str(value)
