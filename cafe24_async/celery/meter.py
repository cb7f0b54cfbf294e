"""Requests and 429s counted per partition, while many partitions share one client.

A worker process runs many partitions at once on one client, several of them
on the same mall, so the mall's counters (`mall.stats`) mix them. Each
partition instead sets its own `Meter` in a context variable before it
starts; every asyncio task it starts (the export's page readers) inherits it,
and an aiohttp trace hook on the client's session adds each answer to the
meter of the task that sent it. OAuth requests are not counted: a refresh
serves every partition of the mall, and the server counts them apart too.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from types import SimpleNamespace

import aiohttp
import attrs

__all__ = ["Meter", "metered", "trace_config"]

OAUTH_PATH = "/oauth/token"


@attrs.define
class Meter:
    """API requests one partition sent, and how many were answered 429."""

    requests: int = 0
    throttled: int = 0


_CURRENT: ContextVar[Meter | None] = ContextVar("cafe24_partition_meter", default=None)


@contextlib.contextmanager
def metered(meter: Meter) -> Iterator[Meter]:
    """Count the requests of this task, and of the tasks it starts, into `meter`."""
    token = _CURRENT.set(meter)
    try:
        yield meter
    finally:
        _CURRENT.reset(token)


async def _on_end(
    session: aiohttp.ClientSession, context: SimpleNamespace, params: aiohttp.TraceRequestEndParams
) -> None:
    meter = _CURRENT.get()
    if meter is None or params.url.path.endswith(OAUTH_PATH):
        return
    meter.requests += 1
    if params.response.status == 429:
        meter.throttled += 1


async def _on_exception(
    session: aiohttp.ClientSession, context: SimpleNamespace, params: aiohttp.TraceRequestExceptionParams
) -> None:
    meter = _CURRENT.get()
    if meter is not None and not params.url.path.endswith(OAUTH_PATH):
        meter.requests += 1  # sent, and perhaps received; the answer was lost


def trace_config() -> aiohttp.TraceConfig:
    """The hook to give the worker's client (`Cafe24(trace_configs=[trace_config()])`)."""
    trace = aiohttp.TraceConfig()
    trace.on_request_end.append(_on_end)
    trace.on_request_exception.append(_on_exception)
    return trace
