"""`cafe24-async webhooks listen`: a receiver for development, printing or forwarding events.

    CAFE24_WEBHOOK_KEY=... cafe24-async webhooks listen --port 8080
    CAFE24_WEBHOOK_KEY=... cafe24-async webhooks listen --forward-to http://localhost:3000/hooks

It runs the library's receiver (key check, optional allowlist, size limit,
deduplication) on a local port. Each verified event is printed to stdout as one
JSON line (`event_no`, `event` class name, `mall_id`, `event_shop_no`,
`trace_id`, `problems`, `resource`), or, with `--forward-to`, posted to a local
URL with the same key header, as `stripe listen` forwards to a local app
(a forward that fails is tried again, then reported on stderr). Refused
deliveries are reported on stderr. The key is read from an environment variable
(never a flag, which other users could see in the process list) and is never
printed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from typing import Any

import aiohttp
from aiohttp import web

from cafe24_async.cli.common import EXIT_OK, UsageError, run_async
from cafe24_async.webhooks import Dispatcher, HandlerRetry, Receiver, WebhookEvent, aiohttp_app
from cafe24_async.webhooks.verify import DEFAULT_KEY_HEADER

DEFAULT_KEY_ENV = "CAFE24_WEBHOOK_KEY"


def register(sub: Any) -> None:
    webhooks = sub.add_parser("webhooks", help="receive Cafe24 webhooks locally (for development)")
    webhooks_sub = webhooks.add_subparsers(dest="webhooks_command", required=True)
    listen = webhooks_sub.add_parser("listen", help="print verified events as JSON lines, or forward them")
    listen.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    listen.add_argument("--port", type=int, default=8080, help="port (default 8080; 0 picks a free one)")
    listen.add_argument("--path", default="/", help="path deliveries are posted to (default /)")
    listen.add_argument("--key-env", default=DEFAULT_KEY_ENV, metavar="NAME",
                        help=f"variable holding the app's webhook key (default {DEFAULT_KEY_ENV})")
    listen.add_argument("--header", default=DEFAULT_KEY_HEADER,
                        help=f"header with the key (default {DEFAULT_KEY_HEADER}; Cafe24 does not name it)")
    listen.add_argument("--allow", action="append", default=[], metavar="NETWORK",
                        help="accept only senders in this address or CIDR network (repeat)")
    listen.add_argument("--forwarded-header", default=None, metavar="NAME",
                        help="header your proxy puts the sender's address in, e.g. X-Forwarded-For")
    listen.add_argument("--proxy-hops", type=int, default=1, help="proxies of yours in front (default 1)")
    listen.add_argument("--trace-header", default=None, metavar="NAME", help="header carrying a delivery id")
    listen.add_argument("--max-body", type=int, default=1024 * 1024, help="largest body (default 1 MiB)")
    listen.add_argument("--forward-to", default=None, metavar="URL",
                        help="post each verified event to this URL instead of printing it")
    webhooks.set_defaults(handler=run_async(cmd_listen))


def event_line(event: WebhookEvent) -> str:
    """One event as the JSON line `listen` prints."""
    return json.dumps(
        {
            "event_no": event.event_no,
            "event": type(event).__name__,
            "mall_id": event.mall_id,
            "event_shop_no": event.event_shop_no,
            "trace_id": event.trace_id,
            "problems": list(event.problems),
            "resource": event.resource,
        },
        ensure_ascii=False,
        default=str,
    )


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


class Forwarder:
    """Posts each event to a local URL with the key header, as Cafe24 would."""

    def __init__(self, url: str, header: str, key: str, trace_header: str | None) -> None:
        self.url = url
        self.header = header
        self._key = key
        self.trace_header = trace_header
        self.session: aiohttp.ClientSession | None = None

    def __repr__(self) -> str:
        return f"<Forwarder to {self.url}>"

    async def __call__(self, event: WebhookEvent) -> None:
        if self.session is None:
            self.session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
        body = json.dumps({"event_no": event.event_no, "resource": event.resource}, ensure_ascii=False)
        headers = {"Content-Type": "application/json", self.header: self._key}
        if self.trace_header and event.trace_id:
            headers[self.trace_header] = event.trace_id
        try:
            async with self.session.post(self.url, data=body.encode(), headers=headers) as answer:
                status = answer.status
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            _say(f"forward of event {event.event_no} failed: {type(exc).__name__}")
            raise
        _say(f"forwarded event {event.event_no} ({type(event).__name__}) -> {status}")
        if not 200 <= status < 300:
            raise RuntimeError(f"{self.url} answered {status}")

    async def close(self) -> None:
        if self.session is not None:
            await self.session.close()


async def print_event(event: WebhookEvent) -> None:
    print(event_line(event), flush=True)


def _receiver(args: argparse.Namespace) -> tuple[Receiver, Forwarder | None]:
    key = os.environ.get(args.key_env, "")
    if not key.strip():
        raise UsageError(f"no webhook key: set {args.key_env} to the app's webhook key")
    if args.max_body < 1 or args.proxy_hops < 1:
        raise UsageError("--max-body and --proxy-hops must be at least 1")
    dispatcher = Dispatcher(retry=HandlerRetry(attempts=3, delays=(0.5, 2.0)), workers=1)
    try:
        receiver = Receiver(
            key, dispatcher=dispatcher, header=args.header, allowed_networks=args.allow,
            forwarded_header=args.forwarded_header, proxy_hops=args.proxy_hops,
            max_body=args.max_body, trace_header=args.trace_header,
        )
    except ValueError as exc:  # a ConfigurationError: a bad --allow network
        raise UsageError(str(exc)) from None
    forwarder = None
    if args.forward_to:
        forwarder = Forwarder(args.forward_to, args.header, key, args.trace_header)
        dispatcher.on(WebhookEvent, forwarder)
    else:
        dispatcher.on(WebhookEvent, print_event)
    return receiver, forwarder


async def cmd_listen(args: argparse.Namespace) -> int:
    receiver, forwarder = _receiver(args)
    log = logging.getLogger("cafe24_async.webhooks")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.WARNING)
    path = args.path if args.path.startswith("/") else "/" + args.path
    runner = web.AppRunner(aiohttp_app(receiver, path), access_log=None, handle_signals=False)
    await runner.setup()
    try:
        try:
            site = web.TCPSite(runner, args.host, args.port)
            await site.start()
        except OSError as exc:
            reason = exc.strerror or str(exc)
            raise UsageError(f"cannot listen on {args.host}:{args.port}: {reason}") from None
        address: Any = runner.addresses[0]
        target = f"forwarding to {args.forward_to}" if forwarder else "printing events to stdout"
        print(f"listening on http://{args.host}:{address[1]}{path} (key header {args.header}; {target}); "
              "Ctrl-C stops", file=sys.stderr, flush=True)
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()
        if forwarder is not None:
            await forwarder.close()
        log.removeHandler(handler)
    return EXIT_OK
