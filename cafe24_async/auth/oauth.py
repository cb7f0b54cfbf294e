"""The documented OAuth 2.0 calls: authorize URL, code exchange, refresh.

Both token calls POST a form to `/api/v2/oauth/token` with
`Authorization: Basic base64(client_id:client_secret)`, exactly as the Admin
reference shows. These calls never draw from the mall's rate-limit bucket.
An `invalid_grant` answer means the mall must authorise the app again.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode

import aiohttp

from cafe24_async.auth.token import Token
from cafe24_async.errors import (
    Cafe24ConnectionError,
    Cafe24TimeoutError,
    DecodeError,
    ReauthorizeError,
    api_error,
)

TOKEN_PATH = "/api/v2/oauth/token"
AUTHORIZE_PATH = "/api/v2/oauth/authorize"


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
    form: dict[str, str],
    timeout: aiohttp.ClientTimeout | None = None,
) -> Token:
    """POST the token form; return the new token or raise without touching any store."""
    url = f"{mall_base_url}{TOKEN_PATH}"
    headers = {
        "Authorization": basic_auth(client_id, client_secret),
        "Content-Type": "application/x-www-form-urlencoded",
    }
    try:
        # aiohttp reads `timeout=None` as "no limit at all": leave it out to keep the session's.
        options: dict[str, Any] = {} if timeout is None else {"timeout": timeout}
        async with session.post(url, data=form, headers=headers, **options) as resp:
            status = resp.status
            text = await resp.text()
    except TimeoutError as exc:
        raise Cafe24TimeoutError("token request timed out", "POST", TOKEN_PATH) from exc
    except aiohttp.ClientError as exc:
        raise Cafe24ConnectionError(
            f"token request failed: {type(exc).__name__}", "POST", TOKEN_PATH
        ) from exc
    try:
        body: Any = json.loads(text) if text else None
    except ValueError:
        body = None
    if status == 200 and isinstance(body, dict) and "access_token" in body:
        return Token.from_response(body)
    if status == 200:
        raise DecodeError(status, "token response is not the documented JSON",
                          method="POST", path=TOKEN_PATH)
    error_code = body.get("error") if isinstance(body, dict) else None
    if status in (400, 401) and error_code in ("invalid_grant", "invalid_request"):
        description = body.get("error_description") if isinstance(body, dict) else None
        raise ReauthorizeError(mall_id, str(description or error_code))
    raise api_error(status, body, "POST", TOKEN_PATH)


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
