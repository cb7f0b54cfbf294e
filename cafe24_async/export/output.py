"""The export's output file: appended to, hashed as it grows, checked before a resume.

Every byte written also goes into a running sha256, so `durable()` can say not
only how many bytes are safely on disk but which ones (a `Mark`). A checkpoint
keeps that mark; resuming opens the output only if its first `size` bytes still
hash to it (not missing, not shorter, not changed), then cuts off whatever a
crash left after them and goes on hashing from there. Nothing is ever padded.

Any OS error on the output is an `OutputError`; after a failed write the output
refuses to be made durable, so no checkpoint can cover a half-written page.

The format follows the output's name (`output_format`): `.jsonl`/`.ndjson` (and
`-`, standard output) are JSON Lines, `.csv` is CSV. A name that says neither,
or an explicit format that contradicts the name, is refused before anything is
written: a `.txt` full of JSON Lines, or JSON Lines in a `.csv`, helps nobody.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING

import attrs

from cafe24_async.export.errors import RESTART, ExportError, OutputError, ResumeError

if TYPE_CHECKING:
    from hashlib import _Hash

#: Bytes read at a time while hashing an output to resume it.
CHUNK = 1 << 20

#: The formats an export writes, and what each is called in messages.
FORMATS = {"jsonl": "JSON Lines", "csv": "CSV", "excel": "CSV for Excel (UTF-8 with a byte-order mark)"}
#: The formats each file extension may hold.
EXTENSIONS = {".jsonl": ("jsonl",), ".ndjson": ("jsonl",), ".csv": ("csv", "excel")}


def output_format(output: str, explicit: str | None = None) -> str:
    """The format of an export to `output`: `explicit` if given, else from the name's
    extension; `ExportError` when the name says no format, or another one."""
    explicit = explicit or None
    if explicit is not None and explicit not in FORMATS:
        raise ExportError(f"unknown format {explicit!r}: use one of {', '.join(FORMATS)}")
    if output == "-":
        return explicit or "jsonl"
    suffix = Path(output).suffix.lower()
    allowed = EXTENSIONS.get(suffix)
    if allowed is None:
        named = f"{output} has no extension" if not suffix else f"{output} is named {suffix}"
        raise ExportError(
            f"{named}, which says no export format: name it .jsonl (JSON Lines) or .csv, "
            "or give the format (--format on the command line, ExportSpec(format=...) in Python)"
        )
    if explicit is None:
        return allowed[0]
    if explicit not in allowed:
        raise ExportError(
            f"{output} is named {suffix} but the format asked for is {FORMATS[explicit]} ({explicit}): "
            f"name the file .{'csv' if explicit in ('csv', 'excel') else 'jsonl'}, or leave the format "
            "to the name"
        )
    return explicit


@attrs.frozen
class Mark:
    """How much of the output is safely written: its size and the sha256 of those bytes."""

    size: int
    sha256: str


EMPTY = Mark(0, hashlib.sha256().hexdigest())


@contextlib.contextmanager
def output_errors(what: str) -> Iterator[None]:
    """Turn an OS error on `what` into an `OutputError` naming it."""
    try:
        yield
    except OSError as exc:
        raise OutputError(f"cannot write {what}: {exc.strerror or exc}") from exc


class Output:
    """Bytes appended to a file (or standard output), with their running sha256."""

    def __init__(self, fh: IO[bytes], name: str, hasher: _Hash, size: int, to_stdout: bool = False) -> None:
        self.name = name
        self._fh = fh
        self._hash = hasher
        self._size = size
        self._stdout = to_stdout
        self._broken = False

    @classmethod
    def stdout(cls) -> Output:
        return cls(sys.stdout.buffer, "standard output", hashlib.sha256(), 0, to_stdout=True)

    @classmethod
    def fresh(cls, path: Path) -> Output:
        """`path` created or emptied (its folder made if needed)."""
        with output_errors(str(path)):
            path.parent.mkdir(parents=True, exist_ok=True)
            fh = open(path, "w+b")  # noqa: SIM115 - owned by the Output
        return cls(fh, str(path), hashlib.sha256(), 0)

    @classmethod
    def resume(cls, path: Path, mark: Mark, checkpoint: Path) -> Output:
        """`path` after the bytes `mark` covers, once they are checked; later bytes are cut off."""
        try:
            fh = open(path, "r+b")  # noqa: SIM115 - owned by the Output
        except FileNotFoundError:
            raise ResumeError(
                f"{path} is missing, but the checkpoint {checkpoint} says {mark.size:,} bytes of it "
                f"are written; {RESTART}"
            ) from None
        except OSError as exc:
            raise OutputError(f"cannot open {path}: {exc.strerror or exc}") from exc
        try:
            hasher = _covered(fh, path, mark, checkpoint)
            with output_errors(str(path)):
                fh.truncate(mark.size)
                fh.seek(mark.size)
        except BaseException:
            fh.close()
            raise
        return cls(fh, str(path), hasher, mark.size)

    def write(self, data: bytes) -> None:
        if self._broken:
            raise OutputError(f"cannot write {self.name}: an earlier write failed")
        try:
            self._fh.write(data)
        except OSError as exc:
            self._broken = True
            raise OutputError(f"cannot write {self.name}: {exc.strerror or exc}") from exc
        self._hash.update(data)
        self._size += len(data)

    @property
    def healthy(self) -> bool:
        """False after a failed write: what is on disk may end in part of a page."""
        return not self._broken

    def durable(self) -> Mark:
        """Flush and fsync; the mark of the bytes now safely written."""
        if self._broken:
            raise OutputError(f"cannot write {self.name}: an earlier write failed")
        try:
            self._fh.flush()
            if not self._stdout:
                os.fsync(self._fh.fileno())
        except OSError as exc:
            self._broken = True
            raise OutputError(f"cannot write {self.name}: {exc.strerror or exc}") from exc
        return Mark(self._size, self._hash.copy().hexdigest())

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._fh.flush()
        if not self._stdout:
            self._fh.close()


def _covered(fh: IO[bytes], path: Path, mark: Mark, checkpoint: Path) -> _Hash:
    """The sha256 of the first `mark.size` bytes, checked against the mark (`ResumeError`)."""
    with output_errors(str(path)):
        actual = os.fstat(fh.fileno()).st_size
        if actual < mark.size:
            raise ResumeError(
                f"{path} has {actual:,} bytes, fewer than the {mark.size:,} the checkpoint {checkpoint} "
                f"covers: it was cut or replaced since; {RESTART}"
            )
        hasher = hashlib.sha256()
        remaining = mark.size
        while remaining:
            chunk = fh.read(min(CHUNK, remaining))
            if not chunk:
                break
            hasher.update(chunk)
            remaining -= len(chunk)
    if remaining or hasher.hexdigest() != mark.sha256:
        raise ResumeError(
            f"the first {mark.size:,} bytes of {path} differ from those the checkpoint {checkpoint} "
            f"covers (sha256 {hasher.hexdigest()[:12]}..., expected {mark.sha256[:12]}...): the file "
            f"was changed since; {RESTART}"
        )
    return hasher
