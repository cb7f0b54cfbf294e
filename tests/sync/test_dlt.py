"""The dlt source end to end: real dlt, the DuckDB destination, the sandbox over HTTP.

Run 1 loads every product and order of two malls; the sandbox then changes some
records through the library's own update calls; run 2 loads only those, and the
tables hold each record once, with the new values. Credentials also come from
dlt's secrets (an environment variable), and a mall added later gets its first
full read while the others go on from their cursors.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from cafe24_async.errors import ConfigurationError
from tests.conftest import ClientFactory, SandboxFactory
from tests.sync.helpers import WallClock, token_file

dlt = pytest.importorskip("dlt", reason="the dlt extra is not installed (pip install 'cafe24-async[dlt]')")
duckdb = pytest.importorskip("duckdb", reason="the dlt extra is not installed (pip install 'cafe24-async[dlt]')")

from cafe24_async.dlt import cafe24_source, resource_routes  # noqa: E402


@pytest.fixture(autouse=True)
def _dlt_at_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """dlt keeps its files in the test's folder and sends no telemetry."""
    monkeypatch.setenv("RUNTIME__DLTHUB_TELEMETRY", "false")
    monkeypatch.setenv("DLT_DATA_DIR", str(tmp_path / "dlt-data"))


def _rows(db: Path, sql: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.sql(sql).fetchall()


def _counts(pipeline: Any) -> dict[str, int]:
    counts: dict[str, int] = pipeline.last_trace.last_normalize_info.row_counts
    return {k: v for k, v in counts.items() if not k.startswith("_dlt")}


async def test_run_two_loads_only_the_changed_records_and_each_row_once(
    make_sandbox: SandboxFactory, make_client: ClientFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = WallClock()
    sandbox = await make_sandbox(malls=("acme", "beta"), products=120, orders=150, customers=30, now=clock.now)
    tokens = await token_file(sandbox, tmp_path / "tokens.json", "acme", "beta")
    options = sandbox.client_options()
    monkeypatch.setenv("SOURCES__CAFE24__CLIENT_SECRET", options.pop("client_secret"))  # dlt's secrets
    client_id = options.pop("client_id")
    db = tmp_path / "warehouse.duckdb"
    pipeline = dlt.pipeline("cafe24_test", destination=dlt.destinations.duckdb(str(db)),
                            pipelines_dir=str(tmp_path / "pipelines"), dataset_name="shop")

    def source(malls: list[str]) -> Any:
        return cafe24_source(malls, start_date="2025-11-01", client_id=client_id, token_file=str(tokens),
                             client_options={**options, "clock": clock, "max_per_second": None})

    await asyncio.to_thread(pipeline.run, source(["acme", "beta"]))
    first = _counts(pipeline)
    placed = sum(1 for m in ("acme", "beta") for o in sandbox.dataset(m).orders.records
                 if o["order_date"] >= "2025-11-01")
    assert first["products"] == 240 and first["orders"] == placed

    clock.advance(hours=12)
    api = await make_client(sandbox, clock=clock)
    acme, beta = api.mall("acme").admin, api.mall("beta").admin
    await acme.products.update(7, request={"price": 12345})
    await beta.products.update(7, request={"price": 54321})  # the same product_no in another mall
    await beta.products.variants.update_by_product_no(8, "P000000H000A", quantity=1)
    order = next(o["order_id"] for o in sandbox.dataset("acme").orders.records if o["order_date"] >= "2025-11-01")
    await acme.orders.shipments.update(order, "S1", status="shipping")
    clock.advance(hours=1)

    await asyncio.to_thread(pipeline.run, source(["acme", "beta"]))
    assert _counts(pipeline) == {"products": 3, "products__category": 6, "orders": 1, "orders__payment_method": 1,
                                 "orders__payment_method_name": 1}
    assert _rows(db, "select count(*), count(distinct (mall_id, product_no)) from shop.products") == [(240, 240)]
    assert _rows(db, "select mall_id, price from shop.products where product_no = 7 order by mall_id") == [
        ("acme", "12345.00"), ("beta", "54321.00")]
    assert _rows(db, f"select count(*), max(shipbegin_date) is not null from shop.orders "
                     f"where order_id = '{order}' and mall_id = 'acme'") == [(1, True)]
    assert _rows(db, "select count(*) from shop.orders") == [(placed,)]

    # A mall added later is read whole; the others only by their changes (none).
    await token_file(sandbox, tokens, "gamma")
    await asyncio.to_thread(pipeline.run, source(["acme", "beta", "gamma"]))
    counts = _counts(pipeline)
    gamma_orders = sum(1 for o in sandbox.dataset("gamma").orders.records if o["order_date"] >= "2025-11-01")
    assert counts["products"] == 120 and counts["orders"] == gamma_orders
    assert _rows(db, "select mall_id, count(*) from shop.products group by 1 order by 1") == [
        ("acme", 120), ("beta", 120), ("gamma", 120)]


def test_resources_keys_and_dispositions_come_from_the_route_table() -> None:
    routes = resource_routes()
    assert {"products", "orders", "customersprivacy", "front_products", "analytics_visitors_view"} <= set(routes)
    source = cafe24_source(["acme"], client_id="id", client_secret="secret", token_file="/nonexistent")
    assert set(source.selected_resources) == {"products", "orders"}
    products = source.resources["products"]
    assert products.compute_table_schema()["columns"]["product_no"]["primary_key"]
    assert products.write_disposition == "merge"
    assert source.resources["analytics_visitors_view"].write_disposition == "replace"  # no key: replaced whole
    with pytest.raises(ConfigurationError, match="unknown resource 'nothing'"):
        cafe24_source(["acme"], resources=["nothing"], client_id="id", client_secret="s")
