"""Tokens, stores and the refresher's single flight (the refresh call injected)."""

from __future__ import annotations

import asyncio
import os
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cafe24_async import FileTokenStore, ManualClock, MemoryTokenStore, ReauthorizeError, Token
from cafe24_async.auth import parse_timestamp
from cafe24_async.auth.refresher import TokenRefresher
from cafe24_async.auth.token import TokenFieldError
from cafe24_async.auth.token_retry import retry_safe
from cafe24_async.errors import (
    AuthenticationError,
    BadRequestError,
    Cafe24ConnectionError,
    Cafe24Error,
    Cafe24TimeoutError,
    DecodeError,
    RateLimitError,
    ServerError,
)
from cafe24_async.transport import ConnectFailed

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def token(access: str = "access-secret-1", refresh: str = "refresh-secret-1", minutes: float = 120) -> Token:
    return Token(access_token=access, refresh_token=refresh, expires_at=NOW + timedelta(minutes=minutes))


def test_repr_hides_secrets() -> None:
    t = token()
    for text in (repr(t), str(t), f"{t}"):
        assert "access-secret-1" not in text and "refresh-secret-1" not in text


def test_documented_response_is_korea_time() -> None:
    t = Token.from_response({
        "access_token": "a", "expires_at": "2021-03-01T14:00:00.000", "refresh_token": "r",
        "refresh_token_expires_at": "2021-03-15T12:00:00.000", "scopes": ["mall.read_product"],
        "mall_id": "yourmall", "issued_at": "2021-03-01T12:00:00.000",
    })
    assert t.expires_at == datetime(2021, 3, 1, 5, 0, tzinfo=UTC)
    assert t.scopes == ("mall.read_product",)


async def test_file_store_is_private_and_round_trips(tmp_path: Path) -> None:
    store = FileTokenStore(tmp_path / "tokens.json")
    await store.save("acme", token())
    await store.save("other", token("a2", "r2"))
    mode = stat.S_IMODE(os.stat(tmp_path / "tokens.json").st_mode)
    assert mode == 0o600
    loaded = await store.load("acme")
    assert loaded == token()
    assert await store.load("missing") is None
    assert "access-secret-1" not in repr(store)


async def test_file_store_concurrent_saves_lose_nothing(tmp_path: Path) -> None:
    store = FileTokenStore(tmp_path / "tokens.json")
    await asyncio.gather(*(store.save(f"mall{i}", token(f"a{i}", f"r{i}")) for i in range(30)))
    for i in range(30):
        loaded = await store.load(f"mall{i}")
        assert loaded is not None and loaded.access_token == f"a{i}"


def refresher_with(store: MemoryTokenStore, clock: ManualClock, calls: list[str], fail: bool = False) -> TokenRefresher:
    async def refresh_call(refresh: str) -> Token:
        calls.append(refresh)
        await asyncio.sleep(0.01)
        if fail:
            raise Cafe24ConnectionError("down")
        n = len(calls) + 1
        return Token(access_token=f"access-{n}", refresh_token=f"refresh-{n}", expires_at=clock.now() + timedelta(hours=2))
    return TokenRefresher("acme", store, refresh_call, clock)


async def test_single_flight_refresh() -> None:
    clock = ManualClock(NOW)
    store = MemoryTokenStore()
    await store.save("acme", token(minutes=-1))
    calls: list[str] = []
    refresher = refresher_with(store, clock, calls)
    tokens = await asyncio.gather(*(refresher.token() for _ in range(200)))
    assert calls == ["refresh-secret-1"]
    assert {t.access_token for t in tokens} == {"access-2"}
    saved = await store.load("acme")
    assert saved is not None and saved.refresh_token == "refresh-2"


async def test_proactive_refresh_and_advisory_failure() -> None:
    clock = ManualClock(NOW)
    store = MemoryTokenStore()
    await store.save("acme", token(minutes=3))  # inside the 5-minute advisory window
    calls: list[str] = []
    refresher = refresher_with(store, clock, calls, fail=True)
    t = await refresher.token()  # refresh fails on the network, current token still good
    assert t.access_token == "access-secret-1" and len(calls) == 1
    saved = await store.load("acme")
    assert saved is not None and saved.refresh_token == "refresh-secret-1"  # kept intact


async def test_expired_and_failing_refresh_raises() -> None:
    clock = ManualClock(NOW)
    store = MemoryTokenStore()
    await store.save("acme", token(minutes=-1))
    refresher = refresher_with(store, clock, [], fail=True)
    with pytest.raises(Cafe24ConnectionError):
        await refresher.token()


async def test_missing_or_expired_refresh_token_means_reauthorize() -> None:
    clock = ManualClock(NOW)
    store = MemoryTokenStore()
    refresher = refresher_with(store, clock, [])
    with pytest.raises(ReauthorizeError, match="re-authorize"):
        await refresher.token()
    await store.save("acme", Token(access_token="a", refresh_token="r", expires_at=NOW - timedelta(hours=1),
                                   refresh_token_expires_at=NOW - timedelta(minutes=1)))
    with pytest.raises(ReauthorizeError, match="expired"):
        await refresher.token()


SECRET = "at-" + "s3cr3t" * 5
GOOD = {"access_token": SECRET, "refresh_token": "rt-" + "x" * 20, "expires_at": "2026-01-01T00:00:00.000"}


@pytest.mark.parametrize(("body", "field"), [
    ({k: v for k, v in GOOD.items() if k != "expires_at"}, "expires_at"),
    ({**GOOD, "expires_at": "soon " + SECRET}, "expires_at"),
    ({**GOOD, "expires_at": 1767225600}, "expires_at"),
    ({**GOOD, "expires_at": [SECRET]}, "expires_at"),
    ({**GOOD, "refresh_token_expires_at": SECRET}, "refresh_token_expires_at"),
    ({**GOOD, "issued_at": {"at": SECRET}}, "issued_at"),
    ({k: v for k, v in GOOD.items() if k != "access_token"}, "access_token"),
    ({**GOOD, "access_token": 12345}, "access_token"),
    ({**GOOD, "refresh_token": ["r"]}, "refresh_token"),
    ({**GOOD, "scopes": "mall.read_product"}, "scopes"),
    ({**GOOD, "scopes": [1, 2]}, "scopes"),
    ({**GOOD, "mall_id": 7}, "mall_id"),
    ([GOOD], "body"),
    (SECRET, "body"),
    (None, "body"),
])
def test_a_damaged_token_body_is_a_library_error_naming_the_field(body: object, field: str) -> None:
    with pytest.raises(TokenFieldError) as info:
        Token.from_response(body)  # type: ignore[arg-type]
    error = info.value
    assert isinstance(error, DecodeError) and isinstance(error, Cafe24Error)
    assert error.field == field and field in str(error)
    assert SECRET not in str(error) and SECRET not in repr(error)


@pytest.mark.parametrize("value", ["tomorrow", "2026-13-45", 12.5, object(), b"2026-01-01"])
def test_parse_timestamp_raises_a_library_error(value: object) -> None:
    with pytest.raises(TokenFieldError, match="issued_at"):
        parse_timestamp(value, "issued_at")
    assert parse_timestamp(None) is None and parse_timestamp("") is None


def test_which_token_failures_are_retried() -> None:
    safe = [ServerError(500, "x"), ServerError(503, "x"), ServerError(504, "x"), RateLimitError(429, "x"),
            Cafe24ConnectionError("reset"), Cafe24TimeoutError("slow"), ConnectFailed("refused")]
    unsafe = [DecodeError(200, "garbage"), TokenFieldError("expires_at", "is missing"),
              ServerError(501, "x"), BadRequestError(400, "x"), AuthenticationError(401, "x"),
              ReauthorizeError("acme", "invalid_grant")]
    assert [retry_safe(e) for e in safe] == [True] * len(safe)
    assert [retry_safe(e) for e in unsafe] == [False] * len(unsafe)


async def test_a_rejected_refresh_token_is_remembered_until_the_store_changes() -> None:
    clock = ManualClock(NOW)
    store = MemoryTokenStore()
    await store.save("acme", token(minutes=-1))
    calls: list[str] = []

    async def rejecting(refresh: str) -> Token:
        calls.append(refresh)
        if refresh == "refresh-secret-1":
            raise ReauthorizeError("acme", "invalid_grant")
        return token("access-2", "refresh-2")

    refresher = TokenRefresher("acme", store, rejecting, clock)
    results = await asyncio.gather(*(refresher.token() for _ in range(20)), return_exceptions=True)
    assert all(isinstance(r, ReauthorizeError) for r in results) and calls == ["refresh-secret-1"]
    assert "refresh-secret-1" not in repr(refresher.__dict__)
    await store.save("acme", token("access-1b", "refresh-secret-1b", minutes=-1))  # authorised again
    assert (await refresher.token()).access_token == "access-2"
    assert calls == ["refresh-secret-1", "refresh-secret-1b"]
