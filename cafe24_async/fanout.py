"""Running many calls at once, bounded, at the pace of each mall's bucket.

- `fan_out(fn, inputs)`: call `fn` on every input with at most `concurrency`
  calls in flight, reading the inputs lazily (a million inputs cost the memory
  of `concurrency` tasks), yielding `Outcome`s in input order or as completed.
  A failed call is reported with its input; the others go on.
- `ordered_pages(...)`: the pages of one list, fetched concurrently, yielded in
  order. With the list's size known (from its `count` route) exactly the needed
  pages are requested; past the known size, pages are fetched one at a time so
  no request is wasted beyond the end.

Neither bypasses the request path: every call still waits for its mall's bucket,
so concurrency raises throughput only up to the rate limit, never over it.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import math
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
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import attrs

from cafe24_async.errors import IncompleteReadError, ValidationError
from cafe24_async.params import check_count
from cafe24_async.routes.route import Route

if TYPE_CHECKING:
    from cafe24_async.mall import Mall

T = TypeVar("T")
R = TypeVar("R")

#: Pages of one list in flight at once, unless the caller says otherwise.
DEFAULT_PAGE_CONCURRENCY = 8


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


#: Times a short page is read again (with a fresh count) while the count says more
#: records remain, before the read fails with `IncompleteReadError`.
SHORT_PAGE_REREADS = 3


async def ordered_pages(
    mall: Mall,
    route: Route,
    args: Sequence[Any],
    params: dict[str, Any],
    *,
    limit: int,
    first_offset: int,
    last_offset: int | None,
    has_offset: bool,
    expected: int | None,
    timeout: float | None,
    concurrency: int | None,
    recount: Callable[[], Awaitable[int | None]] | None = None,
) -> AsyncGenerator[tuple[int, list[Any]], None]:
    """Yield `(offset, page)` in order until the end of the list or `last_offset`.

    `expected` is how many records remain from `first_offset`, from a count
    taken before reading (None when unknown): the pages that hold them are
    fetched concurrently. Past them, or with no count, pages are fetched one at
    a time until a short one, so a stale count never loses records.

    Neither a short page nor a count is trusted alone: a short page while the
    count says more records remain is read again, and `recount()` (the records
    remaining from `first_offset` now) is asked, until the two agree; if they
    never do, `IncompleteReadError` names the offset.
    """
    from cafe24_async.pagination import fetch_page

    width = max(1, concurrency or DEFAULT_PAGE_CONCURRENCY)
    if expected == 0:
        return
    known_pages = 1 if expected is None else math.ceil(expected / limit)
    if expected is not None and expected % limit == 0:
        known_pages += 1  # the page that shows the end, fetched with the others, not after them

    def offsets() -> Iterable[int]:
        offset = first_offset
        for _ in range(known_pages):
            if last_offset is not None and offset > last_offset:
                return
            yield offset
            offset += limit

    async def get(offset: int) -> list[Any]:
        return await fetch_page(
            mall, route, args, params, limit=limit, offset=offset,
            has_offset=has_offset, timeout=timeout,
        )

    async def confirmed(offset: int, page: list[Any]) -> list[Any]:
        """`page`, or a longer read of it, once the count agrees that the list ends there."""
        remaining = expected
        for _ in range(SHORT_PAGE_REREADS + 1):
            if remaining is None or remaining <= offset - first_offset + len(page):
                return page
            again = await get(offset)
            if len(again) > len(page):
                page = again
                if len(page) >= limit:
                    return page
                continue
            remaining = await recount() if recount is not None else remaining
        left = (remaining or 0) - (offset - first_offset)
        raise IncompleteReadError(
            f"{route.method} {route.path}", offset,
            f"a page of {len(page)} records where the count says {left} remain, "
            f"after {SHORT_PAGE_REREADS} more reads",
        )

    offset = first_offset
    results = fan_out(get, offsets(), concurrency=width, ordered=True)
    async with contextlib.aclosing(results):  # closing this generator cancels the fetches at once
        async for result in results:
            if result.error is not None:
                raise result.error
            offset, page = result.input, result.value or []
            if len(page) < limit:
                page = await confirmed(offset, page)
            yield offset, page
            if len(page) < limit:
                return
    # The last page was full: the count was short (records created since, or no
    # count at all), so go on one page at a time until a short page.
    while True:
        offset += limit
        if not has_offset or (last_offset is not None and offset > last_offset):
            return
        page = await get(offset)
        if len(page) < limit:
            page = await confirmed(offset, page)
        yield offset, page
        if len(page) < limit:
            return


async def count_of(
    mall: Mall, route: Route, args: Sequence[Any], params: dict[str, Any], timeout: float | None
) -> int | None:
    """Records the list would hold, from the sibling `count` route, when it exists
    and accepts every filter given; None otherwise."""
    from cafe24_async.binder import api_tree

    node = api_tree(route.api)
    for part in route.namespace:
        node = node.children[part]
    counter = node.routes.get("count")
    if counter is None or counter.path_params != route.path_params:
        return None
    accepted = {p.name for p in counter.params}
    ignored = {"limit", "offset", "fields", "embed", "sort", "order"}
    filters = {k: v for k, v in params.items() if k not in ignored and v is not None}
    if route.pagination and route.pagination.keyset in filters:
        return None
    if any(name not in accepted for name in filters):
        return None
    prepared = mall.prepare(counter, args, filters)
    value = await mall.execute(prepared, typed=False, timeout=timeout)
    return int(value) if isinstance(value, int) else None
