"""Files that survive a crash: replaced all at once, and read back with named faults.

The export's checkpoint, the sync's state and the bulk write's results are each
a small file that must never be seen half written, and must still be there
after a power cut once the call that wrote it has returned:

- `replace_file` (and `replace_with`, for contents written as they are made)
  writes to a temporary name beside the file, fsyncs it, renames it over the
  old one and fsyncs the folder (so the rename itself is durable);
- `fsync_folder` is that last step, for files created or renamed elsewhere;
- `read_json` reads such a file back, telling a missing file (None) from one
  that is damaged (the caller's own error, naming what is wrong).

Each caller turns `OSError` into its own error, which names the file's role.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO


def replace_file(path: Path, data: bytes) -> None:
    """`data` in place of `path`, all or nothing, durable once this returns (raises `OSError`)."""
    replace_with(path, lambda fh: fh.write(data))


def replace_with(path: Path, write: Callable[[BinaryIO], object]) -> None:
    """What `write` writes to the file it is given, in place of `path`: all or nothing,
    durable once this returns (raises `OSError`). For contents made as they are written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    fsync_folder(path.parent)


def fsync_folder(folder: Path) -> None:
    """Make a file created or renamed in `folder` durable (where the system lets a folder
    be opened; elsewhere the rename is as durable as the system makes it)."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def read_json(path: Path, damaged: Callable[[str], Exception]) -> Any:
    """The JSON document at `path`; None when there is no file. A file that cannot be read,
    is not UTF-8 or is not JSON raises `damaged(what is wrong)`."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except UnicodeDecodeError:
        raise damaged("not UTF-8 text") from None
    except OSError as exc:
        raise damaged(f"cannot be read: {exc.strerror or exc}") from None
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        raise damaged("not JSON") from None
