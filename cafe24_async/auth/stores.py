"""Where tokens are kept between calls and between runs.

A `TokenStore` loads and saves one `Token` per mall and offers a lock that guards
a refresh. Because Cafe24 rotates the refresh token on every use, a refresh must
be done by one holder at a time, and the new pair must be saved before it is used.

- `MemoryTokenStore`: in this process only.
- `FileTokenStore`: one JSON file, replaced atomically, mode 0600; its refresh lock
  is a file lock, so several processes sharing the file refresh once.

A store that cannot be read or written raises `TokenStoreError` naming where it
is (a file that is not JSON or not UTF-8, a token with a missing or garbage
field, a folder in the file's place, no permission), never a raw `OSError` or
`JSONDecodeError`, and never showing a token. A damaged file is never replaced by
a save: that would lose the other malls' tokens.
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

from cafe24_async.auth.token import Token, TokenFieldError
from cafe24_async.errors import TokenStoreError


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
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise TokenStoreError(str(self.path), f"cannot be read ({_os_problem(exc)})") from None
        return parse_file(raw, str(self.path))

    async def load(self, mall_id: str) -> Token | None:
        data = await asyncio.to_thread(self._read_all)
        if mall_id not in data:
            return None
        return token_from_entry(data[mall_id], str(self.path), mall_id)

    async def save(self, mall_id: str, token: Token) -> None:
        try:
            async with self._write_lock, _file_lock(self._lock_path("write"), self.poll_interval):
                await asyncio.to_thread(self._write_one, mall_id, token)
        except OSError as exc:
            raise TokenStoreError(str(self.path), f"cannot be written ({_os_problem(exc)})") from None

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


def parse_file(raw: bytes, location: str) -> dict[str, Any]:
    """The malls of a token file's bytes (an empty file has none), or `TokenStoreError`."""
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise TokenStoreError(location, "is not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise TokenStoreError(location, f"is not JSON (line {exc.lineno}, column {exc.colno})") from None
    except RecursionError:
        raise TokenStoreError(location, "is not JSON (nested too deeply)") from None
    if not isinstance(data, dict):
        raise TokenStoreError(location, f"holds a JSON {type(data).__name__}, not an object of malls")
    return data


def token_from_entry(entry: Any, location: str, mall_id: str) -> Token:
    """The token a store kept for `mall_id`, or `TokenStoreError` naming what is damaged."""
    if not isinstance(entry, dict):
        problem = f"the token of mall {mall_id!r} is damaged: a JSON {type(entry).__name__}, not an object"
        raise TokenStoreError(location, problem)
    try:
        return Token.from_dict(entry)
    except TokenFieldError as exc:
        problem = f"the token of mall {mall_id!r} is damaged: {exc.field} {exc.problem}"
        raise TokenStoreError(location, problem) from None


def _os_problem(exc: OSError) -> str:
    """An OS error in words, without the file name (the caller names the store)."""
    return exc.strerror or type(exc).__name__


@contextlib.asynccontextmanager
async def _file_lock(path: Path, poll_interval: float) -> AsyncIterator[None]:
    """An exclusive `flock` on `path`, taken without blocking the event loop."""
    fh = await asyncio.to_thread(_open_lock_file, path)
    try:
        while True:
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    raise TokenStoreError(str(path), f"cannot be locked ({_os_problem(exc)})") from None
                await asyncio.sleep(poll_interval)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
    finally:
        fh.close()


def _open_lock_file(path: Path) -> IO[bytes]:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fh = open(path, "a+b")  # noqa: SIM115 - closed by `_file_lock`
    except OSError as exc:
        raise TokenStoreError(str(path), f"cannot be opened as a lock ({_os_problem(exc)})") from None
    try:
        os.chmod(path, 0o600)
    except OSError as exc:
        fh.close()
        raise TokenStoreError(str(path), f"cannot be made private ({_os_problem(exc)})") from None
    return fh
