"""The checkpoint beside an export's output: how far it got, durably.

It is written only after the records it covers are on disk (fsync), and
replaced atomically, so after Ctrl-C, SIGTERM, a crash or kill -9 the output
holds at least what the checkpoint says. It records the output's size and the
sha256 of those bytes, so a resume goes on only from the very bytes it covers
(see `export.output`), and the job it belongs to, so a different export to the
same file is refused instead of mixed in. A damaged checkpoint is a
`CheckpointError` naming the file, never a stray `KeyError`.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import attrs

from cafe24_async.durable import read_json, replace_file
from cafe24_async.export.errors import CheckpointError
from cafe24_async.export.output import EMPTY, Mark, output_errors
from cafe24_async.paging import Cursor

_SHA256 = re.compile(r"[0-9a-f]{64}")
_JOB_KEYS = {"resource": str, "malls": list, "params": dict, "format": str}


def checkpoint_path(output: str) -> Path:
    return Path(output + ".checkpoint.json")


@attrs.define
class MallProgress:
    cursor: dict[str, Any] | None = None
    done: bool = False
    records: int = 0


@attrs.define
class Checkpoint:
    job: dict[str, Any]
    size: int = 0
    sha256: str = EMPTY.sha256
    records: int = 0
    columns: list[str] | None = None
    malls: dict[str, MallProgress] = attrs.field(factory=dict)

    @property
    def mark(self) -> Mark:
        """The bytes of the output this checkpoint covers."""
        return Mark(self.size, self.sha256)

    def to_json(self) -> str:
        return json.dumps(attrs.asdict(self), ensure_ascii=False, indent=1, default=str)

    @classmethod
    def load(cls, path: Path) -> Checkpoint | None:
        """The checkpoint at `path`, None when there is none, `CheckpointError` when damaged."""
        data = read_json(path, lambda problem: CheckpointError(path, problem))
        return None if data is None else _parse(path, data)

    def save(self, path: Path) -> None:
        """Replace the checkpoint at `path` atomically and durably (`OutputError` if it cannot)."""
        with output_errors(f"the checkpoint {path}"):
            replace_file(path, self.to_json().encode("utf-8"))


def _parse(path: Path, data: Any) -> Checkpoint:
    if not isinstance(data, dict):
        raise CheckpointError(path, f"a JSON {type(data).__name__}, not an object")
    missing = [k for k in ("job", "size", "sha256", "records", "malls") if k not in data]
    if missing:
        raise CheckpointError(path, f"no {', '.join(missing)}")
    columns = data.get("columns")
    if columns is not None and not _strings(columns):
        raise CheckpointError(path, "columns is not a list of names")
    sha256 = data["sha256"]
    if not isinstance(sha256, str) or not _SHA256.fullmatch(sha256):
        raise CheckpointError(path, "sha256 is not a sha256 digest")
    return Checkpoint(
        job=_job(path, data["job"]),
        size=_count(path, "size", data["size"]),
        sha256=sha256,
        records=_count(path, "records", data["records"]),
        columns=columns,
        malls=_malls(path, data["malls"]),
    )


def _count(path: Path, name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise CheckpointError(path, f"{name} is not a whole number of at least 0")
    return value


def _strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _job(path: Path, job: Any) -> dict[str, Any]:
    if not isinstance(job, dict):
        raise CheckpointError(path, "job is not an object")
    for key, kind in _JOB_KEYS.items():
        if not isinstance(job.get(key), kind):
            raise CheckpointError(path, f"job.{key} is missing or not a {kind.__name__}")
    if not _strings(job["malls"]):
        raise CheckpointError(path, "job.malls is not a list of mall ids")
    return job


def _malls(path: Path, malls: Any) -> dict[str, MallProgress]:
    if not isinstance(malls, dict):
        raise CheckpointError(path, "malls is not an object")
    return {mall_id: _mall(path, mall_id, state) for mall_id, state in malls.items()}


def _mall(path: Path, mall_id: str, state: Any) -> MallProgress:
    where = f"malls.{mall_id}"
    if not isinstance(state, dict) or set(state) - {"cursor", "done", "records"}:
        raise CheckpointError(path, f"{where} is not a mall's progress")
    cursor, done = state.get("cursor"), state.get("done", False)
    if not isinstance(done, bool):
        raise CheckpointError(path, f"{where}.done is not true or false")
    if cursor is not None:
        try:
            Cursor.from_dict(cursor)
        except (AttributeError, TypeError, ValueError, IndexError, KeyError):
            raise CheckpointError(path, f"{where}.cursor is not a cursor") from None
    return MallProgress(cursor, done, _count(path, f"{where}.records", state.get("records", 0)))
