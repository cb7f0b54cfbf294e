"""What a resource handler receives about one request, and the handler signature.

Handlers are plain functions from a `RequestContext` to `(status, payload)`;
everything HTTP-specific (auth, bucket, faults, encoding) stays in the dispatcher.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import attrs

from cafe24_async.routes import Route
from cafe24_async.sandbox.state import MallState


@attrs.define(slots=True)
class RequestContext:
    route: Route
    mall: MallState
    method: str
    #: Path placeholders, percent-decoded.
    params: dict[str, str]
    query: Mapping[str, str]
    #: Parsed JSON body; None when there was no body or it was not JSON.
    body: Any
    raw_body: bytes
    content_type: str


Handler = Callable[[RequestContext], tuple[int, Any]]
