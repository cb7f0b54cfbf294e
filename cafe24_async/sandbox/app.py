"""Running the sandbox: `create_app`, the `Sandbox` runner and a blocking `serve`.

`Sandbox` is what tests and benchmarks use: it starts the app on a free
loopback port, hands out base URLs and tokens, exposes the recorded requests
and per-mall counters, and plays the other users of a mall's limits (another
app draining the bucket, the Analytics tokens or the D.Collection window,
or using up the usage quotas). `serve` runs the same app in the foreground
for a command line.

From Python::

    async with Sandbox(SandboxConfig(products=500)) as sandbox:
        token = sandbox.issue_token("sandbox")          # the documented token answer
        options = sandbox.client_options()              # base URLs and credentials for Cafe24(...)
"""

from __future__ import annotations

import ipaddress
import os
from types import TracebackType
from typing import Any

from aiohttp import web

from cafe24_async.routes import ROUTES
from cafe24_async.sandbox.config import FaultConfig, SandboxConfig, TokenFaultConfig
from cafe24_async.sandbox.dataset import Dataset
from cafe24_async.sandbox.dispatch import Dispatcher
from cafe24_async.sandbox.partner import PartnerData
from cafe24_async.sandbox.records import RequestLog, ServerMallStats
from cafe24_async.sandbox.state import SandboxState
from cafe24_async.sandbox.webhooks import WebhookHub
from cafe24_async.sandbox.write_book import WriteBook

STATE_KEY = web.AppKey("cafe24_sandbox_state", SandboxState)


def create_app(config: SandboxConfig | None = None) -> web.Application:
    """An aiohttp application serving every documented route under `/{mall_id}`."""
    state = SandboxState(config or SandboxConfig())
    dispatcher = Dispatcher(state, ROUTES)
    app = web.Application(client_max_size=16 * 1024 * 1024)
    app[STATE_KEY] = state
    app.router.add_route("*", r"/{tail:[\s\S]*}", dispatcher.handle)  # any path, newlines too
    app.on_cleanup.append(lambda _: state.webhooks.aclose())  # stop webhook deliveries
    return app


def _check_loopback(host: str) -> None:
    if host == "localhost":
        return
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise ValueError(f"the sandbox only listens on loopback, not {host!r}")


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


class Sandbox:
    """A sandbox server on a loopback port, usable as an async context manager.

    `port=0` picks a free port. With `state_file`, issued tokens are kept in that
    JSON file and taken over by the next sandbox given the same file, so tokens a
    client saved stay good across a restart.
    """

    def __init__(
        self, config: SandboxConfig | None = None, host: str = "127.0.0.1", port: int = 0,
        *, state_file: str | os.PathLike[str] | None = None,
    ) -> None:
        _check_loopback(host)
        self.config = config or SandboxConfig()
        self.host = host
        self._requested_port = port
        self._port: int | None = None
        self.app = create_app(self.config)
        self.state = self.app[STATE_KEY]
        self._runner: web.AppRunner | None = None
        if state_file is not None:
            self.state.tokens.keep_in(state_file)

    # -- lifecycle ------------------------------------------------------------------

    async def start(self) -> Sandbox:
        if self._runner is not None:
            return self
        for mall_id in self.config.malls:
            _ = self.state.mall(mall_id).dataset
        runner = web.AppRunner(self.app, access_log=None, handle_signals=False)
        await runner.setup()
        try:
            site = web.TCPSite(runner, self.host, self._requested_port)
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        address: Any = runner.addresses[0]
        self._port = int(address[1])
        self._runner = runner
        return self

    async def close(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def __aenter__(self) -> Sandbox:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    # -- addresses --------------------------------------------------------------------

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("the sandbox is not started")
        return self._port

    @property
    def root_url(self) -> str:
        """`http://127.0.0.1:<port>`: base of the Analytics and D.Collection routes."""
        return f"http://{_url_host(self.host)}:{self.port}"

    @property
    def base_url(self) -> str:
        """`http://127.0.0.1:<port>/{mall_id}` with a literal `{mall_id}` placeholder."""
        return self.root_url + "/{mall_id}"

    def client_options(self) -> dict[str, Any]:
        """What a `Cafe24` client needs to use this sandbox, as keyword arguments:
        `Cafe24(**sandbox.client_options(), token_store=store)`. The credentials are
        the sandbox's well-known test ones (`sandbox-client` / `sandbox-secret` by default)."""
        config = self.config
        return {
            "client_id": config.client_id,
            "client_secret": config.client_secret,
            "base_url": self.base_url,
            "analytics_base_url": self.root_url,
            "dcollection_base_url": self.root_url,
            "dcollection_credentials": (config.client_id, config.client_secret),
            "leak_rate": config.leak_rate,
            "bucket_capacity": config.bucket_capacity,
        }

    def url_for(self, mall_id: str | None = None) -> str:
        return f"{self.root_url}/{mall_id or self.default_mall}"

    @property
    def default_mall(self) -> str:
        return self.config.malls[0] if self.config.malls else "sandbox"

    # -- test helpers ---------------------------------------------------------------------

    def issue_token(
        self, mall_id: str | None = None, scopes: tuple[str, ...] | None = None
    ) -> dict[str, Any]:
        """Mint a token pair directly; returns the documented token response."""
        return self.state.tokens.issue(mall_id or self.default_mall, scopes)

    def expire_access_token(self, mall_id: str | None = None) -> int:
        """Expire every current access token of the mall now; returns how many."""
        return self.state.tokens.expire_access(mall_id or self.default_mall)

    def stats(self, mall_id: str | None = None) -> ServerMallStats:
        """A copy of the mall's counters, bucket levels included."""
        return self.state.mall(mall_id or self.default_mall).snapshot()

    @property
    def requests(self) -> RequestLog:
        """Recent requests, oldest first (bounded; `.clear()` empties it)."""
        return self.state.log

    def clear_requests(self) -> None:
        self.state.log.clear()

    def drain_foreign(self, mall_id: str, calls: int) -> None:
        """Another app used `calls` calls of the mall's bucket just now."""
        self.state.mall(mall_id).bucket.add_foreign(calls)

    def exhaust_quota(self, mall_id: str | None = None) -> float:
        """Use up the mall's usage quotas now (as another app's traffic would) and block
        it; returns the seconds the block lasts if nobody calls during it. The next
        request of the mall is the one that announces the block."""
        return self.state.mall(mall_id or self.default_mall).usage.force_block()

    def set_quota_usage(
        self, mall_id: str | None = None, *, call: float | None = None, time: float | None = None
    ) -> None:
        """Set the mall's call and/or time usage to these percentages now (no block)."""
        self.state.mall(mall_id or self.default_mall).usage.set_usage(call, time)

    def drain_analytics(self, mall_id: str | None = None, tokens: float | None = None) -> None:
        """Another client spent `tokens` (default: all) of the mall's Analytics bucket now."""
        bucket = self.state.mall(mall_id or self.default_mall).tokens
        bucket.drain(float(bucket.burst) if tokens is None else tokens)

    def use_up_dcollection_window(self, ip: str = "127.0.0.1") -> None:
        """Another process behind `ip` used the rest of the current D.Collection window."""
        self.state.window(ip).use_up()

    def partner_stats(self) -> ServerMallStats:
        """Counters of the partner-wide (D.Collection) requests."""
        return self.state.mall("").snapshot()

    def partner_data(self) -> PartnerData:
        """The D.Collection stores, products and tags (partner-wide; generated now if needed)."""
        return self.state.partner()

    def dataset(self, mall_id: str | None = None) -> Dataset:
        """The mall's generated data (generated now if needed)."""
        return self.state.mall(mall_id or self.default_mall).dataset

    def writes(self, mall_id: str | None = None) -> WriteBook:
        """The mall's writes: `applied` counts per record, stale views, write faults
        (`WriteBook.configure` switches them)."""
        return self.state.mall(mall_id or self.default_mall).writes

    @property
    def webhooks(self) -> WebhookHub:
        """Webhooks this sandbox sends: `register(url, api_key, ...)`, `emit`, `await
        settled()`, `log(mall_id)` and the counters (see `sandbox.webhooks`)."""
        return self.state.webhooks

    def set_faults(self, faults: FaultConfig) -> None:
        """Switch the fault mix from now on (generators restart from the seed)."""
        self.state.set_faults(faults)

    def set_token_faults(self, faults: TokenFaultConfig, *, echo_secrets: bool = False) -> None:
        """Switch the token endpoint's faults from now on (generators restart from the seed);
        with `echo_secrets` its error answers repeat the secrets each request sent."""
        self.state.tokens.set_faults(faults, echo_secrets)


def serve(
    config: SandboxConfig | None = None, host: str = "127.0.0.1", port: int = 8024,
    *, state_file: str | os.PathLike[str] | None = None,
) -> None:
    """Run a sandbox in the foreground until interrupted (tokens kept in `state_file`, if given)."""
    _check_loopback(host)
    config = config or SandboxConfig()
    app = create_app(config)
    if state_file is not None:
        app[STATE_KEY].tokens.keep_in(state_file)
    for mall_id in config.malls:
        _ = app[STATE_KEY].mall(mall_id).dataset
    base = f"http://{_url_host(host)}:{port}/{{mall_id}}"
    web.run_app(
        app,
        host=host,
        port=port,
        access_log=None,
        print=lambda _: print(f"Cafe24 sandbox on {base} (malls: {', '.join(config.malls)})"),
    )
