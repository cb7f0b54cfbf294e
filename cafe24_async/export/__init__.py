"""Bulk exports: every record of a resource, from many malls, exactly once, resumable."""

from cafe24_async.export.errors import (
    CheckpointError,
    ExportError,
    OutputBusyError,
    OutputError,
    ResumeError,
)
from cafe24_async.export.job import ExportReport, ExportSpec, run_export
from cafe24_async.export.progress import Progress
from cafe24_async.export.resources import exportable, resolve_resource

__all__ = [
    "CheckpointError",
    "ExportError",
    "ExportReport",
    "ExportSpec",
    "OutputBusyError",
    "OutputError",
    "Progress",
    "ResumeError",
    "exportable",
    "resolve_resource",
    "run_export",
]
