"""Where tokens are kept between calls and between runs.

A `TokenStore` loads and saves one `Token` per mall and offers a lock that guards
a refresh. Because Cafe24 rotates the refresh token on every use, a refresh must
be done by one holder at a time, and the new pair must be saved before it is used.

- `MemoryTokenStore`: in this process only.
- `FileTokenStore`: one JSON file, replaced atomically, mode 0600; its refresh lock
  is a file lock, so several processes sharing the file refresh once.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import fcntl
import json
import os
import tempfile
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import IO, Any, Protocol, runtime_checkable

from cafe24_async.auth.token import Token


@runtime_checkable
class TokenStore(Protocol):
    async def load(self, mall_id: str) -> Token | None:
        """The saved token of `mall_id`, or None."""

    async def save(self, mall_id: str, token: Token) -> None:
        """Save `token` for `mall_id`, durably, before it is used."""

    def refresh_lock(self, mall_id: str) -> AbstractAsyncContextManager[None]:
        """A lock held while refreshing `mall_id`, shared by every user of the store."""


class MemoryTokenStore:
    """Tokens in a dict; the refresh lock is an asyncio lock per mall."""

    def __init__(self) -> None:
        self._tokens: dict[str, Token] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    def __repr__(self) -> str:
        return f"MemoryTokenStore(malls={sorted(self._tokens)!r})"

    async def load(self, mall_id: str) -> Token | None:
        return self._tokens.get(mall_id)

    async def save(self, mall_id: str, token: Token) -> None:
        self._tokens[mall_id] = token

    def refresh_lock(self, mall_id: str) -> AbstractAsyncContextManager[None]:
        return self._locks.setdefault(mall_id, asyncio.Lock())


class FileTokenStore:
    """Tokens of every mall in one JSON file.

    Writes go to a temporary file in the same folder, created with mode 0600, and
    replace the file atomically, so a crash never leaves half a file. Every write
    holds an exclusive lock on `<file>.lock`, so processes do not lose each
    other's updates; the refresh lock of a mall is `<file>.<mall>.refresh.lock`.
    """

    #: Seconds between attempts to take a file lock held by another process.
    poll_interval = 0.02

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._write_lock = asyncio.Lock()
        self._refresh_locks: dict[str, asyncio.Lock] = {}

    def __repr__(self) -> str:
        return f"FileTokenStore(path={str(self.path)!r})"

    def _read_all(self) -> dict[str, Any]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        data = json.loads(text) if text.strip() else {}
        return data if isinstance(data, dict) else {}

    async def load(self, mall_id: str) -> Token | None:
        data = await asyncio.to_thread(self._read_all)
        raw = data.get(mall_id)
        return Token.from_dict(raw) if isinstance(raw, dict) else None

    async def save(self, mall_id: str, token: Token) -> None:
        async with self._write_lock, _file_lock(self._lock_path("write"), self.poll_interval):
            await asyncio.to_thread(self._write_one, mall_id, token)

    def _write_one(self, mall_id: str, token: Token) -> None:
        data = self._read_all()
        data[mall_id] = token.to_dict()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=self.path.parent)
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(data, fh, indent=2, sort_keys=True)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise

    def _lock_path(self, what: str) -> Path:
        name = f"{self.path.name}.lock" if what == "write" else f"{self.path.name}.{what}.refresh.lock"
        return self.path.with_name(name)

    @contextlib.asynccontextmanager
    async def refresh_lock(self, mall_id: str) -> AsyncIterator[None]:
        local = self._refresh_locks.setdefault(mall_id, asyncio.Lock())
        async with local, _file_lock(self._lock_path(mall_id), self.poll_interval):
            yield


@contextlib.asynccontextmanager
async def _file_lock(path: Path, poll_interval: float) -> AsyncIterator[None]:
    """An exclusive `flock` on `path`, taken without blocking the event loop."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fh: IO[bytes] = await asyncio.to_thread(open, path, "a+b")
    try:
        os.chmod(path, 0o600)
        while True:
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
                await asyncio.sleep(poll_interval)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
    finally:
        fh.close()
