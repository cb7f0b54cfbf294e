"""The checkpoint beside an export's output: how far it got, durably.

It is written only after the records it covers are on disk (fsync), and
replaced atomically, so after Ctrl-C, a crash or kill -9 the output holds at
least what the checkpoint says; resuming cuts the output back to that size and
goes on from each mall's cursor. A checkpoint records the job it belongs to, so
a different export to the same file is refused instead of mixed in.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import attrs


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
    records: int = 0
    columns: list[str] | None = None
    malls: dict[str, MallProgress] = attrs.field(factory=dict)

    def to_json(self) -> str:
        return json.dumps(attrs.asdict(self), ensure_ascii=False, indent=1, default=str)

    @classmethod
    def load(cls, path: Path) -> Checkpoint | None:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        malls = {k: MallProgress(**v) for k, v in data.get("malls", {}).items()}
        return cls(job=data["job"], size=int(data["size"]), records=int(data["records"]),
                   columns=data.get("columns"), malls=malls)

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(self.to_json())
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
