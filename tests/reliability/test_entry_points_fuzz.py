"""Every public entry point, driven with random arguments: only library errors come out.

`iterate()`, `fan_out`, `mall.call`, the endpoint coroutines' call options and
`Cafe24(...)` are called with values a caller might pass by mistake (text for
numbers, zero and negative sizes, huge and non-finite numbers, bad dates, wrong
types). Whatever happens, only `Cafe24Error` subclasses leave the library, and a
refused call sends nothing to the sandbox.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from cafe24_async import (
    Cafe24,
    Cafe24Error,
    ConfigurationError,
    RateLimitSettings,
    RetrySettings,
    TimeoutSettings,
    ValidationError,
    fan_out,
)
from cafe24_async.sandbox import Sandbox
from tests.conftest import ClientFactory, SandboxFactory

EXAMPLES = 150


class Huge(int):
    def __repr__(self) -> str:
        return "Huge(...)"


ODD = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-10, max_value=10**6), st.floats(),
    st.sampled_from(["100", "abc", "", "-5", "1e3", "5.5", "0", "garbage", "2026-02-30", "10"]),
    st.just(Huge(10**5000)), st.lists(st.integers(), max_size=3), st.just(object()), st.just(b"x"),
)


@pytest_asyncio.fixture
async def live(make_sandbox: SandboxFactory, make_client: ClientFactory) -> AsyncIterator[tuple[Sandbox, Cafe24]]:
    sb = await make_sandbox(malls=("acme",), per_mall_products={"acme": 30}, orders=40, customers=10)
    api = await make_client(sb, retry=RetrySettings(max_attempts=2, base_delay=0.001))
    yield sb, api


def outcome(sb: Sandbox, before: int, error: BaseException | None) -> None:
    """Refused calls send nothing; every failure is a library error."""
    if error is None:
        event("answered")
        return
    assert isinstance(error, Cafe24Error), f"{type(error).__name__}: {error}"
    if isinstance(error, ValidationError):
        assert len(sb.requests) == before, "a refused call sent a request"
    event(f"{type(error).__name__}")


ITERATE_OPTIONS = st.fixed_dictionaries({}, optional={
    "limit": ODD, "offset": ODD, "since_product_no": ODD, "fields": ODD, "concurrency": ODD,
    "timeout": ODD, "typed": ODD, "product_no": ODD,
})


@settings(max_examples=EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(options=ITERATE_OPTIONS)
async def test_iterate_products_with_any_arguments(live: tuple[Sandbox, Cafe24], options: dict[str, Any]) -> None:
    sb, api = live
    before = len(sb.requests)
    error: BaseException | None = None
    try:
        async for _ in api.mall("acme").admin.products.iterate(**options):
            pass
    except Exception as exc:
        error = exc
    outcome(sb, before, error)


@settings(max_examples=EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(start=ODD, end=ODD, limit=ODD)
async def test_iterate_orders_with_any_dates(live: tuple[Sandbox, Cafe24], start: Any, end: Any, limit: Any) -> None:
    sb, api = live
    before = len(sb.requests)
    error: BaseException | None = None
    try:
        async for _ in api.mall("acme").admin.orders.iterate(start_date=start, end_date=end, limit=limit):
            pass
    except Exception as exc:
        error = exc
    outcome(sb, before, error)


@settings(max_examples=EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(method=st.one_of(st.sampled_from(["GET", "get", "POST", "PATCH", ""]), ODD),
       path=st.one_of(st.sampled_from(["/api/v2/admin/products", "/api/v2/admin/products/{product_no}",
                                       "/api/v2/admin/nothing", "products", ""]), ODD),
       options=st.fixed_dictionaries({}, optional={"typed": ODD, "timeout": ODD, "retry_writes": ODD,
                                                   "limit": ODD, "product_no": ODD}))
async def test_mall_call_with_any_arguments(
    live: tuple[Sandbox, Cafe24], method: Any, path: Any, options: dict[str, Any]
) -> None:
    sb, api = live
    before = len(sb.requests)
    error: BaseException | None = None
    try:
        await api.mall("acme").call(method, path, **options)
    except Exception as exc:
        error = exc
    outcome(sb, before, error)


@settings(max_examples=EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(concurrency=ODD, ordered=ODD, inputs=st.one_of(ODD, st.just([1, 2, 3]), st.just("abc")),
       fn=st.sampled_from(["async", "sync", "not callable"]))
async def test_fan_out_with_any_arguments(concurrency: Any, ordered: Any, inputs: Any, fn: str) -> None:
    async def double(x: Any) -> Any:
        return x * 2

    call: Any = {"async": double, "sync": lambda x: x, "not callable": 5}[fn]
    try:
        async for result in fan_out(call, inputs, concurrency=concurrency, ordered=ordered):
            assert result.error is None or isinstance(result.error, Cafe24Error)
    except Exception as exc:
        assert isinstance(exc, Cafe24Error), f"{type(exc).__name__}: {exc}"
        event(type(exc).__name__)


CLIENT_OPTIONS = st.fixed_dictionaries({}, optional={
    "client_secret": ODD, "token_store": ODD, "base_url": st.one_of(ODD, st.sampled_from(
        ["http://127.0.0.1:1/{mall_id}", "https://{mall_id}.x.com", "http://[::1", "ftp://{mall_id}", "http://h:99999/{mall_id}"])),
    "leak_rate": ODD, "bucket_capacity": ODD, "max_per_second": ODD, "typed": ODD, "refresh_margin": ODD,
    "api_version": ODD, "clock": ODD, "session": ODD, "dcollection_credentials": st.one_of(ODD, st.tuples(ODD, ODD)),
    "retry": st.one_of(ODD, st.builds(RetrySettings, max_attempts=ODD, base_delay=ODD)),
    "timeout": st.one_of(ODD, st.builds(TimeoutSettings, connect=ODD, total=ODD)),
    "rate_limit": st.one_of(ODD, st.builds(RateLimitSettings, leak_rate=ODD, max_per_second=ODD)),
})


@settings(max_examples=EXAMPLES * 2, deadline=None)
@given(client_id=st.one_of(st.just("app"), ODD), options=CLIENT_OPTIONS)
async def test_client_construction_with_any_arguments(client_id: Any, options: dict[str, Any]) -> None:
    try:
        api = Cafe24(client_id, **options)
    except Exception as exc:
        assert isinstance(exc, ConfigurationError), f"{type(exc).__name__}: {exc}"
        event("refused")
        return
    event("built")
    await api.close()


@pytest.mark.parametrize("timeout", [Huge(10**5000), 10**400, math.inf, math.nan, -1, 0, "10", True],
                         ids=["huge", "10**400", "inf", "nan", "-1", "0", "text", "bool"])
async def test_a_call_timeout_that_is_not_a_number_of_seconds_is_refused(
    live: tuple[Sandbox, Cafe24], timeout: Any
) -> None:
    sb, api = live
    before = len(sb.requests)
    with pytest.raises(ValidationError, match="timeout"):
        await api.mall("acme").admin.products.get(1, timeout=timeout)
    assert len(sb.requests) == before


async def test_keyset_given_as_text_is_read_as_a_number(live: tuple[Sandbox, Cafe24]) -> None:
    sb, api = live
    numbers = sorted(p["product_no"] for p in sb.dataset("acme").products.records)
    floor = numbers[9]
    seen = [p["product_no"] async for p in api.mall("acme").admin.products.iterate(since_product_no=str(floor))]
    assert seen == numbers[10:]


async def test_unknown_route_is_a_library_error(live: tuple[Sandbox, Cafe24]) -> None:
    _, api = live
    with pytest.raises(Cafe24Error, match="no documented route"):
        await api.mall("acme").call("GET", "/api/v2/admin/nothing")


async def test_field_and_parameter_names_that_are_not_text_are_refused_before_sending(
    make_sandbox: SandboxFactory, make_client: ClientFactory
) -> None:
    """A body record or a parameter table keyed by a non-text name is a ValidationError
    naming the rule (it once escaped as a TypeError from the name suggestions)."""
    from cafe24_async.routes import find_route

    sb = await make_sandbox(malls=("acme",))
    mall = (await make_client(sb)).mall("acme")
    with pytest.raises(ValidationError, match="request: must name its fields with text"):
        await mall.admin.apps.update(request={0: False})
    route = find_route("GET", "/api/v2/admin/products")
    with pytest.raises(ValidationError, match="is not a parameter name"):
        mall.prepare(route, (), {1: "x"})
    assert sb.stats("acme").requests == 0


async def test_a_mall_id_that_cannot_be_a_key_is_a_configuration_error(
    make_sandbox: SandboxFactory, make_client: ClientFactory
) -> None:
    """`api.mall([])` (or an export given `malls=([],)`) once escaped as a TypeError."""
    from cafe24_async import ConfigurationError

    api = await make_client(await make_sandbox(malls=("acme",)))
    for bad in ([], {}, {"a"}):
        with pytest.raises(ConfigurationError, match="invalid mall id"):
            api.mall(bad)  # type: ignore[arg-type]
