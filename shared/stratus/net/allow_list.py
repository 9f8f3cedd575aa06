"""`EGRESS_ALLOW_LIST`'s syntax: comma-separated IP addresses or CIDR networks, each optionally
with a port (`10.0.0.0/8`, `127.0.0.1:8001`, `[::1]:9000`). Stdlib only: stratus.config checks
the variable at cold start with it, stratus.net.egress applies it."""

from __future__ import annotations

import functools
import ipaddress
from dataclasses import dataclass

ALLOW_LIST_ENV = "EGRESS_ALLOW_LIST"
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class AllowRule:
    network: ipaddress.IPv4Network | ipaddress.IPv6Network
    port: int | None  # None: every port

    def allows(self, address: IPAddress, port: int) -> bool:
        return address.version == self.network.version and address in self.network and self.port in (None, port)


def _rule(entry: str) -> AllowRule:
    text, port = entry.strip(), None
    if text.startswith("["):  # [v6]:port or [v6/len]:port
        inner, _, rest = text[1:].partition("]")
        text, port = inner, int(rest[1:]) if rest.startswith(":") else None
    elif text.count(":") == 1:  # v4[:port] or v4/len:port
        text, _, port_text = text.partition(":")
        port = int(port_text)
    return AllowRule(ipaddress.ip_network(text, strict=False), port)


@functools.lru_cache(maxsize=8)
def parse_allow_list(text: str) -> tuple[AllowRule, ...]:
    """`EGRESS_ALLOW_LIST`'s rules; a malformed entry is a configuration error (ValueError)."""
    try:
        return tuple(_rule(entry) for entry in text.split(",") if entry.strip())
    except ValueError as exc:
        raise ValueError(f"{ALLOW_LIST_ENV} is malformed ({text!r}): {exc}") from exc
