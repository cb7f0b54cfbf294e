"""Property-based tests: any arguments, only the library's own exceptions, nothing sent on a refusal.

Route parameters are drawn from values a caller might pass by mistake: wrong
types, None, huge numbers and lists, bad and extreme dates, odd unicode (lone
surrogates, NUL, control and combining characters, right-to-left marks), nested
objects that JSON cannot carry. `prepare` is checked offline over every route;
then the endpoint coroutines are called against the sandbox.
"""

from __future__ import annotations

import json
import math
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
import pytest_asyncio
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from cafe24_async import Cafe24, Cafe24Error, RetrySettings, ValidationError
from cafe24_async.routes import ROUTES, find_route
from cafe24_async.routes.route import Route
from cafe24_async.sandbox import Sandbox
from tests.client.test_route_table import resolve
from tests.conftest import ClientFactory, SandboxFactory

#: Examples per property (each run stays within a few seconds).
OFFLINE_EXAMPLES = 600
BODY_EXAMPLES = 300
DATE_EXAMPLES = 300
LIVE_EXAMPLES = 400

ODD_TEXT = st.one_of(
    st.text(st.characters(exclude_categories=()), max_size=40),  # surrogates included
    st.sampled_from(["\ud800", "a\udfffb", "\x00", "\u202eevil", "e\u0301", "\ufeff", "..", "../../x", "a/b",
                     "?x=1#y", "@evil.example", " ", "\r\n", "%00", "%2F", "한글", "１２３", "٣", "NaN", "-0"]),
)
BAD_DATES = st.one_of(
    st.sampled_from(["2026-02-30", "2026-13-01", "0000-01-01", "9999-12-31", "2026-1-1", "20260101",
                     "2026-01-01T25:00:00", "2026-01-01T00:00:00+99:00", "yesterday", ""]),
    st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)),
    st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30),
                 timezones=st.sampled_from([None, UTC, timezone(timedelta(hours=14)), timezone(timedelta(hours=-12))])),
    st.sampled_from([datetime.max.replace(tzinfo=UTC), datetime.min.replace(tzinfo=UTC), date.max, date.min]),
)


class Huge(int):
    """An int too long for `str()` (Python caps it at 4300 digits), with a repr that works."""

    def __repr__(self) -> str:
        return f"Huge(<{self.bit_length()} bits>)"


NUMBERS = st.one_of(
    st.integers(), st.floats(), st.decimals(allow_nan=True, allow_infinity=True),
    st.sampled_from([Decimal("sNaN"), Huge(10**5000), Huge(-(10**4400)), 2**63, -1, 0]),
)
SCALARS = st.one_of(st.none(), st.booleans(), NUMBERS, ODD_TEXT, BAD_DATES, st.binary(max_size=8),
                    st.builds(object), st.just(b"bytes"), st.just(Ellipsis))
NESTED = st.recursive(
    SCALARS | st.just(float("nan")),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.one_of(ODD_TEXT, st.integers(), st.none()), inner, max_size=3)
    | st.frozensets(st.integers(), max_size=3) | st.tuples(inner),
    max_leaves=6,
)
HUGE_LISTS = st.integers(min_value=0, max_value=3000).map(lambda n: list(range(n)))
GOOD = st.one_of(st.integers(min_value=1, max_value=100), st.sampled_from(["2026-01-01", "2026-03-31", "T", "F", "1"]),
                 st.text(st.characters(codec="utf-8"), min_size=1, max_size=10))
VALUES = st.one_of(GOOD, GOOD, GOOD, SCALARS, NESTED, HUGE_LISTS, st.lists(SCALARS, max_size=5), st.sets(st.integers(), max_size=5))
PATH_VALUES = st.one_of(SCALARS, st.integers(min_value=1, max_value=500), st.text(max_size=300), ODD_TEXT)

FUZZED = [r for r in ROUTES if not r.legacy]
OFFLINE_MALL = Cafe24(client_id="fuzz").mall("fuzz")


def names_for(route: Route) -> list[str]:
    names = [p.name for p in route.params if p.location != "path"]
    names += ["fields", "embed", "limit", "offset", "shop_no", "not_a_param", "request", "requests"]
    names += [p.name for p in route.params if p.location == "path"]  # by name as well as by position
    return names


@st.composite
def calls(draw: st.DrawFn, routes: list[Route]) -> tuple[Route, list[Any], dict[str, Any]]:
    route = draw(st.sampled_from(routes))
    args = draw(st.lists(PATH_VALUES, max_size=len(route.path_params) + 1))
    params = draw(st.dictionaries(st.sampled_from(names_for(route)), VALUES, max_size=4))
    return route, args, params


def check_sendable(prepared: Any) -> None:
    """What `prepare` lets through can be put on the wire as it is."""
    assert prepared.path.isascii() and prepared.path.startswith(prepared.route.path.split("{")[0])
    for name, value in prepared.query:
        assert isinstance(name, str) and isinstance(value, str)
        value.encode("utf-8")  # no lone surrogate
    if prepared.body is not None:
        text = json.dumps(prepared.body, allow_nan=False)
        assert math.isfinite(len(text))


def known(method: str, path: str, args: list[Any], params: dict[str, Any]) -> tuple[Route, list[Any], dict[str, Any]]:
    return find_route(method, path), args, params


#: Inputs that once got past validation, run on every test run besides the random ones.
REGRESSIONS = [
    known("GET", "/api/v2/admin/customers/{member_id}/memos", ["\ud800"], {}),  # lone surrogate in a path
    known("GET", "/api/v2/admin/products", [], {"product_name": "a\udfffb"}),  # ... and in a query
    known("PUT", "/api/v2/admin/orders/saleschannels/{sales_channel_id}", [1],
          {"sales_channel_name": Huge(10**5000)}),  # an int str() refuses, with a repr that works
    known("POST", "/api/v2/admin/products", [], {"product_name": {"a": b"bytes"}, "supply_price": 1}),
    known("POST", "/api/v2/admin/products", [], {"product_name": [{"a": Decimal("NaN")}], "supply_price": 1}),
    known("PUT", "/api/v2/admin/products/{product_no}", [1], {"shop_no": Decimal("2")}),  # JSON-ready
    known("GET", "/api/v2/admin/orders", [], {"start_date": "9999-12-01", "end_date": "9999-12-31"}),
    known("GET", "/api/v2/admin/orders", [], {"start_date": datetime(9999, 12, 31, 23, tzinfo=timezone(timedelta(hours=-12))),
                                              "end_date": datetime(9999, 12, 31, 23, tzinfo=timezone(timedelta(hours=-12)))}),
]


@settings(max_examples=OFFLINE_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(call=calls(FUZZED))
def test_prepare_raises_only_validation_errors(call: tuple[Route, list[Any], dict[str, Any]]) -> None:
    event(prepare_checked(call))


@pytest.mark.parametrize("call", REGRESSIONS, ids=lambda c: f"{c[0].qualified_name}")
def test_known_bad_inputs(call: tuple[Route, list[Any], dict[str, Any]]) -> None:
    assert prepare_checked(call) in ("refused", "accepted")  # and nothing else escaped


def prepare_checked(call: tuple[Route, list[Any], dict[str, Any]]) -> str:
    """`prepare` refuses `call` with a ValidationError, or renders something sendable."""
    route, args, params = call
    try:
        prepared = OFFLINE_MALL.prepare(route, args, dict(params))
    except ValidationError as exc:
        assert exc.rule and str(exc)
        return "refused"
    check_sendable(prepared)
    return "accepted"


WRITES = [r for r in FUZZED if r.method in ("POST", "PUT") and any(p.location == "body" for p in r.params)]


@st.composite
def bodies(draw: st.DrawFn) -> tuple[Route, dict[str, Any]]:
    """A write route with nested objects and lists in its documented body fields."""
    route = draw(st.sampled_from(WRITES))
    names = [p.name for p in route.params if p.location == "body"]
    inner = st.dictionaries(st.sampled_from(names), NESTED | st.lists(NESTED, max_size=3), min_size=1, max_size=3)
    return route, draw(st.one_of(inner.map(lambda d: {**d}),
                                 inner.map(lambda d: {"requests": [d]}),
                                 inner.map(lambda d: {"request": d})))


@settings(max_examples=BODY_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(call=bodies())
def test_write_bodies_are_plain_json_or_refused(call: tuple[Route, dict[str, Any]]) -> None:
    route, params = call
    args = [1] * len(route.path_params)
    try:
        prepared = OFFLINE_MALL.prepare(route, args, dict(params))
    except ValidationError:
        event("refused")
        return
    json.dumps(prepared.body, allow_nan=False)  # no NaN, bytes, sets, Decimal or date objects left
    event("accepted")


DATE_RANGED = [r for r in FUZZED if r.date_range is not None]
#: The routes with a documented longest span (orders: three months), drawn half the time.
SPAN_LIMITED = [r for r in DATE_RANGED if r.date_range is not None and r.date_range.max_span_months]
EDGE_DATES = st.one_of(
    BAD_DATES,
    st.sampled_from(["9999-10-01", "9999-12-31", "0001-01-01", "2026-01-01", "2026-04-01", "2026-01-01T00:00:00+09:00",
                     "9999-12-31T23:59:59-12:00", "0001-01-01T00:00:00+14:00"]),
    st.dates(min_value=date(9999, 9, 1)),
)


@settings(max_examples=DATE_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(route=st.sampled_from(DATE_RANGED) | st.sampled_from(SPAN_LIMITED), start=EDGE_DATES, end=EDGE_DATES)
def test_date_ranges_at_the_edges(route: Route, start: Any, end: Any) -> None:
    """Start and end dates near year 1 and year 9999, in every form and time zone."""
    assert route.date_range is not None
    params = {route.date_range.start: start, route.date_range.end: end}
    params.update({p.name: "1" for p in route.params if p.required and p.location == "query" and p.name not in params})
    try:
        prepared = OFFLINE_MALL.prepare(route, ["1"] * len(route.path_params), params)
    except ValidationError:
        event("refused")
        return
    check_sendable(prepared)
    event("accepted")


@pytest_asyncio.fixture
async def live(make_sandbox: SandboxFactory, make_client: ClientFactory) -> AsyncIterator[tuple[Sandbox, Cafe24]]:
    sb = await make_sandbox(malls=("acme",), products=20, orders=50, customers=20)
    api = await make_client(sb, retry=RetrySettings(max_attempts=2, base_delay=0.001))
    yield sb, api


LIVE_ROUTES = [r for r in FUZZED if r.api in ("admin", "front")]


@settings(max_examples=LIVE_EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(call=calls(LIVE_ROUTES))
async def test_calls_raise_only_library_errors_and_send_nothing_when_refused(
    live: tuple[Sandbox, Cafe24], call: tuple[Route, list[Any], dict[str, Any]]
) -> None:
    sb, api = live
    route, args, params = call
    fn = resolve(api.mall("acme"), route)
    before = len(sb.requests)
    try:
        await fn(*args, **params)
    except ValidationError:
        assert len(sb.requests) == before  # refused before anything was sent
        event("refused, nothing sent")
    except Cafe24Error as exc:
        assert len(sb.requests) > before
        event(f"sent, {type(exc).__name__}")  # the server said no: a typed error
    else:
        assert len(sb.requests) > before
        event("sent, answered")
