"""verify=True and dry_run=True: writes the mall accepts and does not carry out, found before
and after.

The sandbox answers 200 to stock sent to a variant whose use_inventory is "F",
to a price when the mall's prices follow the supply price, and stores a price
with tax added when the mall takes prices tax excluded; its reads stay stale for
a while after each write (here on a clock shared with the client, so the 5 s
window costs no real time).
"""

from __future__ import annotations

from pathlib import Path

from cafe24_async import ManualClock
from cafe24_async.bulk import BulkSettings, bulk_apply
from cafe24_async.sandbox.write_config import WriteConfig
from tests.bulk.helpers import VARIANTS, applied_counts, results, stock_rows
from tests.conftest import ClientFactory, SandboxFactory

FAST = BulkSettings(stale_seconds=0.05, retry_delay=0)


async def test_verify_names_stock_the_mall_ignored(make_sandbox: SandboxFactory, make_client: ClientFactory) -> None:
    sb = await make_sandbox(malls=("acme",), products=10, variants_per_product=4,
                            writes=WriteConfig(seed=4, inventory_off_rate=0.3, stale_seconds=0.03))
    api = await make_client(sb)
    rows = stock_rows(10, 4)
    plain = await bulk_apply(api.mall("acme"), VARIANTS, rows, settings=FAST)
    assert plain.counts["ok"] == 40  # every write was answered 200
    checked = await bulk_apply(api.mall("acme"), VARIANTS, rows, settings=FAST, verify=True)
    unchanged = [r for r in checked.results if r.status == "unchanged"]
    off = {r["variant_code"] for r in rows if sb.writes("acme").use_inventory(r["variant_code"]) == "F"}
    assert off and {r.keys["variant_code"] for r in unchanged} == off
    sample = unchanged[0].error or ""
    assert sample.startswith("quantity: sent ") and "use_inventory is 'F'" in sample
    assert checked.counts["ok"] == 40 - len(off) and checked.verified


async def test_verify_waits_out_the_stale_window(make_sandbox: SandboxFactory, make_client: ClientFactory) -> None:
    found = {}
    for wait in (0.0, 5.0):
        clock = ManualClock()
        sb = await make_sandbox(malls=("acme",), products=5, variants_per_product=2, clock=clock.monotonic,
                                now=clock.now, writes=WriteConfig(stale_seconds=5.0))
        api = await make_client(sb, clock=clock)
        start = clock.monotonic()
        report = await bulk_apply(api.mall("acme"), VARIANTS, stock_rows(5, 2), verify=True,
                                  settings=BulkSettings(stale_seconds=wait))
        found[wait] = (report.counts["unchanged"], clock.monotonic() - start)
    assert found[0.0][0] == 10  # read at once, every row looks unchanged: the read is stale
    assert found[5.0][0] == 0 and found[5.0][1] >= 5.0  # read after the window: every row is there


async def test_prices_and_the_settings_they_depend_on(make_sandbox: SandboxFactory, make_client: ClientFactory,
                                                      tmp_path: Path) -> None:
    rows = [{"product_no": n, "price": 12000 + n} for n in range(1, 6)]
    for settings, expected in ((WriteConfig(price_base="S"), "calculate_price_based_on is 'S'"),
                               (WriteConfig(tax_calculation="E"), "tax_calculation is 'E'")):
        sb = await make_sandbox(malls=("acme",), products=5, writes=settings)
        api = await make_client(sb)
        dry = await bulk_apply(api.mall("acme"), "products.update", rows, dry_run=True)
        assert [r.status for r in dry.results] == ["ineffective"] * 5 and expected in (dry.results[0].error or "")
        assert not [r for r in sb.requests if r.method == "PUT"]  # a dry run sends no write
        report = await bulk_apply(api.mall("acme"), "products.update", rows, settings=FAST, verify=True)
        assert [r.status for r in report.results] == ["unchanged"] * 5
        assert report.results[0].error is not None and report.results[0].error.startswith("price: sent 12001")
        assert expected in report.results[0].error
    sb = await make_sandbox(malls=("acme",), products=5)
    api = await make_client(sb)
    out = tmp_path / "prices.csv"
    report = await bulk_apply(api.mall("acme"), "products.update", rows, settings=FAST, verify=True, results=out)
    assert [r.status for r in report.results] == ["ok"] * 5
    assert out.read_text().splitlines()[:2] == ["row,status,error,product_no", "1,ok,,1"]


async def test_a_dry_run_checks_rows_and_records_and_sends_no_write(
    make_sandbox: SandboxFactory, make_client: ClientFactory, tmp_path: Path
) -> None:
    sb = await make_sandbox(malls=("acme",), products=6, variants_per_product=3,
                            writes=WriteConfig(seed=4, inventory_off_rate=0.3))
    api = await make_client(sb)
    rows = stock_rows(6, 3)
    rows[4]["variant_code"] = "BAD"
    rows[5]["additional_amount"] = 10**12  # over the documented maximum
    out = tmp_path / "dry.jsonl"
    report = await bulk_apply(api.mall("acme"), VARIANTS, rows, dry_run=True, results=out,
                              settings=BulkSettings(skip_invalid=True))
    by_row = {line["row"]: line for line in results(out)}
    assert by_row[5]["status"] == "invalid" and "variant_code" in by_row[5]["error"]
    assert by_row[6]["status"] == "invalid" and "additional_amount: must be at most" in by_row[6]["error"]
    off = [r for r in report.results if r.status == "ineffective"]
    assert off and all("use_inventory is 'F'" in (r.error or "") for r in off)
    assert report.counts["valid"] == 18 - 2 - len(off) and report.problems == 2 + len(off)
    assert not [r for r in sb.requests if r.method != "GET"] and applied_counts(sb, rows) == (0, 0, 18)
    assert report.reads == 6  # one read of each product's variants
