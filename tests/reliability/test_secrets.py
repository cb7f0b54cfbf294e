"""Secrets stay secret, and nothing a caller passes can move a request elsewhere.

A full run (refreshes, retries under faults, errors of every kind, Basic-auth
D.Collection calls, a rejected refresh token, a closed client) is recorded: every
log record of every logger at DEBUG, and the repr and str of every library
object reachable from the client and of every exception raised. None may hold
the client secret, its Basic-auth form, or any access or refresh token.
"""

from __future__ import annotations

import base64
import contextlib
import logging
import os
import secrets
import stat
import traceback
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest

from cafe24_async import (
    Cafe24,
    Cafe24Error,
    ConfigurationError,
    FileTokenStore,
    NotFoundError,
    RetrySettings,
    Token,
    ValidationError,
)
from cafe24_async.sandbox import FaultConfig, Sandbox
from tests.conftest import SandboxFactory

MALL = "acme"


def library_objects(roots: Iterable[Any], limit: int = 5000) -> Iterator[Any]:
    """Every cafe24_async object reachable from `roots` through public attributes."""
    seen: set[int] = set()
    queue = list(roots)
    while queue and len(seen) < limit:
        obj = queue.pop()
        if id(obj) in seen or isinstance(obj, (str, bytes, int, float, bool, type(None))):
            continue
        seen.add(id(obj))
        if isinstance(obj, dict):
            queue.extend(obj.values())
            continue
        if isinstance(obj, (list, tuple, set, frozenset)):
            queue.extend(obj)
            continue
        module = type(obj).__module__ or ""
        if not module.startswith("cafe24_async") or module.startswith("cafe24_async.sandbox"):
            continue
        yield obj
        for name in dir(obj):
            if name.startswith("_"):
                continue
            try:
                value = getattr(obj, name)
            except Exception:  # a property of a closed client, say
                continue
            if not callable(value) or type(value).__module__.startswith("cafe24_async"):
                queue.append(value)


def texts_of_exception(exc: BaseException) -> list[str]:
    return [str(exc), repr(exc), "".join(traceback.format_exception(exc))]


def texts_of_record(record: logging.LogRecord) -> list[str]:
    out = [record.getMessage(), repr(record.__dict__)]
    if record.exc_info:
        out.append(logging.Formatter().formatException(record.exc_info))
    return out


def tokens_seen_by(sb: Sandbox) -> set[str]:
    """Every access token the client sent and every refresh token it spent."""
    found: set[str] = set()
    for req in sb.requests:
        auth = req.headers.get("Authorization", "")
        if auth.startswith("Bearer "):
            found.add(auth[7:])
        if req.form and req.form.get("refresh_token"):
            found.add(req.form["refresh_token"])
    return found


async def test_no_secret_in_any_log_repr_or_error(
    make_sandbox: SandboxFactory, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # the root logger: every logger, every level
    client_secret = "cs-" + secrets.token_urlsafe(24)
    sb = await make_sandbox(malls=(MALL,), products=120, client_secret=client_secret)
    path = tmp_path / "tokens.json"
    store = FileTokenStore(path)
    issued = Token.from_response(sb.issue_token(MALL))
    await store.save(MALL, Token(access_token=issued.access_token, refresh_token=issued.refresh_token,
                                 expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    sb.expire_access_token(MALL)
    errors: list[BaseException] = []
    tokens: list[Token] = [issued]
    api = Cafe24(
        client_id=sb.config.client_id, client_secret=client_secret, token_store=store,
        base_url=sb.base_url, analytics_base_url=sb.root_url, dcollection_base_url=sb.root_url,
        dcollection_credentials=(sb.config.client_id, client_secret), leak_rate=1000.0,
        max_per_second=None, retry=RetrySettings(max_attempts=8, base_delay=0.001, max_delay=0.005),
    )
    async with api:
        mall = api.mall(MALL)
        assert await mall.admin.products.count() == 120  # refreshes first
        sb.set_faults(FaultConfig(seed=1, error_rate=0.1, drop_rate=0.05, truncate_rate=0.05))
        assert len([p async for p in mall.admin.products.iterate(limit=10)]) == 120
        await mall.admin.products.update(5, product_name="renamed")
        await mall.front.products.list(limit=5)
        sb.set_faults(FaultConfig())
        sb.expire_access_token(MALL)  # a 401, then a refresh after rejection
        await mall.admin.products.get(1)
        for call in (
            lambda: mall.admin.products.get(999_999),
            lambda: mall.admin.products.list(limit=1000),
            lambda: mall.admin.products.create(product_name="x", supply_price="not a number"),
            lambda: api.dcollection.products.count(dcollection_product_category=["1"]),
            lambda: mall.analytics.members.sales.list(start_date="2026-01-01", end_date="2026-01-31"),
        ):
            try:
                await call()
            except Cafe24Error as exc:
                errors.append(exc)
        sb.set_faults(FaultConfig(error_rate=1.0))
        with pytest.raises(Cafe24Error) as failed:
            await mall.admin.products.count()
        errors.append(failed.value)
        sb.set_faults(FaultConfig())
        loaded = await store.load(MALL)
        assert loaded is not None
        tokens.append(loaded)
        objects = list(library_objects([api, mall, api.stats(), mall.refresher, mall.admin.products,
                                        store, tokens, api.retry, api.timeout, api.rate_limit]))
    # A rejected refresh token, and a closed client.
    bad_refresh = "rt-" + secrets.token_urlsafe(24)
    await store.save(MALL, Token(access_token="at-" + secrets.token_urlsafe(24), refresh_token=bad_refresh,
                                 expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    async with Cafe24(client_id=sb.config.client_id, client_secret=client_secret, token_store=store,
                      base_url=sb.base_url) as other:
        with pytest.raises(Cafe24Error) as rejected:
            await other.mall(MALL).admin.products.count()
        errors.append(rejected.value)
        objects += list(library_objects([other, other.mall(MALL), await store.load(MALL)]))
    with pytest.raises(Cafe24Error) as closed:
        await mall.admin.products.count()
    errors.append(closed.value)
    assert {type(e).__name__ for e in errors} >= {"NotFoundError", "ValidationError", "ServerError",
                                                  "ReauthorizeError", "ClientClosedError"}

    secret_values = {client_secret, bad_refresh, base64.b64encode(f"{sb.config.client_id}:{client_secret}".encode()).decode()}
    secret_values |= tokens_seen_by(sb)
    secret_values |= {t.access_token for t in tokens} | {t.refresh_token for t in tokens if t.refresh_token}
    assert len(secret_values) >= 8 and all(len(s) >= 16 for s in secret_values)
    texts = [text for record in caplog.records for text in texts_of_record(record)]
    texts += [text for exc in errors for text in texts_of_exception(exc)]
    texts += [text for obj in objects for text in (repr(obj), str(obj))]
    assert len(caplog.records) > 30 and len(objects) > 50
    assert any("retrying" in t for t in texts) and any("refreshed" in t for t in texts)
    leaks = [(s[:6], t[:200]) for t in texts for s in secret_values if s in t]
    assert leaks == []


@pytest.mark.parametrize("url", [
    "http://{mall_id}.cafe24api.com",
    "http://localhost.evil.example/{mall_id}",
    "http://127.0.0.1.nip.io/{mall_id}",
    "ftp://{mall_id}.cafe24api.com",
    "//{mall_id}.cafe24api.com",
    "{mall_id}.cafe24api.com",
])
def test_https_is_required_except_on_loopback(url: str) -> None:
    with pytest.raises(ConfigurationError):
        Cafe24(client_id="app", base_url=url)
    plain = url.replace("{mall_id}.", "").replace("/{mall_id}", "")
    for option in ("analytics_base_url", "dcollection_base_url"):
        with pytest.raises(ConfigurationError):
            Cafe24(client_id="app", **{option: plain})


@pytest.mark.parametrize("url", [
    "https://{mall_id}.cafe24api.com",
    "http://127.0.0.1:8024/{mall_id}",
    "http://localhost:8024/{mall_id}",
    "http://[::1]:8024/{mall_id}",
    "http://127.5.6.7/{mall_id}",
])
def test_https_or_loopback_is_accepted(url: str) -> None:
    assert Cafe24(client_id="app", base_url=url).base_url == url


async def test_the_token_file_is_private(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    path.write_text("{}")
    path.chmod(0o644)  # an existing, readable file is replaced by a private one
    old_umask = os.umask(0)
    try:
        store = FileTokenStore(path)
        await store.save(MALL, Token(access_token="a" * 20, refresh_token="r" * 20,
                                     expires_at=datetime.now(UTC) + timedelta(hours=1)))
        fresh = FileTokenStore(tmp_path / "new" / "tokens.json")
        await fresh.save(MALL, Token(access_token="a" * 20, refresh_token="r" * 20,
                                     expires_at=datetime.now(UTC) + timedelta(hours=1)))
        async with store.refresh_lock(MALL):
            pass
    finally:
        os.umask(old_umask)
    modes = file_modes([path, fresh.path], tmp_path, "*.lock")
    assert len(modes) >= 4 and set(modes.values()) == {0o600}, modes


def file_modes(files: list[Path], folder: Path, pattern: str) -> dict[str, int]:
    """Permission bits of `files` and of the files of `folder` matching `pattern`."""
    return {str(f): stat.S_IMODE(f.stat().st_mode) for f in [*files, *folder.glob(pattern)]}


BAD_MALL_IDS = ["../evil", "evil/x", "a@evil.example", "a?x=1", "a#x", "a b", "", "Acme", "-acme",
                "acme-", "a" * 51, "evil.example", "acme\x00", "한글몰", "acme\n", "%2e%2e"]


@pytest.mark.parametrize("mall_id", BAD_MALL_IDS)
async def test_bad_mall_ids_are_refused(make_sandbox: SandboxFactory, mall_id: str) -> None:
    sb = await make_sandbox(malls=(MALL,), products=5)
    async with Cafe24(client_id=sb.config.client_id, base_url=sb.base_url) as api:
        with pytest.raises(ConfigurationError, match="invalid mall id"):
            api.mall(mall_id)
        with pytest.raises(ConfigurationError):
            api.authorize_url(mall_id, "https://localhost/cb", ["mall.read_product"])
    assert len(sb.requests) == 0


NASTY_PATH_VALUES = ["../../oauth/token", "a/b", "a@evil.example", "a?limit=1", "a#frag", "a b",
                     "..%2F..%2Fx", "%2e%2e", "\\..\\x", "a\r\nHost: evil.example", "//evil.example/x",
                     "https://evil.example", "...", "회원/../x", "a;b=c", "~user", "a%00b"]


async def test_path_values_cannot_change_the_host_or_path(make_sandbox: SandboxFactory) -> None:
    sb = await make_sandbox(malls=(MALL,), products=5)
    store_token = Token.from_response(sb.issue_token(MALL))
    from cafe24_async import MemoryTokenStore

    store = MemoryTokenStore()
    await store.save(MALL, store_token)
    async with Cafe24(client_id=sb.config.client_id, token_store=store, base_url=sb.base_url,
                      leak_rate=1000.0, max_per_second=None) as api:
        mall = api.mall(MALL)
        for value in NASTY_PATH_VALUES:
            before = len(sb.requests)
            with contextlib.suppress(NotFoundError):
                await mall.admin.customers.memos.list(value)
            assert len(sb.requests) == before + 1, value
            req = sb.requests[-1]
            assert req.mall_id == MALL and req.path == "/api/v2/admin/customers/{member_id}/memos", value
            segments = req.raw_path.split("/")
            assert segments[:5] == ["", MALL, "api", "v2", "admin"] and len(segments) == 8, value
            assert unquote(segments[6]) == value
        for value in ("", ".", ".."):
            with pytest.raises(ValidationError):
                await mall.admin.customers.memos.list(value)
        before = len(sb.requests)
        for value in ("x&limit=1", "x#y", "x?offset=5", "x=1&y=2", "a\r\nX-Injected: 1"):
            await mall.admin.products.list(product_name=value)
            req = sb.requests[-1]
            assert req.query == {"product_name": value} and "X-Injected" not in req.headers
        assert len(sb.requests) == before + 5
