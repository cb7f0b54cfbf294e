"""Putting a run's partition files together into one file per resource.

Partitions never share a record (other malls, or windows that do not meet),
and each record carries its `mall_id`, so JSON Lines files are combined by
putting them one after another: `combine` does that in the plan's order, once
every partition has its stored result (a partition without one is unfinished
and is named). The combined file is written beside its final name and moved
there at the end, so a reader never sees half of it.

CSV partitions each have a header of their own (columns come from each
partition's first page), so they are not concatenated: load them one by one
(`COPY ... CSV HEADER` per file, or `pandas.concat`), or plan in JSON Lines.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO

from cafe24_async.celery.partition import Partition, check_run
from cafe24_async.celery.runner import PartitionPaths, read_result
from cafe24_async.durable import replace_with
from cafe24_async.export.errors import ExportError
from cafe24_async.export.output import output_errors

__all__ = ["combine"]


def combine(
    root: str | os.PathLike[str], run: str, partitions: Sequence[Partition], out: str | os.PathLike[str],
) -> int:
    """Write the outputs of `partitions` (JSON Lines) one after another to `out`;
    returns the records written. `ExportError` names unfinished partitions."""
    check_run(run)
    if any(p.format != "jsonl" for p in partitions):
        raise ExportError("combine puts JSON Lines files together; load CSV partitions one by one")
    unfinished: list[str] = []
    records = 0
    for partition in partitions:
        result = read_result(PartitionPaths.of(root, run, partition), run, partition)
        if result is None or not result.ok:
            unfinished.append(partition.key)
        else:
            records += result.records
    if unfinished:
        raise ExportError(f"{len(unfinished)} partitions are not done: {', '.join(unfinished[:10])}")
    target = Path(out)

    def copy_partitions(sink: BinaryIO) -> None:
        for partition in partitions:
            with open(PartitionPaths.of(root, run, partition).output, "rb") as source:
                shutil.copyfileobj(source, sink)

    with output_errors(str(target)):
        replace_with(target, copy_partitions)
    return records
