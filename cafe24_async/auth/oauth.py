"""The documented OAuth 2.0 calls: authorize URL, code exchange, refresh.

Both token calls POST a form to `/api/v2/oauth/token` with
`Authorization: Basic base64(client_id:client_secret)`, exactly as the Admin
reference shows. They go through `transport.send`, like every other request, so
aiohttp's failures are mapped to the library's errors in one place. These calls
never draw from the mall's rate-limit bucket.

What the answer can be:
- 2xx: the new pair; a body that is not UTF-8, not JSON, or lacks a field raises
  `TokenFieldError` (a `DecodeError`), never the token text;
- 400/401 `invalid_grant` (or `invalid_request`): `ReauthorizeError`, the mall
  must authorise the app again;
- anything else: the matching `APIError`.
A server may echo what it was sent: the refresh token, the code and the client
secret are cut out of every error message and body (`errors.redact`).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlencode

import aiohttp

from cafe24_async import transport
from cafe24_async.auth.token import TOKEN_PATH, Token, TokenFieldError
from cafe24_async.errors import Cafe24Error, ReauthorizeError, api_error, redact

AUTHORIZE_PATH = "/api/v2/oauth/authorize"
LABEL = f"POST {TOKEN_PATH}"
#: OAuth errors that mean the code or refresh token will never work again.
REJECTED = frozenset({"invalid_grant", "invalid_request"})


def basic_auth(client_id: str, client_secret: str) -> str:
    raw = f"{client_id}:{client_secret}".encode()
    return "Basic " + base64.b64encode(raw).decode("ascii")


def authorize_url(
    mall_base_url: str,
    client_id: str,
    redirect_uri: str,
    scopes: Sequence[str],
    state: str,
) -> str:
    """The URL a mall operator opens to grant the app access."""
    query = urlencode(
        {
            "response_type": "code",
            "client_id": client_id,
            "state": state,
            "redirect_uri": redirect_uri,
            "scope": ",".join(scopes),
        }
    )
    return f"{mall_base_url}{AUTHORIZE_PATH}?{query}"


async def request_token(
    session: aiohttp.ClientSession,
    mall_base_url: str,
    mall_id: str,
    client_id: str,
    client_secret: str,
    form: Mapping[str, str],
    limits: transport.TimeoutSettings | None = None,
) -> Token:
    """POST the token form; return the new token or raise without touching any store."""
    authorization = basic_auth(client_id, client_secret)
    headers = {"Authorization": authorization, "Content-Type": "application/x-www-form-urlencoded"}
    raw = await transport.send(
        session, "POST", f"{mall_base_url}{TOKEN_PATH}", query=None, json_body=None,
        headers=headers, limits=limits, label=LABEL, form_body=form,
    )
    if 200 <= raw.status < 300:
        return parse_token(raw.body)
    hidden = (client_secret, authorization[6:], form.get("refresh_token"), form.get("code"))
    raise token_error(raw.status, raw.body, mall_id, hidden)


def parse_token(body: bytes) -> Token:
    """The token pair of a 2xx answer, or `TokenFieldError` saying what is wrong."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise TokenFieldError("body", "is not UTF-8 text") from None
    try:
        document = json.loads(text)
    except (ValueError, RecursionError):
        raise TokenFieldError("body", "is not JSON") from None
    return Token.from_response(document)


def token_error(status: int, body: bytes, mall_id: str, hidden: Sequence[str | None]) -> Cafe24Error:
    """The error for a non-2xx token answer, with every secret of `hidden` cut out."""
    try:
        document: Any = redact(json.loads(body), hidden) if body else None
    except (ValueError, RecursionError):
        document = None
    code = document.get("error") if isinstance(document, dict) else None
    if status in (400, 401) and code in REJECTED:
        description = document.get("error_description") if isinstance(document, dict) else None
        return ReauthorizeError(mall_id, str(description or code))
    return api_error(status, document, "POST", TOKEN_PATH, secrets=hidden)


async def exchange_code(
    session: aiohttp.ClientSession,
    mall_base_url: str,
    mall_id: str,
    client_id: str,
    client_secret: str,
    code: str,
    redirect_uri: str,
) -> Token:
    """Trade an authorization code for the first token pair."""
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
    return await request_token(session, mall_base_url, mall_id, client_id, client_secret, form)


async def refresh_token(
    session: aiohttp.ClientSession,
    mall_base_url: str,
    mall_id: str,
    client_id: str,
    client_secret: str,
    refresh: str,
) -> Token:
    """Spend `refresh` for a new pair (Cafe24 rotates the refresh token)."""
    form = {"grant_type": "refresh_token", "refresh_token": refresh}
    return await request_token(session, mall_base_url, mall_id, client_id, client_secret, form)
