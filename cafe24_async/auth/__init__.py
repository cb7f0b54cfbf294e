"""Authorisation: tokens, where they are stored, and how they are renewed."""

from cafe24_async.auth.oauth import authorize_url, basic_auth
from cafe24_async.auth.refresher import TokenRefresher
from cafe24_async.auth.stores import FileTokenStore, MemoryTokenStore, TokenStore
from cafe24_async.auth.token import Token, TokenFieldError, mask, parse_timestamp

__all__ = [
    "FileTokenStore",
    "MemoryTokenStore",
    "Token",
    "TokenFieldError",
    "TokenRefresher",
    "TokenStore",
    "authorize_url",
    "basic_auth",
    "mask",
    "parse_timestamp",
]
