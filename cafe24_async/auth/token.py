"""The OAuth token pair of one mall, and the parsing of the documented token response.

A `Token` never shows its secrets: its repr and str mask the access and refresh
tokens, so a token can be logged or printed by mistake without leaking.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import attrs

from cafe24_async.clock import KST


def parse_timestamp(value: Any) -> datetime | None:
    """Parse a documented timestamp; a value without offset is Asia/Seoul time."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=KST)
    parsed = datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=KST)


def mask(secret: str | None) -> str:
    """A secret shown as its length only."""
    return "None" if secret is None else f"<{len(secret)} chars hidden>"


def _aware(value: datetime | str) -> datetime:
    parsed = parse_timestamp(value)
    if parsed is None:
        raise ValueError("expires_at is required")
    return parsed


def _optional_aware(value: datetime | str | None) -> datetime | None:
    return parse_timestamp(value)


@attrs.frozen(slots=True, repr=False)
class Token:
    """An access token, the refresh token that renews it, and when each expires."""

    access_token: str
    refresh_token: str | None
    expires_at: datetime = attrs.field(converter=_aware)
    refresh_token_expires_at: datetime | None = attrs.field(default=None, converter=_optional_aware)
    scopes: tuple[str, ...] = attrs.field(default=(), converter=tuple)
    mall_id: str | None = None
    user_id: str | None = None
    issued_at: datetime | None = attrs.field(default=None, converter=_optional_aware)

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
    def from_response(cls, body: dict[str, Any]) -> Token:
        """Build a token from the documented `/oauth/token` response."""
        return cls(
            access_token=str(body["access_token"]),
            refresh_token=body.get("refresh_token"),
            expires_at=body["expires_at"],
            refresh_token_expires_at=body.get("refresh_token_expires_at"),
            scopes=tuple(body.get("scopes") or ()),
            mall_id=body.get("mall_id"),
            user_id=body.get("user_id"),
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
    def from_dict(cls, data: dict[str, Any]) -> Token:
        return cls.from_response(data)
