"""`run_sync`: a first run reads everything, later runs what changed; the state file is
moved only after the output it covers is durable, and stands up to hostile operators
(deleted, damaged, two runs at once, a failed publish, a failing mall)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest

from cafe24_async import Cafe24, MemoryTokenStore, Token
from cafe24_async.errors import ValidationError
from cafe24_async.export import ExportError, OutputError
from cafe24_async.sync import StateError, SyncBusyError, SyncSpec, SyncState, run_sync
from tests.conftest import ClientFactory, SandboxFactory
from tests.sync.helpers import WallClock, lines, sandbox_and_client

PRODUCTS = SyncSpec("products", ("sandbox",))


async def test_first_run_reads_everything_then_only_what_changed(
    make_sandbox: SandboxFactory, make_client: ClientFactory, tmp_path: Path
) -> None:
    clock = WallClock()
    _, api = await sandbox_and_client(make_sandbox, make_client, clock, products=250)
    state = tmp_path / "state.json"
    first = await run_sync(api, PRODUCTS, str(tmp_path / "day1.jsonl"), state=state)
    rows = lines(tmp_path / "day1.jsonl")
    assert len(rows) == 250 and {r["mall_id"] for r in rows} == {"sandbox"}
    assert first.modes == {"sandbox": "first"} and "first run (everything)" in first.summary()
    cursor = SyncState.load(state).cursor("sandbox", "products")
    assert cursor is not None and cursor.read_until == clock.wall and cursor.records == 250
    assert not (tmp_path / "day1.jsonl.partial").exists()

    clock.advance(hours=20)
    mall = api.mall("sandbox")
    for product_no in (9, 99, 199):
        await mall.admin.products.update(product_no, request={"price": 5000})
    await mall.admin.products.create(request={"product_name": "Brand new", "supply_price": 100})
    clock.advance(hours=4)
    before = mall.stats.requests
    second = await run_sync(api, PRODUCTS, str(tmp_path / "day2.jsonl"), state=state)
    changed = lines(tmp_path / "day2.jsonl")
    assert sorted(r["product_no"] for r in changed) == [9, 99, 199, 251]
    assert all(r["price"] == "5000.00" for r in changed if r["product_no"] != 251)
    assert mall.stats.requests - before == 2 and second.export.pages == 1
    assert second.modes == {"sandbox": "changes"} and "changes since" in second.summary()
    cursor = SyncState.load(state).cursor("sandbox", "products")
    assert cursor is not None and cursor.read_until == clock.wall

    # A quiet day: an empty file, and the cursor still moves.
    clock.advance(days=1)
    quiet = await run_sync(api, PRODUCTS, str(tmp_path / "day3.jsonl"), state=state)
    assert quiet.total == 0 and (tmp_path / "day3.jsonl").read_bytes() == b""
    assert SyncState.load(state).cursor("sandbox", "products").read_until == clock.wall  # type: ignore[union-attr]


async def test_orders_first_run_from_since_then_their_status_changes(
    make_sandbox: SandboxFactory, make_client: ClientFactory, tmp_path: Path
) -> None:
    clock = WallClock()
    sandbox, api = await sandbox_and_client(make_sandbox, make_client, clock, products=20, orders=500)
    state = tmp_path / "state.json"
    spec = SyncSpec("orders", ("sandbox",))
    with pytest.raises(ExportError, match=r"no cursor for admin\.orders yet.*pass since"):
        await run_sync(api, spec, str(tmp_path / "o0.jsonl"), state=state)
    await run_sync(api, spec, str(tmp_path / "o1.jsonl"), state=state, since="2026-01-01")
    placed = [o for o in sandbox.dataset().orders.records if o["order_date"] >= "2026-01-01"]
    assert sorted(r["order_id"] for r in lines(tmp_path / "o1.jsonl")) == sorted(o["order_id"] for o in placed)
    clock.advance(hours=6)
    mall = api.mall("sandbox")
    ids = [o["order_id"] for o in placed[:4]]
    await mall.admin.orders.shipments.update(ids[0], "S1", status="shipping")
    await mall.admin.orders.shipments.update(ids[0], "S1", status="shipped")
    await mall.admin.orders.cancellation.create(ids[1], status="canceled")
    await mall.admin.orders.exchange.create(ids[2], status="exchanged", same_product="T")
    clock.advance(hours=1)
    await run_sync(api, spec, str(tmp_path / "o2.jsonl"), state=state, lookback=0)
    assert sorted(r["order_id"] for r in lines(tmp_path / "o2.jsonl")) == sorted(ids[:3])
    # Products and orders share the state file; each keeps its own cursor.
    await run_sync(api, PRODUCTS, str(tmp_path / "p.jsonl"), state=state)
    saved = SyncState.load(state)
    assert saved.cursor("sandbox", "orders") is not None and saved.cursor("sandbox", "products") is not None


async def test_a_deleted_state_file_means_a_full_read_again(
    make_sandbox: SandboxFactory, make_client: ClientFactory, tmp_path: Path
) -> None:
    clock = WallClock()
    _, api = await sandbox_and_client(make_sandbox, make_client, clock, products=120)
    state = tmp_path / "state.json"
    await run_sync(api, PRODUCTS, str(tmp_path / "a.jsonl"), state=state)
    state.unlink()
    clock.advance(hours=1)
    again = await run_sync(api, PRODUCTS, str(tmp_path / "b.jsonl"), state=state)
    assert again.modes == {"sandbox": "first"} and len(lines(tmp_path / "b.jsonl")) == 120


@pytest.mark.parametrize("damage", [
    b"\xff\xfe not text", b"{not json", b'{"format": "something else", "version": 1, "cursors": {}}',
    b'{"format": "cafe24-async sync state", "version": 9, "cursors": {}}',
    b'{"format": "cafe24-async sync state", "version": 1, "cursors": {"sandbox": {"products": {"read_until": "yesterday"}}}}',
    b'{"format": "cafe24-async sync state", "version": 1, "cursors": {"sandbox": []}}',
])
async def test_a_damaged_state_file_is_refused_and_nothing_is_written(
    make_sandbox: SandboxFactory, make_client: ClientFactory, tmp_path: Path, damage: bytes
) -> None:
    clock = WallClock()
    sandbox, api = await sandbox_and_client(make_sandbox, make_client, clock, products=10)
    state = tmp_path / "state.json"
    state.write_bytes(damage)
    with pytest.raises(StateError, match=r"state\.json is damaged \(.+\); repair it, or move it away"):
        await run_sync(api, PRODUCTS, str(tmp_path / "out.jsonl"), state=state)
    assert state.read_bytes() == damage
    assert not (tmp_path / "out.jsonl").exists() and not (tmp_path / "out.jsonl.partial").exists()
    assert sandbox.stats().requests == 0


async def test_a_second_run_of_the_resource_is_refused_while_one_holds_the_state(
    make_sandbox: SandboxFactory, make_client: ClientFactory, tmp_path: Path
) -> None:
    clock = WallClock()
    sandbox, api = await sandbox_and_client(make_sandbox, make_client, clock, products=10)
    state = tmp_path / "state.json"
    holder = subprocess.Popen(  # another process in the middle of a run: it holds the run lock
        [sys.executable, "-c", "import sys; from cafe24_async.sync.state import run_lock\n"
         f"with run_lock(__import__('pathlib').Path({str(state)!r}), 'products'):\n"
         "    print('held', flush=True); sys.stdin.read()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(SyncBusyError, match=rf"another sync of products .* is running \(PID {holder.pid},"):
            await run_sync(api, PRODUCTS, str(tmp_path / "out.jsonl"), state=state)
        assert not state.exists() and not (tmp_path / "out.jsonl").exists()
        assert sandbox.stats().requests == 0
        # Another resource with the same state file is not held up.
        await run_sync(api, SyncSpec("customersprivacy", ("sandbox",)), str(tmp_path / "c.jsonl"), state=state,
                       since="2026-01-01")
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=30)
    await run_sync(api, PRODUCTS, str(tmp_path / "out.jsonl"), state=state)  # free again once it ended
    assert SyncState.load(state).cursor("sandbox", "products") is not None


async def test_the_cursor_moves_only_once_the_output_is_in_place(
    make_sandbox: SandboxFactory, make_client: ClientFactory, tmp_path: Path
) -> None:
    clock = WallClock()
    _, api = await sandbox_and_client(make_sandbox, make_client, clock, products=30)
    state = tmp_path / "state.json"
    await run_sync(api, PRODUCTS, str(tmp_path / "day1.jsonl"), state=state)
    saved = state.read_bytes()
    clock.advance(hours=2)
    with pytest.raises(OutputError, match=r"day1\.jsonl exists"):
        await run_sync(api, PRODUCTS, str(tmp_path / "day1.jsonl"), state=state)
    blocked = tmp_path / "day2.jsonl"
    blocked.mkdir()  # the finished file cannot be put in place: the run fails, the cursor stays
    with pytest.raises(OutputError):
        await run_sync(api, PRODUCTS, str(blocked), state=state, replace=True)
    assert state.read_bytes() == saved
    await run_sync(api, PRODUCTS, str(tmp_path / "day1.jsonl"), state=state, replace=True)
    assert state.read_bytes() != saved


async def test_a_failing_mall_keeps_its_cursor_and_the_others_move(
    make_sandbox: SandboxFactory, tmp_path: Path
) -> None:
    clock = WallClock()
    sandbox = await make_sandbox(malls=("acme", "beta"), products=40, now=clock.now)
    store = MemoryTokenStore()
    await store.save("acme", Token.from_response(sandbox.issue_token("acme")))  # beta was never authorised
    async with Cafe24(**sandbox.client_options(), token_store=store, clock=clock, max_per_second=None) as api:
        state = tmp_path / "state.json"
        report = await run_sync(api, SyncSpec("products", ("acme", "beta")), str(tmp_path / "p.jsonl"), state=state)
        assert set(report.errors) == {"beta"} and "ReauthorizeError" in report.errors["beta"]
        saved = SyncState.load(state)
        assert saved.cursor("acme", "products") is not None and saved.cursor("beta", "products") is None
        assert {r["mall_id"] for r in lines(tmp_path / "p.jsonl")} == {"acme"}


async def test_bad_arguments_are_refused_before_anything_is_sent(
    make_sandbox: SandboxFactory, make_client: ClientFactory, tmp_path: Path
) -> None:
    clock = WallClock()
    sandbox, api = await sandbox_and_client(make_sandbox, make_client, clock, products=10)
    state = tmp_path / "s.json"
    out = str(tmp_path / "o.jsonl")
    with pytest.raises(ValidationError, match=r"admin\.coupons\.list cannot tell"):
        await run_sync(api, SyncSpec("coupons", ("sandbox",)), out, state=state)
    with pytest.raises(ExportError, match="unknown resource"):
        await run_sync(api, SyncSpec("nothing", ("sandbox",)), out, state=state)
    with pytest.raises(ValidationError, match="lookback"):
        await run_sync(api, PRODUCTS, out, state=state, lookback=-1)
    with pytest.raises(ValidationError, match="updated_start_date: is set by the read of changes"):
        await run_sync(api, SyncSpec("products", ("sandbox",), {"updated_start_date": "2026-01-01"}), out,
                       state=state, since="2026-01-01")
    with pytest.raises(ExportError, match=r"x\.txt"):
        await run_sync(api, PRODUCTS, str(tmp_path / "x.txt"), state=state)
    assert sandbox.stats().requests == 0 and not state.exists()


async def test_many_saves_leave_a_whole_state_file(tmp_path: Path) -> None:
    """Writes go to a temporary file renamed over the state: readers never see half a file,
    and a leftover temporary file (a crash before the rename) changes nothing."""
    from datetime import UTC, datetime

    from cafe24_async.sync import Cursor
    from cafe24_async.sync.state import updating

    state = tmp_path / "state.json"
    (tmp_path / ".state.json.tmp123").write_text("{half", encoding="utf-8")

    def save(mall: str) -> None:
        with updating(state) as current:
            current.set(mall, "products", Cursor(datetime.now(UTC)))

    await asyncio.gather(*(asyncio.to_thread(save, f"m{i}") for i in range(20)))
    data = json.loads(state.read_text(encoding="utf-8"))
    assert sorted(data["cursors"]) == sorted(f"m{i}" for i in range(20))  # no update lost
