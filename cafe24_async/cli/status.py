"""`cafe24-async status --mall ID`: a mall's rate-limit and quota state, from one probe call.

The client knows a mall's limits only from the headers of its answers, so the
command makes one cheap call (a products count, or `--probe PATH`) and prints
what that answer told: the leaky bucket's level and size (`X-Api-Call-Limit`),
the usage quotas (`X-Cafe24-Call-Usage`, `X-Cafe24-Time-Usage`) and any block,
and this client's own view of the bucket. `--json` prints the same as JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from cafe24_async.cli.call import resolve
from cafe24_async.cli.common import EXIT_OK, add_credentials, make_client, run_async
from cafe24_async.export.progress import duration

DEFAULT_PROBE = "/api/v2/admin/products/count"


def register(sub: Any) -> None:
    status = sub.add_parser("status", help="a mall's bucket and quota state, from one probe call",
                            description=__doc__.split("\n\n", 1)[1] if __doc__ else None,
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    status.add_argument("--mall", action="append", required=True, help="mall id (repeat for several)")
    status.add_argument("--probe", default=DEFAULT_PROBE, metavar="PATH",
                        help="the GET call to make (default %(default)s; any Admin or Front GET path your "
                             "token's scopes allow, e.g. /api/v2/admin/store)")
    status.add_argument("--json", action="store_true", help="print JSON instead of text")
    add_credentials(status)
    status.set_defaults(handler=run_async(cmd_status))


async def cmd_status(args: argparse.Namespace) -> int:
    route, values = resolve("GET", args.probe)
    states = []
    async with make_client(args) as api:
        for mall_id in args.mall:
            mall = api.mall(mall_id)
            started = api.clock.monotonic()
            await mall.call(route.method, route.path, **values)
            took = api.clock.monotonic() - started
            stats, quota = mall.stats, mall.quota
            limiter = mall.limiter("leaky_bucket")
            states.append({
                "mall_id": mall_id,
                "probe": f"GET {route.path}",
                "probe_seconds": round(took, 3),
                "bucket_used": stats.server_level,
                "bucket_size": stats.server_capacity,
                "bucket_level_estimate": round(limiter.level, 2),
                "leak_rate": api.rate_limit.leak_rate,
                "call_usage_percent": quota.call_usage,
                "time_usage_percent": quota.time_usage,
                "blocked_seconds_left": round(quota.pause_left(), 1),
                "requests": stats.requests,
            })
    if args.json:
        print(json.dumps(states if len(states) > 1 else states[0], indent=2))
    else:
        print("\n\n".join(describe(s) for s in states))
    sys.stdout.flush()
    return EXIT_OK


def describe(state: dict[str, Any]) -> str:
    """One mall's state as lines of text."""
    used, size = state["bucket_used"], state["bucket_size"]
    bucket = (f"{used}/{size} calls in the bucket, as the server reports it; drains {state['leak_rate']:g} "
              "per second" if used is not None else "not reported by the server")

    def usage(value: float | None) -> str:
        return f"{value:g}% of the quota" if value is not None else "not reported (no quota in effect)"

    left = state["blocked_seconds_left"]
    lines = [
        f"mall {state['mall_id']}  (probe {state['probe']}: answered in {duration(state['probe_seconds'])})",
        f"  bucket       {bucket}",
        f"  estimate     {state['bucket_level_estimate']:g} calls (this client's copy, drained since)",
        f"  call usage   {usage(state['call_usage_percent'])}",
        f"  time usage   {usage(state['time_usage_percent'])}",
        f"  blocked      {'yes, ' + duration(left) + ' left' if left else 'no'}",
    ]
    return "\n".join(lines)
