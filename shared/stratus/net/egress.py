"""Outbound requests: default-deny for every address that is not public.

One policy for every outbound connection a user can aim (the web request block, MCP servers,
model endpoints of LLM blocks and MAG agent nodes):

* http and https only; a host name is resolved and every address it resolves to must be public:
  loopback, private, link-local (cloud metadata), CGNAT, multicast, reserved and unspecified
  addresses are refused, and so are their IPv4-mapped, IPv4-compatible, SIIT, NAT64 and 6to4
  spellings in IPv6.
* The connection goes to the address that was checked (`guarded_client`'s transport pins it and
  keeps the name for TLS and the Host header), so DNS cannot change between check and connect;
  every request through the transport is checked, so every redirect hop is too.
* `EGRESS_ALLOW_LIST` (template parameter `EgressAllowList`) is the only way to reach a
  non-public address: comma-separated IP addresses or CIDR networks, each optionally with a
  port (`10.0.0.0/8`, `127.0.0.1:8001`, `[::1]:9000`). The Lambda Runtime API stays refused.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import socket
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from stratus.config import EgressSettings, get_settings
from stratus.net.allow_list import ALLOW_LIST_ENV, AllowRule, IPAddress, parse_allow_list

__all__ = ["ALLOW_LIST_ENV", "AllowRule", "parse_allow_list"]  # re-exported: the policy's public names

ALLOWED_SCHEMES = frozenset({"http", "https"})
# Names of metadata services that do not need to resolve to be refused.
BLOCKED_HOSTNAMES = frozenset(
    {
        "metadata",
        "metadata.google.internal",
        "metadata.goog",
        "metadata.azure.com",
        "instance-data",
        "instance-data.ec2.internal",
    }
)
_SHARED_ADDRESS_SPACE = ipaddress.ip_network("100.64.0.0/10")  # CGNAT (RFC 6598)
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")  # deprecated ::a.b.c.d (RFC 4291)
_SIIT = ipaddress.ip_network("::ffff:0:0:0/96")  # IPv4-translated ::ffff:0:a.b.c.d (RFC 2765)
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))  # RFC 6052/8215
# Metadata services outside link-local: AWS IMDS over IPv6, Oracle Cloud's legacy address.
_METADATA = (ipaddress.ip_network("fd00:ec2::/32"), ipaddress.ip_network("192.0.0.192/32"))


class EgressRefused(Exception):
    """The destination is not one Stratus may connect to; the message is user-facing."""


@dataclass(frozen=True)
class Destination:
    """A checked destination: the host as named and the addresses to connect to, in order."""

    host: str
    port: int
    addresses: tuple[IPAddress, ...]


# --- the policy ---------------------------------------------------------------------------
def _embedded_ipv4(address: ipaddress.IPv6Address) -> tuple[str, ipaddress.IPv4Address] | None:
    """An IPv4 address an IPv6 spelling carries, with the spelling's name."""
    if address.ipv4_mapped is not None:
        return "IPv4-mapped", address.ipv4_mapped
    if address in _SIIT:
        return "IPv4-translated", ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address in _IPV4_COMPATIBLE and int(address) > 1:  # not :: or ::1 (handled as themselves)
        return "IPv4-compatible", ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if any(address in prefix for prefix in _NAT64):
        return "NAT64", ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address.sixtofour is not None:
        return "6to4", address.sixtofour
    return None  # Teredo (2001::/32) is refused as non-public by itself


def _own_reason(address: IPAddress) -> str | None:
    if address.is_unspecified:
        return "an unspecified address"
    if address.is_loopback:
        return "a loopback address"
    if address.is_link_local or any(address.version == net.version and address in net for net in _METADATA):
        return "a link-local or cloud metadata address"
    if address.is_multicast:
        return "a multicast address"
    if address.version == 4 and address in _SHARED_ADDRESS_SPACE:
        return "a shared (CGNAT) address"
    if address.is_private:
        return "a private address"
    if address.is_reserved:
        return "a reserved address"
    if not address.is_global:
        return "not a public address"
    return None


def blocked_reason(address: IPAddress) -> str | None:
    """Why `address` is not public (None when it is), naming IPv6 spellings of IPv4 addresses."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            spelling, ipv4 = embedded
            inner = _own_reason(ipv4)
            if inner:
                return f"the {spelling} form of {ipv4}, {inner}"
            if spelling in ("IPv4-mapped", "IPv4-translated"):
                return None  # the public IPv4 address itself
    return _own_reason(address)


def allow_list() -> tuple[AllowRule, ...]:
    return parse_allow_list(get_settings(EgressSettings).egress_allow_list)


def _lambda_runtime_api() -> tuple[str, int] | None:
    # A user must not pull other invocations from, or post to, the Lambda Runtime API.
    value = get_settings(EgressSettings).aws_lambda_runtime_api or ""
    host, _, port = value.rpartition(":")
    return (host.strip("[]"), int(port)) if host and port.isdigit() else None


def check_address(host: str, address: IPAddress, port: int) -> None:
    """Refuse one resolved address of `host` unless it is public or allow-listed."""
    runtime_api = _lambda_runtime_api()
    if runtime_api and runtime_api[1] == port and runtime_api[0] in (str(address), host):
        raise EgressRefused("Refused: the Lambda Runtime API is not reachable")
    reason = blocked_reason(address)
    if reason and not any(rule.allows(address, port) for rule in allow_list()):
        shown = host if host == str(address) else f"{host!r} ({address})"
        raise EgressRefused(
            f"Refused host {shown}: {reason}; outbound requests go to public "
            f"addresses only (an operator can allow it in {ALLOW_LIST_ENV})"
        )


def url_parts(url: Any) -> tuple[str, str, int]:
    """(scheme, host, port) of a URL string or an httpx/httpx2 URL; EgressRefused when unusable."""
    if isinstance(url, str):
        from urllib.parse import urlsplit

        try:
            parts = urlsplit(url.strip())
            scheme, host, port = parts.scheme.lower(), parts.hostname or "", parts.port
        except ValueError as exc:
            raise EgressRefused(f"Invalid URL {url!r}: {exc}") from None
    else:
        scheme, host, port = url.scheme, url.host, url.port
    if scheme not in ALLOWED_SCHEMES:
        raise EgressRefused(f"Refused URL scheme {scheme or '(none)'!r}: only http and https are allowed")
    host = host.rstrip(".").lower()
    if not host:
        raise EgressRefused("Refused URL without a host")
    if host in BLOCKED_HOSTNAMES:
        raise EgressRefused(f"Refused host {host!r}: cloud metadata endpoints are not reachable")
    return scheme, host, port or (443 if scheme == "https" else 80)


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def _addresses(host: str, infos: list[Any]) -> tuple[IPAddress, ...]:
    addresses: list[IPAddress] = []
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])  # drop an IPv6 zone id
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise EgressRefused(f"Could not resolve host {host!r}")
    return tuple(addresses)


def _checked(host: str, port: int, addresses: tuple[IPAddress, ...]) -> Destination:
    for address in addresses:  # every address: a name must not mix public and private answers
        check_address(host, address, port)
    return Destination(host, port, addresses)


async def check_url(url: Any) -> Destination:
    """Resolve and check where a request to `url` (a string or httpx URL) would connect."""
    _, host, port = url_parts(url)
    literal = _literal(host)
    if literal is not None:
        return _checked(host, port, (literal,))
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise EgressRefused(f"Could not resolve host {host!r}: {exc}") from None
    return _checked(host, port, _addresses(host, infos))


def check_url_when_saved(url: str) -> None:
    """The check for a URL a user stores (model base_url, MCP server url): the same policy, but a
    name that does not resolve now is accepted (it is checked again on every use)."""
    _, host, port = url_parts(url)
    literal = _literal(host)
    if literal is not None:
        _checked(host, port, (literal,))
        return
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        return
    _checked(host, port, _addresses(host, infos))


def check_stored_url(field: str, url: str) -> None:
    """`check_url_when_saved` for a request body: a refusal is a 422 naming the field."""
    try:
        check_url_when_saved(url)
    except EgressRefused as exc:
        from stratus.errors import Unprocessable

        raise Unprocessable(f"{field}: {exc}") from None


# --- the transport -------------------------------------------------------------------------
@functools.cache
def _transport_class(module: ModuleType) -> type:
    """A transport of `module` (httpx or httpx2: the openai and mcp SDKs use httpx2) that checks
    every request's destination and connects to the checked address."""

    # The base class is the given module's (httpx or httpx2), known at run time only.
    class GuardedTransport(module.AsyncBaseTransport):  # type: ignore[name-defined]
        def __init__(self, **kwargs: Any) -> None:
            self._inner = module.AsyncHTTPTransport(**kwargs)

        async def handle_async_request(self, request: Any) -> Any:
            url = request.url
            try:
                destination = await check_url(url)
            except EgressRefused as exc:
                raise module.ConnectError(str(exc), request=request) from exc
            extensions = request.extensions
            if url.scheme == "https":  # TLS still verifies the certificate for the name
                request.extensions = {**extensions, "sni_hostname": destination.host}
            try:
                for index, address in enumerate(destination.addresses):
                    request.url = url.copy_with(host=str(address))
                    try:
                        return await self._inner.handle_async_request(request)
                    except module.ConnectError:
                        if index == len(destination.addresses) - 1:
                            raise
            finally:
                request.url, request.extensions = url, extensions
            raise AssertionError("unreachable")  # pragma: no cover - addresses is never empty

        async def aclose(self) -> None:
            await self._inner.aclose()

    return GuardedTransport


def guarded_transport(module: ModuleType | None = None, **kwargs: Any) -> Any:
    """An async transport for `module` (default httpx) under this policy."""
    if module is None:
        import httpx

        module = httpx
    return _transport_class(module)(**kwargs)


def guarded_client(module: ModuleType | None = None, client_class: Any = None, **kwargs: Any) -> Any:
    """An AsyncClient whose every request is checked. trust_env=False: a proxy from the
    environment would resolve names itself, past the check (and bypass the transport)."""
    if module is None:
        import httpx

        module = httpx
    return (client_class or module.AsyncClient)(transport=guarded_transport(module), trust_env=False, **kwargs)


def refusal(exc: BaseException) -> EgressRefused | None:
    """The EgressRefused behind an exception an HTTP client raised, if any."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, EgressRefused):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None
