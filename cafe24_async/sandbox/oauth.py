"""The OAuth endpoints of a mall and the bookkeeping behind them.

`GET /{mall}/api/v2/oauth/authorize` approves at once and redirects with a
single-use code valid for a minute; `POST /{mall}/api/v2/oauth/token` trades a
code or a refresh token for a token pair. Refresh tokens rotate: each works
once. Expiry follows the injectable `now` clock so tests can age tokens
without waiting. These endpoints never touch the leaky bucket.

Issued tokens live in memory; `TokenStore.keep_in(path)` also keeps them in a
JSON file, read at start and rewritten after every change, so a token saved by
a client stays good across a restart of the sandbox (`cafe24-async sandbox
serve` does this by default). Authorization codes are not kept: they last a
minute.

The token endpoint can misbehave on purpose (`TokenFaultConfig`, see
`sandbox.token_faults`): fail before rotating, or rotate and then send a damaged
answer. With `echo_secrets` its error answers repeat the refresh token, code and
client secret they were sent, as a careless server might, so a test can check
that none of them reaches an exception or a log.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import secrets
import tempfile
from collections.abc import Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import attrs
from aiohttp import web
from yarl import URL

from cafe24_async.routes import ROUTES
from cafe24_async.sandbox.config import SandboxConfig, TokenFaultConfig
from cafe24_async.sandbox.dates import token_time
from cafe24_async.sandbox.encoding import dump_json
from cafe24_async.sandbox.records import ServerMallStats
from cafe24_async.sandbox.token_faults import TokenFault, TokenFaultInjector, TokenFaultKind, damaged_body

#: Every scope the route table mentions: what a sandbox token is granted by default.
ALL_SCOPES: tuple[str, ...] = tuple(sorted({r.scope for r in ROUTES if r.scope}))

INVALID_REFRESH = "Validation error: refresh_token is invalid"


class OAuthError(Exception):
    """An OAuth error answer: `{"error": code, "error_description": text}`."""

    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.error = error
        self.description = description

    def response(self, echo: Mapping[str, str] | None = None) -> web.Response:
        """The error answer; with `echo` (what the request sent) repeated inside it."""
        body: dict[str, Any] = {"error": self.error, "error_description": self.description}
        if echo:
            sent = ", ".join(f"{key}={value}" for key, value in echo.items())
            body["error_description"] = f"{self.description} (received {sent})"
            body["request"] = dict(echo)
        return web.Response(status=self.status, body=dump_json(body), content_type="application/json")


@attrs.define(slots=True)
class AccessGrant:
    mall_id: str
    expires_at: datetime
    scopes: tuple[str, ...]


@attrs.define(slots=True)
class RefreshGrant:
    mall_id: str
    expires_at: datetime
    scopes: tuple[str, ...]
    #: The access token issued together with this refresh token.
    access_token: str
    used: bool = False


@attrs.define(slots=True)
class AuthorizationCode:
    mall_id: str
    expires_at: datetime
    redirect_uri: str
    scopes: tuple[str, ...]
    used: bool = False


class TokenStore:
    """Issued codes and tokens of every mall."""

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self._access: dict[str, AccessGrant] = {}
        self._refresh: dict[str, RefreshGrant] = {}
        self._codes: dict[str, AuthorizationCode] = {}
        self._access_by_mall: dict[str, set[str]] = {}
        self._fault_config = config.token_faults
        self._faults: dict[str, TokenFaultInjector] = {}
        #: Error answers repeat the secrets of the request (see the module docstring).
        self.echo_secrets = False
        #: Where issued tokens are kept across restarts (None: memory only).
        self.state_file: Path | None = None

    # -- faults -----------------------------------------------------------------

    def set_faults(self, faults: TokenFaultConfig, echo_secrets: bool = False) -> None:
        """Switch the token endpoint's faults; every mall's generator restarts from the seed."""
        TokenFaultInjector(faults, "")  # check the settings now, not on the next request
        self._fault_config = faults
        self._faults.clear()
        self.echo_secrets = echo_secrets

    def next_fault(self, mall_id: str) -> TokenFault:
        injector = self._faults.get(mall_id)
        if injector is None:
            injector = self._faults[mall_id] = TokenFaultInjector(self._fault_config, mall_id)
        return injector.next()

    # -- issuing ----------------------------------------------------------------

    def issue(self, mall_id: str, scopes: tuple[str, ...] | None = None) -> dict[str, Any]:
        """Mint a token pair; returns the documented token response."""
        now = self.config.now()
        granted = scopes if scopes is not None else ALL_SCOPES
        access = secrets.token_urlsafe(16)
        refresh = secrets.token_urlsafe(16)
        expires = now + timedelta(seconds=self.config.access_token_ttl)
        refresh_expires = now + timedelta(seconds=self.config.refresh_token_ttl)
        self._access[access] = AccessGrant(mall_id, expires, granted)
        self._access_by_mall.setdefault(mall_id, set()).add(access)
        self._refresh[refresh] = RefreshGrant(mall_id, refresh_expires, granted, access)
        answer: dict[str, Any] = {
            "access_token": access,
            "expires_at": token_time(expires),
            "refresh_token": refresh,
            "refresh_token_expires_at": token_time(refresh_expires),
            "client_id": self.config.client_id,
            "mall_id": mall_id,
            "user_id": self.config.user_id,
            "scopes": list(granted),
            "issued_at": token_time(now),
        }
        self._save_state()
        return answer

    def new_code(self, mall_id: str, redirect_uri: str, scopes: tuple[str, ...]) -> str:
        code = secrets.token_urlsafe(16)
        expires = self.config.now() + timedelta(seconds=self.config.authorization_code_ttl)
        self._codes[code] = AuthorizationCode(mall_id, expires, redirect_uri, scopes)
        return code

    def exchange_code(self, mall_id: str, code: str, redirect_uri: str | None) -> dict[str, Any]:
        grant = self._codes.get(code)
        if grant is None or grant.used or grant.mall_id != mall_id:
            raise OAuthError(400, "invalid_grant", "Validation error: code is invalid")
        if self.config.now() >= grant.expires_at:
            raise OAuthError(400, "invalid_grant", "Validation error: code is expired")
        if redirect_uri is not None and redirect_uri != grant.redirect_uri:
            raise OAuthError(400, "invalid_grant", "Validation error: redirect_uri mismatch")
        grant.used = True
        return self.issue(mall_id, grant.scopes or None)

    def refresh(self, mall_id: str, token: str) -> dict[str, Any]:
        grant = self._refresh.get(token)
        if grant is None or grant.used or grant.mall_id != mall_id or self.config.now() >= grant.expires_at:
            raise OAuthError(400, "invalid_grant", INVALID_REFRESH)
        grant.used = True
        if self.config.revoke_old_access_on_refresh:
            self._access.pop(grant.access_token, None)
            self._access_by_mall.get(mall_id, set()).discard(grant.access_token)
        return self.issue(mall_id, grant.scopes)

    # -- checking ---------------------------------------------------------------

    def check_access(self, mall_id: str | None, token: str) -> str | None:
        """None when `token` may call the mall's API, else why not.

        `mall_id` None accepts a valid token of any mall.
        """
        grant = self._access.get(token)
        if grant is None or (mall_id is not None and grant.mall_id != mall_id):
            return "Invalid access_token (invalid_token)"
        if self.config.now() >= grant.expires_at:
            return "access_token time expired. (invalid_token)"
        return None

    def mall_of(self, token: str) -> str | None:
        grant = self._access.get(token)
        return grant.mall_id if grant is not None else None

    def scopes_of(self, token: str) -> tuple[str, ...] | None:
        """The scopes granted with `token` (None for an unknown token)."""
        grant = self._access.get(token)
        return grant.scopes if grant is not None else None

    def expire_access(self, mall_id: str) -> int:
        """Make every access token of the mall expired now; returns how many."""
        now = self.config.now() - timedelta(seconds=1)
        tokens = self._access_by_mall.get(mall_id, set())
        for token in tokens:
            grant = self._access.get(token)
            if grant is not None:
                grant.expires_at = min(grant.expires_at, now)
        self._save_state()
        return len(tokens)

    # -- persistence ------------------------------------------------------------

    def keep_in(self, path: str | os.PathLike[str]) -> int:
        """Keep issued tokens in the JSON file `path` from now on, starting from the
        tokens an earlier sandbox left there (expired ones dropped, those of another
        client id ignored); returns how many access tokens were taken over. A file
        that is not such a state raises `ValueError` naming it."""
        self.state_file = Path(path)
        taken = self._load_state(self.state_file)
        self._save_state()
        return taken

    def _load_state(self, path: Path) -> int:
        try:
            raw = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return 0
        except (OSError, UnicodeDecodeError) as exc:
            raise ValueError(f"the sandbox state {path} cannot be read ({exc})") from None
        try:
            data = json.loads(raw)
            if data.get("client_id") != self.config.client_id:
                return 0  # tokens of another app: not ours to honour
            now = self.config.now()
            access = {
                token: AccessGrant(g["mall_id"], datetime.fromisoformat(g["expires_at"]), tuple(g["scopes"]))
                for token, g in data["access"].items()
            }
            refresh = {
                token: RefreshGrant(g["mall_id"], datetime.fromisoformat(g["expires_at"]), tuple(g["scopes"]),
                                    g["access_token"], bool(g["used"]))
                for token, g in data["refresh"].items()
            }
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ValueError(
                f"the sandbox state {path} is damaged ({type(exc).__name__}: {exc}); move it away"
            ) from None
        live = {t: g for t, g in access.items() if g.expires_at > now}
        self._access.update(live)
        for token, grant in live.items():
            self._access_by_mall.setdefault(grant.mall_id, set()).add(token)
        self._refresh.update({t: g for t, g in refresh.items() if g.expires_at > now and not g.used})
        return len(live)

    def _save_state(self) -> None:
        """Rewrite the state file (atomically, mode 0600) with the tokens still good."""
        path = self.state_file
        if path is None:
            return
        now = self.config.now()
        data = {
            "client_id": self.config.client_id,
            "access": {
                token: {"mall_id": g.mall_id, "expires_at": g.expires_at.isoformat(),
                        "scopes": list(g.scopes)}
                for token, g in self._access.items() if g.expires_at > now
            },
            "refresh": {
                token: {"mall_id": g.mall_id, "expires_at": g.expires_at.isoformat(),
                        "scopes": list(g.scopes), "access_token": g.access_token, "used": g.used}
                for token, g in self._refresh.items() if g.expires_at > now and not g.used
            },
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(data, fh, indent=1)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


# -- HTTP ---------------------------------------------------------------------------


def authorize(
    config: SandboxConfig, tokens: TokenStore, mall_id: str, query: Mapping[str, str]
) -> web.Response:
    """Approve at once: 302 to `{redirect_uri}?code=..&state=..`."""
    try:
        if query.get("response_type") != "code":
            raise OAuthError(400, "unsupported_response_type", "response_type must be code")
        if query.get("client_id") != config.client_id:
            raise OAuthError(401, "invalid_client", "client_id is invalid")
        redirect_uri = query.get("redirect_uri", config.redirect_uri)
        if redirect_uri != config.redirect_uri:
            raise OAuthError(400, "invalid_request", "redirect_uri does not match the app")
    except OAuthError as error:
        return error.response()
    scopes = tuple(s for s in query.get("scope", "").split(",") if s)
    code = tokens.new_code(mall_id, redirect_uri, scopes)
    params = {"code": code}
    if "state" in query:
        params["state"] = query["state"]
    location = URL(redirect_uri).update_query(params)
    return web.Response(status=302, headers={"Location": str(location)})


def parse_form(body: bytes) -> dict[str, str]:
    return dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))


def client_ok(config: SandboxConfig, authorization: str | None) -> bool:
    if not authorization or not authorization.startswith("Basic "):
        return False
    try:
        decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return False
    return decoded == f"{config.client_id}:{config.client_secret}"


def token(
    config: SandboxConfig,
    tokens: TokenStore,
    stats: ServerMallStats,
    mall_id: str,
    headers: Mapping[str, str],
    form: Mapping[str, str],
) -> web.Response:
    """Answer a token request (authorization_code or refresh_token grant)."""
    stats.token_requests += 1
    fault = tokens.next_fault(mall_id)
    try:
        if fault.kind is TokenFaultKind.ERROR:
            stats.errors_injected += 1
            raise OAuthError(fault.status, "server_error", "temporary failure, nothing was changed")
        if not client_ok(config, headers.get("Authorization")):
            raise OAuthError(401, "invalid_client", "client authentication failed")
        content_type = headers.get("Content-Type", "")
        if not content_type.startswith("application/x-www-form-urlencoded"):
            raise OAuthError(400, "invalid_request", "Content-Type must be application/x-www-form-urlencoded")
        grant_type = form.get("grant_type")
        if grant_type == "authorization_code":
            answer = tokens.exchange_code(mall_id, form.get("code", ""), form.get("redirect_uri"))
        elif grant_type == "refresh_token":
            answer = tokens.refresh(mall_id, form.get("refresh_token", ""))
            stats.refreshes += 1
        else:
            raise OAuthError(400, "unsupported_grant_type", f"grant_type {grant_type!r} is not supported")
    except OAuthError as error:
        if error.error == "invalid_grant":
            stats.invalid_grants += 1
        return error.response(received(headers, form) if tokens.echo_secrets else None)
    stats.tokens_issued += 1
    # A damaged answer: the pair was rotated and stored above, only the answer is lost.
    damaged = fault.kind is TokenFaultKind.DAMAGE
    body = damaged_body(fault.damage, answer) if damaged else dump_json(answer)
    return web.Response(status=200, body=body, content_type="application/json")


def received(headers: Mapping[str, str], form: Mapping[str, str]) -> dict[str, str]:
    """What a token request sent: its form and its decoded client credentials."""
    sent = dict(form)
    authorization = headers.get("Authorization", "")
    if authorization.startswith("Basic "):
        try:
            sent["client"] = base64.b64decode(authorization[6:].strip()).decode("utf-8", "replace")
        except binascii.Error:
            sent["client"] = authorization
    return sent
