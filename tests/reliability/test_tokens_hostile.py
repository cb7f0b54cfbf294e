"""Tokens against a hostile token endpoint and damaged token stores, over real HTTP.

Cafe24 rotates the refresh token on every use: a rotated pair that never reaches
the store means the mall must be authorised again. These tests make the sandbox's
token endpoint fail before rotating, rotate and then answer garbage, reject the
refresh token, echo secrets in its errors, and lose connections before and after
the request reached it; and they damage the token file in every way a disk or a
person can. Whatever happens: only the library's own errors come out, no secret
is shown, and the last good pair is never overwritten.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import secrets
import socket
import traceback
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio

from cafe24_async import (
    Cafe24,
    Cafe24Error,
    ClientClosedError,
    DecodeError,
    FileTokenStore,
    ManualClock,
    MemoryTokenStore,
    ReauthorizeError,
    RetrySettings,
    ServerError,
    Token,
    TokenStore,
    TokenStoreError,
)
from cafe24_async.auth.oauth import basic_auth
from cafe24_async.sandbox import Sandbox, TokenFaultConfig
from cafe24_async.sandbox.token_faults import TokenFault, TokenFaultInjector, TokenFaultKind
from cafe24_async.transport import ConnectFailed, TimeoutSettings
from tests.conftest import SandboxFactory

MALL = "acme"
PRODUCTS = 20
DAMAGE_KINDS = ("no_expires_at", "bad_expires_at", "not_utf8", "not_json")


def make_client(sb: Sandbox, store: TokenStore, base_url: str | None = None, **options: Any) -> Cafe24:
    settings: dict[str, Any] = {"leak_rate": 1000.0, "max_per_second": None,
                                "retry": RetrySettings(max_attempts=3, base_delay=0.001, max_delay=0.002)}
    settings.update(options)
    return Cafe24(client_id=sb.config.client_id, client_secret=sb.config.client_secret, token_store=store,
                  base_url=base_url or sb.base_url, **settings)


async def save_expired(sb: Sandbox, store: TokenStore, now: datetime | None = None) -> Token:
    """A real token pair whose access token has expired (on both sides)."""
    issued = Token.from_response(sb.issue_token(MALL))
    sb.expire_access_token(MALL)
    stale = Token(access_token=issued.access_token, refresh_token=issued.refresh_token,
                  expires_at=(now or datetime.now(UTC)) - timedelta(seconds=5),
                  refresh_token_expires_at=issued.refresh_token_expires_at)
    await store.save(MALL, stale)
    return stale


def texts_of(exc: BaseException) -> str:
    return "\n".join([str(exc), repr(exc), "".join(traceback.format_exception(exc)),
                      repr(getattr(exc, "body", None)), repr(getattr(exc, "reason", None))])


def seed_for(config: Callable[[int], TokenFaultConfig], kinds: list[TokenFaultKind]) -> int:
    """A seed whose first token requests to MALL meet exactly `kinds`, in order."""
    for seed in range(10_000):
        injector = TokenFaultInjector(config(seed), MALL)
        if [injector.next().kind for _ in kinds] == kinds:
            return seed
    raise AssertionError("no such seed")


async def post_token(sb: Sandbox, form: dict[str, str]) -> tuple[int, bytes]:
    """A raw token request, as the documentation shows it."""
    headers = {"Authorization": basic_auth(sb.config.client_id, sb.config.client_secret)}
    async with aiohttp.ClientSession() as session, session.post(
        f"{sb.url_for(MALL)}/api/v2/oauth/token", data=form, headers=headers
    ) as resp:
        return resp.status, await resp.read()


# -- 1. the sandbox's token faults -----------------------------------------------------------


async def test_sandbox_token_errors_come_before_anything_is_rotated(make_sandbox: SandboxFactory) -> None:
    sb = await make_sandbox(malls=(MALL,), products=PRODUCTS, token_faults=TokenFaultConfig(error_rate=1.0))
    refresh = sb.issue_token(MALL)["refresh_token"]
    form = {"grant_type": "refresh_token", "refresh_token": refresh}
    statuses = [(await post_token(sb, form))[0] for _ in range(6)]
    assert set(statuses) <= {500, 503} and len(statuses) == 6
    assert sb.stats(MALL).refreshes == 0 and sb.stats(MALL).token_requests == 6
    sb.set_token_faults(TokenFaultConfig())
    status, body = await post_token(sb, form)  # the refresh token was never spent
    assert status == 200 and json.loads(body)["refresh_token"] != refresh


@pytest.mark.parametrize("kind", DAMAGE_KINDS)
async def test_sandbox_damaged_answers_come_after_the_rotation(make_sandbox: SandboxFactory, kind: str) -> None:
    sb = await make_sandbox(malls=(MALL,), products=PRODUCTS)
    sb.set_token_faults(TokenFaultConfig(damage_rate=1.0, damage_kinds=(kind,)))
    refresh = sb.issue_token(MALL)["refresh_token"]
    form = {"grant_type": "refresh_token", "refresh_token": refresh}
    status, body = await post_token(sb, form)
    assert status == 200
    if kind == "not_utf8":
        with pytest.raises(UnicodeDecodeError):
            body.decode("utf-8")
    elif kind == "not_json":
        with pytest.raises(ValueError):
            json.loads(body)
    else:
        answer = json.loads(body)
        assert "access_token" in answer
        assert "expires_at" not in answer if kind == "no_expires_at" else answer["expires_at"][:4] == "in t"
    assert sb.stats(MALL).refreshes == 1
    sb.set_token_faults(TokenFaultConfig())
    status, body = await post_token(sb, form)  # rotated: the old refresh token is spent
    assert status == 400 and json.loads(body)["error"] == "invalid_grant"


def test_sandbox_token_faults_are_seeded_per_mall() -> None:
    config = TokenFaultConfig(seed=7, error_rate=0.3, damage_rate=0.3)

    def run(mall_id: str) -> list[TokenFault]:
        injector = TokenFaultInjector(config, mall_id)
        return [injector.next() for _ in range(40)]

    assert run(MALL) == run(MALL) and run(MALL) != run("other")
    assert {fault.kind for fault in run(MALL)} == set(TokenFaultKind)
    with pytest.raises(ValueError):
        TokenFaultInjector(TokenFaultConfig(damage_kinds=("sideways",)), MALL)


# -- 2. a damaged answer after the rotation ----------------------------------------------------


@pytest.mark.parametrize("kind", DAMAGE_KINDS)
async def test_a_damaged_token_answer_is_a_decode_error_and_keeps_the_stored_pair(
    make_sandbox: SandboxFactory, tmp_path: Path, kind: str
) -> None:
    sb = await make_sandbox(malls=(MALL,), products=PRODUCTS)
    sb.set_token_faults(TokenFaultConfig(damage_rate=1.0, damage_kinds=(kind,)))
    path = tmp_path / "tokens.json"
    stale = await save_expired(sb, FileTokenStore(path))
    before = path.read_bytes()
    async with make_client(sb, FileTokenStore(path)) as api:
        with pytest.raises(DecodeError) as info:
            await api.mall(MALL).admin.products.count()
    text = texts_of(info.value)
    named = {"no_expires_at": "expires_at", "bad_expires_at": "expires_at", "not_utf8": "UTF-8",
             "not_json": "JSON"}[kind]
    assert named in str(info.value)
    assert stale.refresh_token is not None and stale.refresh_token not in text
    issued = [r for r in sb.requests if r.path == "/api/v2/oauth/token"]
    assert len(issued) == 1  # a damaged 200 spent the refresh token: no second try
    assert path.read_bytes() == before  # the last good pair, not garbage
    assert sb.stats(MALL).refreshes == 1


# -- 3. failures of the token endpoint are retried ---------------------------------------------


async def test_a_token_endpoint_5xx_is_retried_on_the_clients_clock(make_sandbox: SandboxFactory) -> None:
    seed = seed_for(lambda s: TokenFaultConfig(seed=s, error_rate=0.5),
                    [TokenFaultKind.ERROR, TokenFaultKind.ERROR, TokenFaultKind.NONE])
    sb = await make_sandbox(malls=(MALL,), products=PRODUCTS,
                            token_faults=TokenFaultConfig(seed=seed, error_rate=0.5))
    clock = ManualClock(datetime.now(UTC))
    store = MemoryTokenStore()
    stale = await save_expired(sb, store, clock.now())
    retry = RetrySettings(max_attempts=3, base_delay=5.0, max_delay=5.0)
    async with make_client(sb, store, clock=clock, retry=retry) as api:
        mall = api.mall(MALL)
        started = clock.monotonic()
        assert await mall.admin.products.count() == PRODUCTS  # one 5xx no longer fails the read
        assert clock.monotonic() > started  # the backoff slept on the injected clock
        assert mall.retry_budget.available < retry.budget
    stats = sb.stats(MALL)
    assert stats.token_requests == 3 and stats.refreshes == 1 and stats.invalid_grants == 0
    saved = await store.load(MALL)
    assert saved is not None and saved.refresh_token != stale.refresh_token


async def test_token_retries_stop_at_max_attempts_and_keep_the_pair(make_sandbox: SandboxFactory) -> None:
    sb = await make_sandbox(malls=(MALL,), products=PRODUCTS, token_faults=TokenFaultConfig(error_rate=1.0))
    clock = ManualClock(datetime.now(UTC))
    store = MemoryTokenStore()
    stale = await save_expired(sb, store, clock.now())
    async with make_client(sb, store, clock=clock, retry=RetrySettings(max_attempts=4)) as api:
        with pytest.raises(ServerError):
            await api.mall(MALL).admin.products.count()
    assert sb.stats(MALL).token_requests == 4
    assert await store.load(MALL) == stale


async def test_token_retries_respect_the_malls_retry_budget(make_sandbox: SandboxFactory) -> None:
    sb = await make_sandbox(malls=(MALL,), products=PRODUCTS, token_faults=TokenFaultConfig(error_rate=1.0))
    clock = ManualClock(datetime.now(UTC))
    store = MemoryTokenStore()
    await save_expired(sb, store, clock.now())
    retry = RetrySettings(max_attempts=10, budget=10.0, retry_cost=5.0)  # room for two retries
    async with make_client(sb, store, clock=clock, retry=retry) as api:
        with pytest.raises(ServerError):
            await api.mall(MALL).admin.products.count()
    assert sb.stats(MALL).token_requests == 3


class TokenProxy:
    """A loopback proxy in front of the sandbox that spoils the first token request.

    "drop": hang up before the request reaches the sandbox; "throttle": answer 429
    in its place; "stall": never answer (the client times out); "swallow": let the
    sandbox answer (and rotate), then hang up before the answer comes back.
    """

    def __init__(self, upstream: int, mode: str) -> None:
        self.upstream = upstream
        self.mode = mode
        self.spoil = 1
        self.writers: list[asyncio.StreamWriter] = []

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.writers.append(writer)
        request = await read_request(reader)
        if b"/oauth/token" in request.split(b"\r\n", 1)[0] and self.spoil > 0:
            self.spoil -= 1
            if self.mode == "swallow":
                up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream)
                up_writer.write(request)
                await up_reader.read(65536)  # the sandbox has answered: the pair is rotated
                up_writer.close()
            elif self.mode == "throttle":
                writer.write(b"HTTP/1.1 429 Too Many Requests\r\nContent-Length: 0\r\n"
                             b"Connection: close\r\n\r\n")
                await writer.drain()
            elif self.mode == "stall":
                await reader.read()  # until the client gives up and hangs up
            writer.close()
            return
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream)
        self.writers.append(up_writer)
        up_writer.write(request)
        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))


async def read_request(reader: asyncio.StreamReader) -> bytes:
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    return head + (await reader.readexactly(length) if length else b"")


async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except ConnectionError:
        pass
    finally:
        writer.close()


@pytest_asyncio.fixture
async def proxy_for() -> AsyncIterator[Callable[[Sandbox, str], Any]]:
    servers: list[tuple[asyncio.Server, TokenProxy]] = []

    async def start(sb: Sandbox, mode: str) -> str:
        proxy = TokenProxy(sb.port, mode)
        server = await asyncio.start_server(proxy.handle, "127.0.0.1", 0)
        servers.append((server, proxy))
        return f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/{{mall_id}}"

    yield start
    for server, proxy in servers:
        server.close()
        for writer in proxy.writers:
            writer.close()


@pytest.mark.parametrize("mode", ["drop", "throttle", "stall"])
async def test_a_token_request_lost_refused_or_timed_out_is_retried_by_the_refresher(
    make_sandbox: SandboxFactory, proxy_for: Callable[[Sandbox, str], Any], mode: str
) -> None:
    sb = await make_sandbox(malls=(MALL,), products=PRODUCTS)
    base_url = await proxy_for(sb, mode)
    clock = ManualClock(datetime.now(UTC))
    store = MemoryTokenStore()
    await save_expired(sb, store, clock.now())
    async with make_client(sb, store, base_url=base_url, clock=clock,
                           timeout=TimeoutSettings(total=0.5)) as api:
        mall = api.mall(MALL)
        assert await mall.admin.products.count() == PRODUCTS
        assert mall.stats.retries == 0  # retried inside the refresh, not by the request around it
        assert clock.monotonic() > 1000.0  # after a backoff on the client's clock
    stats = sb.stats(MALL)
    assert stats.token_requests == 1 and stats.refreshes == 1 and stats.invalid_grants == 0


async def test_an_answer_lost_after_the_rotation_asks_for_reauthorization(
    make_sandbox: SandboxFactory, proxy_for: Callable[[Sandbox, str], Any]
) -> None:
    """The retry cannot lose more than the first attempt already did: it is told invalid_grant."""
    sb = await make_sandbox(malls=(MALL,), products=PRODUCTS)
    base_url = await proxy_for(sb, "swallow")
    clock = ManualClock(datetime.now(UTC))
    store = MemoryTokenStore()
    stale = await save_expired(sb, store, clock.now())
    async with make_client(sb, store, base_url=base_url, clock=clock) as api:
        with pytest.raises(ReauthorizeError) as info:
            await api.mall(MALL).admin.products.count()
    assert "earlier attempt" in str(info.value)
    stats = sb.stats(MALL)
    assert stats.token_requests == 2 and stats.refreshes == 1 and stats.invalid_grants == 1
    assert await store.load(MALL) == stale


# -- 4. a rejected refresh token is dead ---------------------------------------------------------


async def test_a_rejected_refresh_token_is_sent_once(make_sandbox: SandboxFactory, tmp_path: Path) -> None:
    sb = await make_sandbox(malls=(MALL,), products=PRODUCTS)
    store = FileTokenStore(tmp_path / "tokens.json")
    await store.save(MALL, Token(access_token="at-" + secrets.token_urlsafe(16),
                                 refresh_token="rt-" + secrets.token_urlsafe(16),
                                 expires_at=datetime.now(UTC) - timedelta(seconds=5)))
    async with make_client(sb, store) as api:
        mall = api.mall(MALL)
        results = await asyncio.gather(*(mall.admin.products.count() for _ in range(30)),
                                       return_exceptions=True)
        assert [type(r) for r in results] == [ReauthorizeError] * 30
        assert sb.stats(MALL).token_requests == 1
        with pytest.raises(ReauthorizeError):
            await mall.admin.products.count()
        assert sb.stats(MALL).token_requests == 1  # still dead: not sent again
        # Re-authorised (`auth exchange`, or another process): a new pair in the store.
        await save_expired(sb, store)
        assert await mall.admin.products.count() == PRODUCTS
    stats = sb.stats(MALL)
    assert stats.token_requests == 2 and stats.refreshes == 1 and stats.invalid_grants == 1


# -- 5. a damaged token file ------------------------------------------------------------------------

SECRET_IN_FILE = "at-" + "s3cr3t" * 5


def damaged_files() -> dict[str, Callable[[Path], Path]]:
    """Ways to damage a token file: each makes one in a folder and returns its path."""
    good = {"access_token": SECRET_IN_FILE, "refresh_token": "rt-" + "x" * 20,
            "expires_at": "2026-01-01T00:00:00+00:00"}

    def write(data: bytes | object) -> Callable[[Path], Path]:
        def make(folder: Path) -> Path:
            path = folder / "tokens.json"
            path.write_bytes(data if isinstance(data, bytes) else json.dumps(data).encode())
            return path
        return make

    def a_directory(folder: Path) -> Path:
        (folder / "tokens.json").mkdir()
        return folder / "tokens.json"

    def parent_is_a_file(folder: Path) -> Path:
        (folder / "tokens").write_text("")
        return folder / "tokens" / "tokens.json"

    def unreadable(folder: Path) -> Path:
        path = write({MALL: good})(folder)
        path.chmod(0)
        return path

    return {
        "not_json": write(json.dumps({MALL: good}).encode()[:40]),
        "not_utf8": write(b'{"acme": {"access_token": "\xff\xfe' + SECRET_IN_FILE.encode()),
        "a_list": write([good]),
        "entry_not_an_object": write({MALL: SECRET_IN_FILE}),
        "missing_expires_at": write({MALL: {k: v for k, v in good.items() if k != "expires_at"}}),
        "garbage_expires_at": write({MALL: {**good, "expires_at": "tomorrow " + SECRET_IN_FILE}}),
        "wrong_types": write({MALL: {**good, "access_token": 12345, "scopes": 7}}),
        "missing_access_token": write({MALL: {k: v for k, v in good.items() if k != "access_token"}}),
        "a_directory": a_directory,
        "parent_is_a_file": parent_is_a_file,
        "unreadable": unreadable,
    }


#: Damage inside one mall's entry: a save of a new pair for that mall repairs it.
ENTRY_DAMAGE = {"entry_not_an_object", "missing_expires_at", "garbage_expires_at", "wrong_types",
                "missing_access_token"}


@pytest.mark.parametrize("case", sorted(damaged_files()))
async def test_a_damaged_token_file_is_a_token_store_error(
    make_sandbox: SandboxFactory, tmp_path: Path, case: str
) -> None:
    if case == "unreadable" and os.geteuid() == 0:
        pytest.skip("root reads every file")
    sb = await make_sandbox(malls=(MALL,), products=PRODUCTS)
    path = damaged_files()[case](tmp_path)
    before = path.read_bytes() if path.is_file() and case != "unreadable" else None
    store = FileTokenStore(path)
    async with make_client(sb, store) as api:
        with pytest.raises(TokenStoreError) as info:
            await api.mall(MALL).admin.products.count()
    assert str(path) in str(info.value) and info.value.location == str(path)
    assert SECRET_IN_FILE not in texts_of(info.value)
    assert sb.stats(MALL).token_requests == 0 and sb.stats(MALL).requests == 0
    new_pair = Token.from_response(sb.issue_token(MALL))
    if case in ENTRY_DAMAGE:
        await store.save(MALL, new_pair)  # a new pair (`auth exchange`) repairs the entry
        assert await store.load(MALL) == new_pair
        return
    # Saving would lose the other malls' tokens: refused, and the file is left as it was.
    with pytest.raises(TokenStoreError):
        await store.save(MALL, new_pair)
    if before is not None:
        assert path.read_bytes() == before


# -- 6. secrets echoed by the token endpoint ---------------------------------------------------------


async def test_secrets_echoed_by_the_token_endpoint_stay_hidden(
    make_sandbox: SandboxFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client_secret = "cs-" + secrets.token_urlsafe(24)
    sb = await make_sandbox(malls=(MALL,), products=PRODUCTS, client_secret=client_secret)
    sb.set_token_faults(TokenFaultConfig(), echo_secrets=True)
    dead_refresh = "rt-" + secrets.token_urlsafe(24)
    store = MemoryTokenStore()
    await store.save(MALL, Token(access_token="at-" + secrets.token_urlsafe(24), refresh_token=dead_refresh,
                                 expires_at=datetime.now(UTC) - timedelta(seconds=5)))
    errors: list[Cafe24Error] = []
    async with make_client(sb, store) as api:
        with pytest.raises(ReauthorizeError) as rejected:
            await api.mall(MALL).admin.products.count()
        errors.append(rejected.value)
        code = "code-" + secrets.token_urlsafe(24)
        with pytest.raises(ReauthorizeError) as bad_code:
            await api.exchange_code(MALL, code, sb.config.redirect_uri)
        errors.append(bad_code.value)
        sb.set_token_faults(TokenFaultConfig(error_rate=1.0), echo_secrets=True)
        live = await save_expired(sb, store)
        with pytest.raises(ServerError) as failed:
            await api.mall(MALL).admin.products.count()
        errors.append(failed.value)
    echoed = [r for r in sb.requests if r.path == "/api/v2/oauth/token"]
    assert len(echoed) >= 3 and all(r.status in (400, 500, 503) for r in echoed)
    assert "<hidden>" in repr(failed.value.body) and "<hidden>" in rejected.value.reason
    hidden = [client_secret, dead_refresh, code, live.refresh_token or "",
              basic_auth(sb.config.client_id, client_secret)[6:]]
    texts = [texts_of(exc) for exc in errors] + [record.getMessage() for record in caplog.records]
    texts += [repr(record.__dict__) for record in caplog.records]
    leaks = [(s[:6], t[:200]) for t in texts for s in hidden if s in t]
    assert leaks == []


# -- 7. token calls go through the one transport ------------------------------------------------------


async def test_token_calls_map_errors_like_every_other_request(make_sandbox: SandboxFactory) -> None:
    sb = await make_sandbox(malls=(MALL,), products=PRODUCTS)
    store = MemoryTokenStore()
    await save_expired(sb, store)
    session = aiohttp.ClientSession()
    await session.close()
    async with make_client(sb, store, session=session) as api:
        with pytest.raises(ClientClosedError):  # not aiohttp's RuntimeError
            await api.mall(MALL).admin.products.count()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    async with make_client(sb, store, base_url=f"http://127.0.0.1:{port}/{{mall_id}}") as api:
        with pytest.raises(ConnectFailed):  # never connected: the transport says so
            await api.mall(MALL).admin.products.count()
