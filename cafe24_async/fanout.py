"""Running many calls at once, bounded: `fan_out(fn, inputs)`.

It calls `fn` on every input with at most `concurrency` calls in flight, reading
the inputs lazily (a million inputs cost the memory of `concurrency` tasks), and
yields `Outcome`s in input order or as completed. A failed call is reported with
its input; the others go on. It knows nothing of Cafe24: each call still goes
through its mall's request path, so concurrency raises throughput only up to
the rate limit, never over it.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
from collections import deque
from collections.abc import (
    AsyncGenerator,
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Iterable,
    Sequence,
)
from typing import Any, Generic, TypeVar

import attrs

from cafe24_async.checks import check_count
from cafe24_async.errors import ValidationError

T = TypeVar("T")
R = TypeVar("R")


@attrs.frozen(slots=True)
class Outcome(Generic[T, R]):
    """The result of one fanned-out call: its input, and a value or an error."""

    index: int
    input: T
    value: R | None = None
    error: BaseException | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


async def _aiter(inputs: Iterable[T] | AsyncIterable[T]) -> AsyncIterator[T]:
    if isinstance(inputs, AsyncIterable):
        async for item in inputs:
            yield item
    else:
        for item in inputs:
            yield item


async def fan_out(
    fn: Callable[[T], Awaitable[R]],
    inputs: Iterable[T] | AsyncIterable[T],
    *,
    concurrency: int = 16,
    ordered: bool = True,
) -> AsyncGenerator[Outcome[T, R], None]:
    """Call `fn(input)` for every input, `concurrency` at a time.

    Yields one `Outcome` per input: in input order when `ordered`, else as each
    call completes. Exceptions are captured in `Outcome.error` (cancellation is
    not). Leaving the loop early cancels the calls still in flight.
    """
    check_count("concurrency", concurrency, "fan_out")
    if not callable(fn):
        raise ValidationError("fn", "must be a coroutine function taking one input", "fan_out")
    if not isinstance(ordered, bool):
        raise ValidationError("ordered", "must be True or False", "fan_out")
    if not isinstance(inputs, (Iterable, AsyncIterable)) or isinstance(inputs, (str, bytes)):
        raise ValidationError("inputs", "must be an iterable or async iterable of inputs", "fan_out")
    source = _aiter(inputs).__aiter__()
    pending: deque[tuple[int, T, asyncio.Task[R]]] = deque()
    exhausted = False
    index = 0

    async def refill() -> None:
        nonlocal exhausted, index
        while not exhausted and len(pending) < concurrency:
            try:
                item = await source.__anext__()
            except StopAsyncIteration:
                exhausted = True
                return
            pending.append((index, item, asyncio.ensure_future(_call(fn, item))))
            index += 1

    def outcome(i: int, item: T, task: asyncio.Task[R]) -> Outcome[T, R]:
        error = task.exception()
        if error is not None:
            return Outcome(i, item, error=error)
        return Outcome(i, item, value=task.result())

    try:
        await refill()
        while pending:
            if ordered:
                i, item, task = pending[0]
                await asyncio.wait([task])
                pending.popleft()
            else:
                done, _ = await asyncio.wait(
                    [t for _, _, t in pending], return_when=asyncio.FIRST_COMPLETED
                )
                i, item, task = next(entry for entry in pending if entry[2] in done)
                pending.remove((i, item, task))
            if task.cancelled():
                raise asyncio.CancelledError
            yield outcome(i, item, task)
            await refill()
    finally:
        await _cancel_all([t for _, _, t in pending])


async def _call(fn: Callable[[T], Awaitable[R]], item: T) -> R:
    """`await fn(item)`; a `fn` that does not return an awaitable is a `ValidationError`
    in that input's outcome, like any other failure of the call."""
    result = fn(item)
    if not inspect.isawaitable(result):
        raise ValidationError("fn", "must return an awaitable (an async def function)", "fan_out")
    return await result


async def _cancel_all(tasks: Sequence[asyncio.Future[Any]]) -> None:
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(BaseException):
            await task
