"""What an export's progress line and summary say: honest totals, ETA and minimum.

A date-windowed export used to show the ETA of its current window only (0:00:03
with 15,500 records to go), a resumed run reported only its own records, the
"minimum pages" ignored a `limit` the user set, the display's elapsed time sat
beside a different run time, and "1 counts" appeared.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

from cafe24_async import Token
from cafe24_async.export import ExportSpec, Progress, run_export
from cafe24_async.export.progress import duration, expected_total, plural
from tests.conftest import ClientFactory, SandboxFactory


def test_the_estimate_extends_the_counted_windows_over_the_whole_range() -> None:
    year = ("2025-01-01", "2025-12-31")
    # The first quarter (90 days) held 900 records: the whole year (365 days) about 3,650.
    assert expected_total(0, 900, ("2025-01-01", "2025-03-31"), year) == 3650
    # Later windows replace the guess with counts as they arrive.
    assert expected_total(900, 1000, ("2025-04-01", "2025-06-30"), year) == round(1900 / 181 * 365)
    assert expected_total(2700, 10, ("2025-10-01", "2025-12-31"), year) == 2710  # the last window: exact
    assert expected_total(0, 50, None, None) == 50  # no date windows: the count is the total
    assert expected_total(0, None, None, None) is None


def test_numbers_and_times_read_as_people_write_them() -> None:
    assert [plural(1, "count"), plural(2, "count"), plural(1, "retry", "retries"), plural(3, "retry", "retries")] \
        == ["1 count", "2 counts", "1 retry", "3 retries"]
    assert [duration(0.085), duration(3.04), duration(245), duration(3725)] == ["85 ms", "3.0s", "4m 05s", "1h 02m"]


async def test_a_year_of_orders_shows_an_eta_for_the_whole_range(
    make_sandbox: SandboxFactory, make_client: ClientFactory, tmp_path: Path
) -> None:
    sb = await make_sandbox(malls=("acme",), orders=4000)
    api = await make_client(sb)
    stream = io.StringIO()
    progress = Progress("orders", stream=stream, live=False, interval=0)
    spec = ExportSpec("orders", ("acme",), {"start_date": "2025-11-01", "end_date": "2026-10-31"})
    report = await run_export(api, spec, str(tmp_path / "orders.jsonl"), progress=progress)
    assert report.total == 4000
    estimates = [int(n.replace(",", "")) for n in re.findall(r"of ~([\d,]+) records", stream.getvalue())]
    assert estimates, stream.getvalue()
    # The first line already expects about the year's records, not one window's.
    assert 0.7 * 4000 <= estimates[0] <= 1.3 * 4000, estimates
    assert "elapsed" in stream.getvalue()


async def test_a_resumed_run_reports_the_whole_file_and_the_minimum_at_the_limit_used(
    make_sandbox: SandboxFactory, make_client: ClientFactory, tmp_path: Path
) -> None:
    sb = await make_sandbox(malls=("one",), products=120)
    api = await make_client(sb)
    out = tmp_path / "products.jsonl"
    spec = ExportSpec("products", ("one", "ghost"), {"limit": 50})
    first = await run_export(api, spec, str(out))  # ghost has no token yet: it fails, one is done
    assert first.records == {"one": 120, "ghost": 0} and "ghost" in first.errors
    await api.token_store.save("ghost", Token.from_response(sb.issue_token("ghost")))
    second = await run_export(api, spec, str(out))
    assert not second.errors and second.total == 120 and second.grand_total == 240
    summary = second.summary()
    assert summary.startswith("240 records (120 this run, 120 before the resume) from 2 malls"), summary
    assert "minimum 6 pages of 50" in summary  # ceil(120 / 50) for each mall, at the limit asked for
    assert re.search(r" in \d", summary) and "elapsed" not in summary
    assert "1 counts" not in summary and "0 retries" in summary
