"""One exception hierarchy for everything the client raises.

Errors are grouped by meaning, not by where they happened: a caller catches
`NotFoundError` or `RateLimitError`, never an aiohttp type. API errors carry the
HTTP status, the documented `error.code`, `message` and `more_info`, and the
method and documented path of the call. No error ever holds a token or secret:
messages are built only from the server's error body and the route.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

#: Keys whose values are secrets wherever they appear in a body the server sent back.
SECRET_KEYS = frozenset({
    "access_token", "refresh_token", "client_secret", "front_api_key", "api_key",
    "authorization", "password", "secret",
})
HIDDEN = "<hidden>"


def redact(value: Any, secrets: Iterable[str | None] = ()) -> Any:
    """`value` (a decoded JSON body, or text) with every secret masked.

    Values under a key of `SECRET_KEYS` are replaced, and every occurrence of one of
    `secrets` (the caller's own tokens and keys; short ones are ignored) inside any
    string is cut out, so a server that echoes a token never puts it into an error.
    """
    known = sorted({s for s in secrets if s and len(s) >= 6}, key=len, reverse=True)
    return _redact(value, known)


def _redact(value: Any, known: list[str]) -> Any:
    if isinstance(value, str):
        for secret in known:
            if secret in value:
                value = value.replace(secret, HIDDEN)
        return value
    if isinstance(value, dict):
        return {
            k: HIDDEN if isinstance(k, str) and k.lower() in SECRET_KEYS and v else _redact(v, known)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_redact(v, known) for v in value]
    return value


class Cafe24Error(Exception):
    """Base class of every error raised by cafe24_async."""


class ValidationError(Cafe24Error, ValueError):
    """A parameter broke a documented rule; nothing was sent."""

    def __init__(self, param: str, rule: str, route: str | None = None) -> None:
        self.param = param
        self.rule = rule
        self.route = route
        where = f" ({route})" if route else ""
        super().__init__(f"{param}: {rule}{where}")


class ConfigurationError(Cafe24Error, ValueError):
    """The client was set up with values it cannot work with."""


class ClientClosedError(Cafe24Error, RuntimeError):
    """A call was made after the client was closed."""


class PaginationCapError(Cafe24Error):
    """A list reached its documented offset cap and the route has no way past it."""

    def __init__(self, route: str, offset_max: int, hint: str) -> None:
        self.route = route
        self.offset_max = offset_max
        super().__init__(
            f"{route}: more records than offset paging reaches (offset is capped at "
            f"{offset_max}); {hint}"
        )


class ReauthorizeError(Cafe24Error):
    """The refresh token is missing, expired or rejected: the mall must authorise the app again."""

    def __init__(self, mall_id: str, reason: str) -> None:
        self.mall_id = mall_id
        self.reason = reason
        super().__init__(f"re-authorize mall {mall_id!r}: {reason}")


class QuotaWaitError(Cafe24Error):
    """The mall is blocked for longer than the caller agreed to wait."""

    def __init__(self, mall_id: str, wait: float, max_wait: float) -> None:
        self.mall_id = mall_id
        self.wait = wait
        self.max_wait = max_wait
        super().__init__(
            f"mall {mall_id!r} is paused for {wait:.1f}s more, over the {max_wait:.1f}s maximum wait"
        )


class QuotaHeadroomError(Cafe24Error):
    """A write unit was not started: the mall's usage quota is above the caller's ceiling."""

    def __init__(self, mall_id: str, usage: float | None, ceiling: float, paused: float) -> None:
        self.mall_id = mall_id
        self.usage = usage
        self.ceiling = ceiling
        state = f"paused for {paused:.1f}s more" if paused else f"usage {usage}%"
        super().__init__(f"mall {mall_id!r} has no headroom for this unit: {state}, ceiling {ceiling}%")


class TokenStoreError(Cafe24Error):
    """A token store could not be read or written (a damaged file, a folder in its place,
    no permission). Names the store's location, never a token."""

    def __init__(self, location: str, problem: str) -> None:
        self.location = location
        self.problem = problem
        super().__init__(f"token store {location}: {problem}")


class IncompleteReadError(Cafe24Error):
    """A paged read could not be completed: a page stayed short while the count said
    more records remain, or the answers contradict each other. Nothing was skipped
    silently; the read stopped at `offset`."""

    def __init__(self, route: str, offset: int, problem: str) -> None:
        self.route = route
        self.offset = offset
        self.problem = problem
        super().__init__(f"{route}: read stopped at offset {offset}: {problem}")


class Cafe24ConnectionError(Cafe24Error, ConnectionError):
    """The request did not get an HTTP answer: refused, reset, or DNS failure."""

    def __init__(self, message: str, method: str = "", path: str = "") -> None:
        self.method = method
        self.path = path
        prefix = f"{method} {path}: " if method else ""
        super().__init__(f"{prefix}{message}")


class Cafe24TimeoutError(Cafe24ConnectionError, TimeoutError):
    """The request timed out (connect, read or total)."""


class APIError(Cafe24Error):
    """The server answered with an error status."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: Any = None,
        more_info: Any = None,
        method: str = "",
        path: str = "",
        body: Any = None,
        trace_id: str | None = None,
    ) -> None:
        self.status = status
        self.code = code
        self.message = message
        self.more_info = more_info
        self.method = method
        self.path = path
        self.body = body
        #: The `x-trace_id` of the answer: what Cafe24 support asks for.
        self.trace_id = trace_id
        trace = f" (trace_id {trace_id})" if trace_id else ""
        super().__init__(f"{status} {method} {path}: {message}{trace}".replace("  ", " "))


class BadRequestError(APIError):
    """400: the server could not understand the request."""


class AuthenticationError(APIError):
    """401: missing, wrong or expired credentials."""


class PermissionDeniedError(APIError):
    """403: the token lacks the scope, or the app is not installed."""


class NotFoundError(APIError):
    """404: no such path or resource."""


class ApiVersionError(BadRequestError):
    """400: the server refused the pinned `X-Cafe24-Api-Version` (invalid, or expired).
    Names the version sent and the server's default."""

    def __init__(self, error: APIError, pinned: str | None, default: str | None) -> None:
        super().__init__(
            error.status,
            f"the API version {pinned or '(none pinned)'} was refused; the server's default is "
            f"{default or 'not given'} (set Cafe24(api_version=...) to a valid version)",
            code=error.code, more_info=error.more_info, method=error.method, path=error.path,
            body=error.body, trace_id=error.trace_id,
        )
        self.pinned = pinned
        self.default = default


class ConflictError(APIError):
    """409: the resource already exists."""


class UnprocessableError(APIError):
    """422: the server rejected a parameter."""


class RateLimitError(APIError):
    """429: the mall's bucket or quota is full and retries ran out."""


class ServerError(APIError):
    """5xx: the server failed."""


class DecodeError(APIError):
    """The server answered 2xx with a body that is not the JSON the route documents."""


_BY_STATUS: dict[int, type[APIError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableError,
    429: RateLimitError,
}


def error_class(status: int) -> type[APIError]:
    """The exception class for an HTTP error status."""
    if status >= 500:
        return ServerError
    return _BY_STATUS.get(status, APIError)


def api_error(
    status: int, body: Any, method: str, path: str, secrets: Iterable[str | None] = (),
    trace_id: str | None = None,
) -> APIError:
    """Build the right error from a documented error body `{"error": {code, message, more_info}}`.

    The body is redacted first (`redact`): `secrets` are the caller's tokens and keys,
    masked wherever the server echoed them.
    """
    body = redact(body, secrets)
    code: Any = None
    more_info: Any = None
    message = ""
    err = body.get("error") if isinstance(body, dict) else None
    if isinstance(err, dict):
        code = err.get("code")
        message = str(err.get("message") or "")
        more_info = err.get("more_info")
    elif isinstance(err, str):  # OAuth style: {"error": "invalid_grant", "error_description": ...}
        code = err
        message = str(body.get("error_description") or err)
    if not message:
        message = f"HTTP {status}"
    return error_class(status)(
        status, message, code=code, more_info=more_info, method=method, path=path, body=body,
        trace_id=trace_id,
    )
