"""Input files and the plan: everything wrong with the rows is found before anything is sent.

No server is needed: a bad file, a bad column or a bad row stops the job at
planning, which uses the route's own checks (`Mall.prepare`) and sends nothing.
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from cafe24_async import Cafe24, Mall
from cafe24_async.bulk import (
    BulkInputError,
    BulkProgress,
    BulkReport,
    RowResult,
    profile_for,
    read_rows,
    resolve_route,
)
from cafe24_async.bulk.plan import Plan, make_plan
from cafe24_async.bulk.results import write_results
from cafe24_async.bulk.rows import given_rows
from tests.bulk.helpers import INVENTORY, VARIANTS, stock_rows, write_csv, write_jsonl


@pytest_asyncio.fixture
async def mall() -> AsyncIterator[Mall]:
    async with Cafe24(client_id="client", client_secret="secret", base_url="http://127.0.0.1:9/{mall_id}") as api:
        yield api.mall("acme")


def plan_of(mall: Mall, route: str, rows: object, **options: object) -> Plan:
    given = rows if not isinstance(rows, list) else given_rows(rows)
    return make_plan(mall, profile_for(resolve_route(route)), given, **options)  # type: ignore[arg-type]


def test_routes_by_name_or_method_and_path() -> None:
    assert resolve_route(VARIANTS).path == "/api/v2/admin/products/{product_no}/variants"
    assert resolve_route("admin." + INVENTORY).method == "PUT"
    assert resolve_route("PUT /api/v2/admin/shipments").qualified_name == "admin.shipments.update"
    profile = profile_for(resolve_route(VARIANTS))
    assert profile.bulk and profile.cap == 100 and profile.item_key == ("variant_code",) and profile.readback_list
    single = profile_for(resolve_route(INVENTORY))
    assert not single.bulk and single.readback is not None and single.readback.method == "GET"
    post = profile_for(resolve_route("POST /api/v2/admin/shipments"))
    assert post.bulk and not post.idempotent and post.readback is None
    with pytest.raises(BulkInputError, match=r"did you mean: .*products\.variants\.update_many"):
        resolve_route("products.variants.update_al")
    with pytest.raises(BulkInputError, match="no documented route PUT"):
        resolve_route("PUT /api/v2/admin/nothing")


async def test_csv_columns_mapped_typed_and_checked(mall: Mall, tmp_path: Path) -> None:
    source = write_csv(tmp_path / "stock.csv", [
        {"product": "1", "sku": "P000000A000A", "stock": "12", "note": "x", "display": "T"},
        {"product": "1", "sku": "P000000A000B", "stock": "", "note": "", "display": "F"},
    ])
    with pytest.raises(BulkInputError, match=r"note, product, sku, stock are not parameters.*--map"):
        plan_of(mall, VARIANTS, read_rows(source))
    rows = read_rows(source, {"product": "product_no", "sku": "variant_code", "stock": "quantity"}, ["note"])
    plan = plan_of(mall, VARIANTS, rows)
    first, second = plan.rows
    assert first.line == 2 and first.path == {"product_no": "1"} and first.body == {
        "variant_code": "P000000A000A", "quantity": 12, "display": "T"}
    assert second.body == {"variant_code": "P000000A000B", "display": "F"}  # an empty cell sends nothing
    chunk = plan.chunks(plan.rows, iter(range(1, 10)))[0]
    assert chunk.prepared.body == {"shop_no": 1, "requests": [first.body, second.body]}
    with pytest.raises(BulkInputError, match="has no column 'sku2'"):
        read_rows(source, {"sku2": "variant_code"})


async def test_every_bad_row_is_named_and_nothing_planned(mall: Mall, tmp_path: Path) -> None:
    rows = stock_rows(2, 3)
    rows[1]["variant_code"] = "P0"  # too short
    rows[3]["additional_amount"] = "lots"  # not a number
    rows[5]["variant_code"] = rows[4]["variant_code"]  # the same record twice
    with pytest.raises(BulkInputError) as refused:
        plan_of(mall, VARIANTS, rows)
    problems = dict(refused.value.problems)
    assert set(problems) == {2, 4, 6}
    assert "variant_code: must be at least 12 characters" in problems[2]
    assert "additional_amount: must be a number" in problems[4]
    assert "the same record as row 5" in problems[6]
    assert "3 of 6 rows" in str(refused.value)
    missing = [{"product_no": 1, "quantity": 5}]
    with pytest.raises(BulkInputError, match="no column for variant_code"):
        plan_of(mall, VARIANTS, missing)
    skipped = plan_of(mall, VARIANTS, rows, skip_invalid=True)
    assert [r.index for r in skipped.rows] == [0, 2, 4] and sorted(skipped.invalid) == [1, 3, 5]


def test_unreadable_files_are_refused(tmp_path: Path) -> None:
    broken = tmp_path / "broken.csv"
    broken.write_text("product_no,variant_code,quantity\n1,P000000A000A\n1,P000000A000B,3,9\n", encoding="utf-8")
    with pytest.raises(BulkInputError) as refused:
        read_rows(broken)
    assert refused.value.problems == [(2, "has 2 cells, the header has 3"), (3, "has 4 cells, the header has 3")]
    latin = tmp_path / "latin.csv"
    latin.write_bytes("product_no,memo\n1,caf\xe9\n".encode("latin-1"))
    with pytest.raises(BulkInputError, match="not UTF-8"):
        read_rows(latin)
    lines = tmp_path / "rows.jsonl"
    lines.write_text('{"product_no": 1}\n[1, 2]\nnot json\n', encoding="utf-8")
    with pytest.raises(BulkInputError) as refused:
        read_rows(lines)
    assert refused.value.problems == [(2, "is a JSON list, not an object"), (3, "is not JSON")]
    (tmp_path / "empty.csv").write_text("", encoding="utf-8")
    with pytest.raises(BulkInputError, match="is empty"):
        read_rows(tmp_path / "empty.csv")
    with pytest.raises(BulkInputError, match="cannot tell the format"):
        read_rows(tmp_path / "rows.txt")
    with pytest.raises(BulkInputError, match="cannot read"):
        read_rows(tmp_path / "missing.csv")
    with pytest.raises(BulkInputError, match="not a mapping"):
        given_rows([{"product_no": 1}, ["product_no", 1]])  # type: ignore[list-item]


async def test_codes_stay_text_and_jsonl_values_stay_as_given(mall: Mall, tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "ship.jsonl", [
        {"order_id": "20260101-0000001", "tracking_no": "0012", "shipping_company_code": "0001", "status": "shipping"},
    ])
    plan = plan_of(mall, "POST /api/v2/admin/shipments", read_rows(source))
    assert plan.rows[0].body["tracking_no"] == "0012"
    csv_source = write_csv(tmp_path / "ship.csv", [
        {"order_id": "20260101-0000001", "tracking_no": "12", "shipping_company_code": "0001", "status": "shipping"},
    ])
    body = plan_of(mall, "POST /api/v2/admin/shipments", read_rows(csv_source)).rows[0].body
    assert body["tracking_no"] == "12" and body["shipping_company_code"] == "0001"  # text: a code, kept


def test_the_progress_line() -> None:
    stream = io.StringIO()
    progress = BulkProgress("stock", stream, live=True)
    progress.update(50, 200, 3, 12.0, 64.5, force=True)
    progress.update(200, 200, 9, None, None, force=True)
    progress.finish("done")
    text = stream.getvalue()
    assert text.startswith("\rstock: 50/200 rows | 3 calls | bucket 12 | quota 64% |") and "ETA" in text
    assert "\rstock: 200/200 rows | 9 calls |" in text and text.endswith("\ndone\n")


def test_results_files_and_the_summary(tmp_path: Path) -> None:
    rows = [RowResult(2, "ok", None, {"product_no": 1}), RowResult(3, "failed", "422 no, not this", {"product_no": 2})]
    write_results(tmp_path / "r.csv", rows)
    assert (tmp_path / "r.csv").read_text().splitlines() == [
        "row,status,error,product_no", "2,ok,,1", "3,failed,\"422 no, not this\",2"]
    write_results(tmp_path / "r.jsonl", rows)
    assert (tmp_path / "r.jsonl").read_text().splitlines()[1] == (
        '{"row": 3, "status": "failed", "error": "422 no, not this", "product_no": 2}')
    report = BulkReport("PUT /x", "acme", 2, rows, calls=2, highest_usage=65.0, spaced_seconds=1.5)
    assert report.problems == 1 and report.summary().startswith("2 rows to PUT /x on mall 'acme': 1 ok, 1 failed (run,")
    assert "quota usage at most 65%" in report.summary()
