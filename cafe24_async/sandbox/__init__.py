"""A local server that behaves like Cafe24, for tests, benchmarks and the CLI.

It serves every documented route of the route table under `/{mall_id}` on a
loopback port (Analytics and D.Collection also at the root, as on their own
hosts), with Cafe24's leaky bucket, the Analytics token bucket, the
D.Collection window, optional usage quotas, OAuth token rotation, paging caps,
generated shop data and seeded fault injection. It never uses the client, so
it can check the client from the outside.
"""

from cafe24_async.sandbox.app import Sandbox, create_app, serve
from cafe24_async.sandbox.config import FaultConfig, SandboxConfig, TokenFaultConfig
from cafe24_async.sandbox.records import MallStats, RecordedRequest, ServerMallStats

__all__ = [
    "FaultConfig",
    "MallStats",
    "RecordedRequest",
    "Sandbox",
    "SandboxConfig",
    "ServerMallStats",
    "TokenFaultConfig",
    "create_app",
    "serve",
]
