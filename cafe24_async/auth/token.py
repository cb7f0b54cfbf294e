"""The OAuth token pair of one mall, and the parsing of the documented token response.

A `Token` never shows its secrets: its repr and str mask the access and refresh
tokens, so a token can be logged or printed by mistake without leaking.

Parsing is strict: a token answer (or a stored token) with a field missing or of
the wrong kind raises `TokenFieldError`, a `DecodeError` that names the field and
what is wrong with it, never its value (a server that puts a token in the wrong
field must not have it printed). `TokenFieldError` is also a `ValueError`, for
callers that caught that before.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import attrs

from cafe24_async.dates import in_korea
from cafe24_async.errors import DecodeError

TOKEN_PATH = "/api/v2/oauth/token"


class TokenFieldError(DecodeError, ValueError):
    """A token answer or a stored token lacks a field, or holds one that cannot be read."""

    def __init__(self, field: str, problem: str) -> None:
        self.field = field
        self.problem = problem
        super().__init__(200, f"token answer: {field} {problem}", method="POST", path=TOKEN_PATH)


def _kind(value: Any) -> str:
    """What `value` is, without showing it."""
    if isinstance(value, str):
        return f"text of {len(value)} characters"
    return type(value).__name__


def parse_timestamp(value: Any, field: str = "timestamp") -> datetime | None:
    """Parse a documented timestamp; a value without offset is Asia/Seoul time.

    None and "" are None; anything else that is not an ISO 8601 text or a datetime
    raises `TokenFieldError` naming `field`.
    """
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return in_korea(value)
    if not isinstance(value, str):
        raise TokenFieldError(field, f"is not a timestamp (a {_kind(value)})")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise TokenFieldError(field, f"is not an ISO 8601 timestamp (a {_kind(value)})") from None
    return in_korea(parsed)


def mask(secret: str | None) -> str:
    """A secret shown as its length only."""
    return "None" if secret is None else f"<{len(secret)} chars hidden>"


def _expires_at(value: Any) -> datetime:
    parsed = parse_timestamp(value, "expires_at")
    if parsed is None:
        raise TokenFieldError("expires_at", "is missing")
    return parsed


def _refresh_token_expires_at(value: Any) -> datetime | None:
    return parse_timestamp(value, "refresh_token_expires_at")


def _issued_at(value: Any) -> datetime | None:
    return parse_timestamp(value, "issued_at")


def _scope_tuple(value: Iterable[str]) -> tuple[str, ...]:
    return tuple(value)


def _text(body: dict[str, Any], field: str, required: bool = False) -> Any:
    value = body.get(field)
    if value is None and not required:
        return None
    if not isinstance(value, str) or (required and not value):
        problem = "is missing" if value is None or value == "" else f"is not text (a {_kind(value)})"
        raise TokenFieldError(field, problem)
    return value


def _scopes(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, (list, tuple)) or not all(isinstance(s, str) for s in value):
        raise TokenFieldError("scopes", f"is not a list of texts (a {_kind(value)})")
    return tuple(value)


@attrs.frozen(slots=True, repr=False)
class Token:
    """An access token, the refresh token that renews it, and when each expires."""

    access_token: str
    refresh_token: str | None
    expires_at: datetime = attrs.field(converter=_expires_at)
    refresh_token_expires_at: datetime | None = attrs.field(default=None, converter=_refresh_token_expires_at)
    scopes: tuple[str, ...] = attrs.field(default=(), converter=_scope_tuple)
    mall_id: str | None = None
    user_id: str | None = None
    issued_at: datetime | None = attrs.field(default=None, converter=_issued_at)

    def __repr__(self) -> str:
        return (
            f"Token(access_token={mask(self.access_token)}, "
            f"refresh_token={mask(self.refresh_token)}, expires_at={self.expires_at.isoformat()}, "
            f"mall_id={self.mall_id!r}, scopes={list(self.scopes)!r})"
        )

    __str__ = __repr__

    def seconds_left(self, now: datetime) -> float:
        """Seconds until the access token expires (negative once it has)."""
        return (self.expires_at - now).total_seconds()

    def refresh_token_expired(self, now: datetime) -> bool:
        exp = self.refresh_token_expires_at
        return exp is not None and exp <= now

    @classmethod
    def from_response(cls, body: Any) -> Token:
        """Build a token from the documented `/oauth/token` response.

        Raises `TokenFieldError` when `body` is not an object or a field is missing
        or of the wrong kind."""
        if not isinstance(body, dict):
            raise TokenFieldError("body", f"is not a JSON object (a {_kind(body)})")
        return cls(
            access_token=_text(body, "access_token", required=True),
            refresh_token=_text(body, "refresh_token"),
            expires_at=body.get("expires_at"),
            refresh_token_expires_at=body.get("refresh_token_expires_at"),
            scopes=_scopes(body.get("scopes")),
            mall_id=_text(body, "mall_id"),
            user_id=_text(body, "user_id"),
            issued_at=body.get("issued_at"),
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (for token stores)."""
        def iso(v: datetime | None) -> str | None:
            return v.isoformat() if v else None

        return {
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "expires_at": iso(self.expires_at),
            "refresh_token_expires_at": iso(self.refresh_token_expires_at),
            "scopes": list(self.scopes),
            "mall_id": self.mall_id,
            "user_id": self.user_id,
            "issued_at": iso(self.issued_at),
        }

    @classmethod
    def from_dict(cls, data: Any) -> Token:
        """The inverse of `to_dict` (raises `TokenFieldError` like `from_response`)."""
        return cls.from_response(data)
