"""A server that echoes credentials in its error answers never puts them into errors.

The sandbox quotes the request's `Authorization` header in every error message
and returns the bare token under `access_token`. The library error built from
that answer, its `str()`, its `.message` and its stored `.body`, must hold none
of the access token, the refresh token, the client secret, the partner secret
or their Basic-auth forms.
"""

from __future__ import annotations

import base64
import json

import pytest

from cafe24_async import APIError, NotFoundError, RetrySettings
from cafe24_async.sandbox import FaultConfig
from tests.conftest import ClientFactory, SandboxFactory


def leaked(error: APIError, secrets: list[str]) -> list[str]:
    text = " ".join([str(error), repr(error), error.message, json.dumps(error.body, default=str)])
    return [s for s in secrets if s in text]


async def test_echoed_bearer_token_is_masked(make_sandbox: SandboxFactory, make_client: ClientFactory) -> None:
    sb = await make_sandbox(malls=("acme",))
    api = await make_client(sb, retry=RetrySettings(max_attempts=1))
    mall = api.mall("acme")
    await mall.admin.products.count()
    token = await api.token_store.load("acme")
    assert token is not None and token.refresh_token
    sb.set_faults(FaultConfig(echo_credentials=True))
    with pytest.raises(NotFoundError) as info:
        await mall.admin.products.get(987654321)
    secrets = [token.access_token, token.refresh_token, sb.config.client_secret]
    assert "Authorization" in info.value.message  # the server did echo it
    assert leaked(info.value, secrets) == []
    assert info.value.body["access_token"] == "<hidden>"


async def test_echoed_partner_credentials_are_masked(make_sandbox: SandboxFactory, make_client: ClientFactory) -> None:
    sb = await make_sandbox(malls=("acme",))
    api = await make_client(sb, retry=RetrySettings(max_attempts=1))
    sb.set_faults(FaultConfig(echo_credentials=True, error_rate=1.0))
    with pytest.raises(APIError) as info:
        await api.dcollection.shops.list()
    ident, secret = sb.config.client_id, sb.config.client_secret
    basic = base64.b64encode(f"{ident}:{secret}".encode()).decode()
    assert "Authorization" in info.value.message
    assert leaked(info.value, [secret, basic]) == []
