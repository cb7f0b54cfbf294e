"""The documented error body, and the exception that carries it to the dispatcher.

Handlers raise `ApiError`; the dispatcher turns it into
`{"error": {"code": <status>, "message": ..., "more_info": {}}}` with that status.
"""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An API answer other than success."""

    def __init__(self, status: int, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        #: Seconds for a `Retry-After` header (None: none is sent).
        self.retry_after = retry_after

    def body(self) -> dict[str, Any]:
        return error_body(self.status, self.message)


def error_body(status: int, message: str) -> dict[str, Any]:
    return {"error": {"code": status, "message": message, "more_info": {}}}
