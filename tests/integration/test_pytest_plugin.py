"""The shipped pytest plugin: a sandbox and a ready client for users' own tests."""

from __future__ import annotations

import pytest

from cafe24_async import Cafe24
from cafe24_async.sandbox import Sandbox


@pytest.mark.cafe24_sandbox(products=42, leak_rate=500.0, malls=("shop1", "shop2"))
async def test_fixtures_give_a_running_sandbox_and_client(cafe24_sandbox: Sandbox, cafe24_client: Cafe24) -> None:
    assert cafe24_sandbox.config.products == 42
    for mall_id in ("shop1", "shop2"):
        assert await cafe24_client.mall(mall_id).admin.products.count() == 42
