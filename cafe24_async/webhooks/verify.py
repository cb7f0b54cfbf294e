"""Deciding whether a delivery really comes from Cafe24, before its body is read.

Two checks, both answered 403 when they fail:

- **The API key.** Cafe24 asks receivers to compare the app's webhook key with
  the one each delivery carries, and to answer 403 otherwise (developer notice,
  2023-08-02). The header carrying it is not documented publicly; the default,
  `X-Api-Key`, is the one public receivers read (spec/webhooks-delivery.json), and
  `header=` changes it. The comparison is constant-time (`hmac.compare_digest`).
- **The sender's address (optional).** Cafe24 sends from addresses it publishes;
  `allowed_networks` takes them (addresses or CIDR networks). Behind a reverse
  proxy the peer is the proxy, so `forwarded_header` (e.g. `X-Forwarded-For`)
  names the header the proxy appends the real address to, and `proxy_hops` how
  many proxies of yours stand in front (the address is read that many entries
  from the right, the part your own proxies wrote; entries to its left are
  whatever the sender claimed and are never trusted).

The key never appears in a repr, a log line or an error message.
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Iterable, Mapping

from cafe24_async.errors import ConfigurationError
from cafe24_async.webhooks.errors import WebhookVerificationError
from cafe24_async.webhooks.parse import header_value

#: The header the key is read from unless told otherwise (see the module docstring).
DEFAULT_KEY_HEADER = "X-Api-Key"

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _networks(values: Iterable[str]) -> tuple[Network, ...]:
    networks = []
    for value in values:
        try:
            networks.append(ipaddress.ip_network(value.strip(), strict=False))
        except ValueError:
            raise ConfigurationError(f"allowed_networks: {value!r} is not an IP address or network") from None
    return tuple(networks)


class Verifier:
    """Checks one delivery's key and sender address."""

    __slots__ = ("_key", "allowed_networks", "forwarded_header", "header", "proxy_hops")

    def __init__(
        self,
        api_key: str,
        *,
        header: str = DEFAULT_KEY_HEADER,
        allowed_networks: Iterable[str] = (),
        forwarded_header: str | None = None,
        proxy_hops: int = 1,
    ) -> None:
        if not isinstance(api_key, str) or not api_key.strip():
            raise ConfigurationError("api_key: the app's webhook key is required")
        if not header.strip():
            raise ConfigurationError("header: must name a header")
        if proxy_hops < 1:
            raise ConfigurationError("proxy_hops: must be at least 1")
        self._key = api_key.encode("utf-8")
        self.header = header
        self.allowed_networks = _networks(allowed_networks)
        self.forwarded_header = forwarded_header
        self.proxy_hops = proxy_hops

    def __repr__(self) -> str:
        allow = f", allowed_networks={len(self.allowed_networks)}" if self.allowed_networks else ""
        return f"<Verifier header={self.header!r}, key=<hidden>{allow}>"

    def sender(self, peer: str | None, headers: Mapping[str, str]) -> str | None:
        """The sender's address: the peer, or the configured forwarded header's entry."""
        if self.forwarded_header is None:
            return peer
        forwarded = header_value(headers, self.forwarded_header)
        if forwarded is None:
            return None
        entries = [part.strip() for part in forwarded.split(",") if part.strip()]
        if len(entries) < self.proxy_hops:
            return None
        return entries[-self.proxy_hops]

    def check_sender(self, peer: str | None, headers: Mapping[str, str]) -> None:
        """Raise `WebhookVerificationError` when an allowlist is set and the sender is not on it."""
        if not self.allowed_networks:
            return
        address = self.sender(peer, headers)
        try:
            ip = ipaddress.ip_address((address or "").strip("[]"))
        except ValueError:
            raise WebhookVerificationError("the sender's address is unknown") from None
        if not any(ip in network for network in self.allowed_networks):
            raise WebhookVerificationError(f"sender {ip} is not in the allowed networks")

    def check_key(self, headers: Mapping[str, str]) -> None:
        """Raise `WebhookVerificationError` unless the key header holds the app's key."""
        given = header_value(headers, self.header)
        if given is None:
            raise WebhookVerificationError(f"no {self.header} header")
        if not hmac.compare_digest(given.encode("utf-8"), self._key):
            raise WebhookVerificationError(f"the {self.header} header does not hold the app's key")

    def check(self, peer: str | None, headers: Mapping[str, str]) -> None:
        """Both checks, the sender's address first."""
        self.check_sender(peer, headers)
        self.check_key(headers)
