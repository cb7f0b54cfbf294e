"""`cafe24-async auth url|exchange|refresh|show`: OAuth tokens in the token file."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from cafe24_async.auth.token import Token, mask
from cafe24_async.cli.common import EXIT_OK, UsageError, add_credentials, make_client, run_async
from cafe24_async.errors import ReauthorizeError


def register(sub: Any) -> None:
    auth = sub.add_parser("auth", help="manage OAuth tokens in the token file")
    auth_sub = auth.add_subparsers(dest="auth_command", required=True)
    url = auth_sub.add_parser("url", help="print the URL a mall operator opens to authorise the app")
    url.add_argument("--mall", required=True)
    url.add_argument("--redirect-uri", required=True)
    url.add_argument("--scope", action="append", required=True)
    url.add_argument("--state")
    exchange = auth_sub.add_parser("exchange", help="trade an authorization code for tokens")
    exchange.add_argument("code", nargs="?", help="the code from the redirect's ?code=")
    exchange.add_argument("--code", dest="code_option", metavar="CODE",
                          help="the same, for a code that starts with '-' (--code=CODE)")
    exchange.add_argument("--mall", required=True)
    exchange.add_argument("--redirect-uri", required=True)
    refresh = auth_sub.add_parser("refresh", help="refresh the stored token now")
    refresh.add_argument("--mall", required=True)
    show = auth_sub.add_parser("show", help="show the stored token (secrets masked)")
    show.add_argument("--mall", required=True)
    for p in (url, exchange, refresh, show):
        add_credentials(p, pacing=False)
    auth.set_defaults(handler=run_async(cmd_auth))


def token_summary(mall_id: str, token: Token) -> dict[str, Any]:
    return {
        "mall_id": mall_id,
        "access_token": mask(token.access_token),
        "refresh_token": mask(token.refresh_token),
        "expires_at": token.expires_at.isoformat(),
        "refresh_token_expires_at": token.refresh_token_expires_at.isoformat()
        if token.refresh_token_expires_at else None,
        "scopes": list(token.scopes),
    }


async def cmd_auth(args: argparse.Namespace) -> int:
    async with make_client(args) as api:
        if args.auth_command == "url":
            url, state = api.authorize_url(args.mall, args.redirect_uri, args.scope, args.state)
            print(url)
            print(f"state: {state}", file=sys.stderr)
            return EXIT_OK
        if args.auth_command == "exchange":
            token = await api.exchange_code(args.mall, _code(args), args.redirect_uri)
        elif args.auth_command == "refresh":
            current = await api.token_store.load(args.mall)
            if current is None:
                raise ReauthorizeError(args.mall, "no token stored for this mall")
            token = await api.mall(args.mall).refresher.after_rejection(current)
        else:
            stored = await api.token_store.load(args.mall)
            if stored is None:
                raise ReauthorizeError(args.mall, f"no token stored in {args.token_file}")
            token = stored
        print(json.dumps(token_summary(args.mall, token), indent=2))
        return EXIT_OK


def _code(args: argparse.Namespace) -> str:
    """The authorization code, given as CODE or as --code=CODE (a code may start with '-',
    which the command line would otherwise read as an option)."""
    given: list[str] = [c for c in (args.code, args.code_option) if c is not None]
    if not given:
        raise UsageError("auth exchange needs the authorization code: CODE, or --code=CODE "
                         "when it starts with '-'")
    if len(given) == 2 and given[0] != given[1]:
        raise UsageError("auth exchange: two different codes given (CODE and --code)")
    return given[0]
