"""SendWebRequestBlock: an HTTP request from a graph, with SSRF guards.

Pins and status buckets follow AutoGPT's `backend/blocks/http.py`. The guards are ours:
http(s) only; every address a host name resolves to is checked and the connection is pinned
to the checked address (no DNS rebinding between check and connect); every redirect hop is
checked again; link-local and cloud-metadata addresses are refused; time and size are capped.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import os
import socket
from dataclasses import dataclass
from enum import Enum
from typing import Any

from pydantic import Field

from stratus.blocks.sdk import Block, BlockCategory, BlockOutput, BlockSchema, BlockSchemaOutput

CONNECT_TIMEOUT = 10.0  # seconds to open a connection
READ_TIMEOUT = 30.0  # seconds between two received chunks (also write/pool)
TOTAL_TIMEOUT = 120.0  # whole request, redirects included; Lambda time is money
MAX_RESPONSE_BYTES = 10 * 1024 * 1024  # decoded body; larger responses are an error
MAX_REDIRECTS = 10

# Link-local (where every cloud's instance metadata lives: 169.254.169.254, ECS 169.254.170.2)
# plus the metadata addresses that are not link-local. Loopback and private ranges stay
# ALLOWED on purpose: the local cloud and our tests serve on 127.0.0.1, and a Lambda has no
# private services of ours to reach. Only the Lambda Runtime API on loopback is refused (below).
BLOCKED_NETWORKS = tuple(ipaddress.ip_network(net) for net in (
    "169.254.0.0/16",  # IPv4 link-local, AWS/GCP/Azure/OpenStack metadata
    "fe80::/10",  # IPv6 link-local
    "fd00:ec2::254/128",  # AWS IMDS over IPv6
    "100.100.100.200/32",  # Alibaba Cloud metadata
    "192.0.0.192/32",  # Oracle Cloud metadata (legacy)
))
BLOCKED_HOSTNAMES = frozenset({
    "metadata", "metadata.google.internal", "metadata.goog", "metadata.azure.com",
    "instance-data", "instance-data.ec2.internal",
})
ALLOWED_SCHEMES = frozenset({"http", "https"})


class HttpMethod(Enum):
    GET = "GET"
    POST = "POST"
    PUT = "PUT"
    DELETE = "DELETE"
    PATCH = "PATCH"
    OPTIONS = "OPTIONS"
    HEAD = "HEAD"


class RequestRefused(Exception):
    """The URL is not one this block may fetch; the message is user-facing."""


IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def is_blocked_address(ip: IPAddress) -> bool:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # ::ffff:169.254.169.254 is the IPv4 address in disguise
    return any(ip in network for network in BLOCKED_NETWORKS if ip.version == network.version)


def _lambda_runtime_api() -> tuple[str, int] | None:
    # A graph must not pull other invocations from, or post to, the Lambda Runtime API.
    value = os.environ.get("AWS_LAMBDA_RUNTIME_API", "")
    host, _, port = value.rpartition(":")
    return (host.strip("[]"), int(port)) if host and port.isdigit() else None


async def _resolve(host: str, port: int) -> list[IPAddress]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise RequestRefused(f"Could not resolve host {host!r}: {exc}") from exc
    addresses: list[IPAddress] = []
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%", 1)[0])  # drop an IPv6 zone id
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise RequestRefused(f"Could not resolve host {host!r}")
    return addresses


@dataclass
class _Target:
    urls: list[Any]  # httpx.URLs with the host replaced by each checked IP address, in order
    host_header: str
    extensions: dict[str, Any]


async def check_url(url: Any) -> _Target:
    """Refuse what this block must not fetch; return where to connect. `url` is an httpx.URL."""
    if url.scheme not in ALLOWED_SCHEMES:
        raise RequestRefused(f"Refused URL scheme {url.scheme or '(none)'!r}: only http and https are allowed")
    host = url.host.rstrip(".").lower()
    if not host:
        raise RequestRefused("Refused URL without a host")
    if host in BLOCKED_HOSTNAMES:
        raise RequestRefused(f"Refused host {host!r}: cloud metadata endpoints are not reachable")
    port = url.port or (443 if url.scheme == "https" else 80)
    addresses = await _resolve(host, port)
    runtime_api = _lambda_runtime_api()
    for address in addresses:
        if is_blocked_address(address):
            raise RequestRefused(
                f"Refused host {host!r}: {address} is a link-local or cloud metadata address")
        if runtime_api and runtime_api == (str(address), port):
            raise RequestRefused("Refused: the Lambda Runtime API is not reachable")
    extensions = {"sni_hostname": host} if url.scheme == "https" else {}
    pinned = [url.copy_with(host=str(address)) for address in addresses]
    return _Target(pinned, url.netloc.decode("ascii"), extensions)


@dataclass
class _Reply:
    status: int
    content_type: str
    encoding: str
    content: bytes


def _body_arguments(body: Any, json_format: bool) -> dict[str, Any]:
    if isinstance(body, str):
        try:
            body = json.loads(body)
        except ValueError:
            json_format = False  # plain text is sent as is (AutoGPT does the same)
    if body is None:
        return {}
    if json_format:
        return {"json": body}
    if isinstance(body, dict):
        return {"data": body}  # form-encoded
    if isinstance(body, (str, bytes)):
        return {"content": body}
    return {"content": json.dumps(body)}


def _redirected_method(status: int, method: str) -> str:
    if status == 303 and method != "HEAD":
        return "GET"
    if status in (301, 302) and method == "POST":
        return "GET"
    return method


async def _read_capped(response: Any) -> bytes:
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_RESPONSE_BYTES:
        raise RequestRefused(f"Response too large: {declared} bytes (limit {MAX_RESPONSE_BYTES})")
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > MAX_RESPONSE_BYTES:
            raise RequestRefused(f"Response too large: more than {MAX_RESPONSE_BYTES} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


async def _send_first_reachable(client: Any, method: str, target: _Target,
                                headers: dict[str, str], body_arguments: dict[str, Any]) -> Any:
    # Like a normal client, try each resolved address until one accepts the connection.
    import httpx

    for index, pinned_url in enumerate(target.urls):
        request = client.build_request(method, pinned_url, headers=headers,
                                       extensions=target.extensions, **body_arguments)
        try:
            return await client.send(request, stream=True)
        except httpx.ConnectError:
            if index == len(target.urls) - 1:
                raise
    raise AssertionError("unreachable")  # pragma: no cover - urls is never empty


async def fetch(method: str, url_text: str, headers: dict[str, str], body: Any, json_format: bool) -> _Reply:
    import httpx

    try:
        url = httpx.URL(url_text)
    except httpx.InvalidURL as exc:
        raise RequestRefused(f"Invalid URL {url_text!r}: {exc}") from exc
    body_arguments = _body_arguments(body, json_format)
    headers = {str(k): str(v) for k, v in headers.items() if v is not None}
    timeout = httpx.Timeout(READ_TIMEOUT, connect=CONNECT_TIMEOUT)
    # trust_env=False: a proxy from the environment would resolve names itself, past our check.
    async with httpx.AsyncClient(timeout=timeout, follow_redirects=False, trust_env=False) as client:
        for hop in range(MAX_REDIRECTS + 1):
            target = await check_url(url)
            request_headers = dict(headers)
            if not any(key.lower() == "host" for key in request_headers):
                request_headers["Host"] = target.host_header
            response = await _send_first_reachable(client, method, target, request_headers, body_arguments)
            try:
                if response.is_redirect:
                    if hop == MAX_REDIRECTS:
                        raise RequestRefused(f"Too many redirects (more than {MAX_REDIRECTS})")
                    next_url = url.join(response.headers["location"])
                    new_method = _redirected_method(response.status_code, method)
                    if new_method != method:
                        body_arguments = {}
                    method = new_method
                    if (next_url.scheme, next_url.host, next_url.port) != (url.scheme, url.host, url.port):
                        # Credentials are for the origin the user named, not wherever it points.
                        headers = {k: v for k, v in headers.items()
                                   if k.lower() not in ("authorization", "cookie", "host")}
                    url = next_url
                    continue
                content = await _read_capped(response)
                return _Reply(response.status_code, response.headers.get("content-type", ""),
                              response.charset_encoding or "utf-8", content)
            finally:
                await response.aclose()
    raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises


def parse_reply(reply: _Reply) -> Any:
    """JSON when the server says so (None for an empty body), text otherwise."""
    try:
        text = reply.content.decode(reply.encoding, errors="replace")
    except LookupError:  # a charset Python does not know
        text = reply.content.decode("utf-8", errors="replace")
    if reply.content_type.lower().startswith("application/json"):
        if reply.status == 204 or not text.strip():
            return None
        try:
            return json.loads(text)
        except ValueError:
            return text
    return text


class SendWebRequestBlock(Block):
    runs_inline = False  # waits on the clock/network: its own Lambda invocation
    id = "6595ae1f-b924-42cb-9a41-551a0611c4b4"
    description = "This block makes an HTTP request to the given URL."
    categories = {BlockCategory.OUTPUT}

    class Input(BlockSchema):
        url: str = Field(description="The URL to send the request to",
                         json_schema_extra={"placeholder": "https://api.example.com"})
        method: HttpMethod = Field(default=HttpMethod.POST, description="The HTTP method to use for the request")
        headers: dict[str, str] = Field(default_factory=dict, description="The headers to include in the request")
        json_format: bool = Field(default=True, title="JSON format",
                                  description="If true, send the body as JSON")
        body: Any = Field(default=None, description="Form/JSON body payload")

    class Output(BlockSchemaOutput):
        response: Any = Field(description="The response from the server")
        client_error: Any = Field(description="The error on 4xx status codes")
        server_error: Any = Field(description="The error on 5xx status codes")

    input_schema, output_schema = Input, Output
    # Offline on purpose: both are refused before any DNS look-up or connection.
    test_input = [
        {"url": "http://169.254.169.254/latest/meta-data/", "method": "GET"},
        {"url": "file:///etc/passwd", "method": "GET"},
    ]
    test_output = [
        ("error", "Refused host '169.254.169.254': 169.254.169.254 is a link-local or cloud metadata address"),
        ("error", "Refused URL scheme 'file': only http and https are allowed"),
    ]

    async def run(self, input_data: Input, **kwargs: Any) -> BlockOutput:
        import httpx

        try:
            reply = await asyncio.wait_for(
                fetch(input_data.method.value, input_data.url, input_data.headers,
                      input_data.body, input_data.json_format),
                TOTAL_TIMEOUT)
        except RequestRefused as exc:
            yield "error", str(exc)
            return
        except (asyncio.TimeoutError, httpx.TimeoutException):
            yield "error", f"Request to {input_data.url} timed out"
            return
        except (httpx.HTTPError, httpx.InvalidURL, UnicodeEncodeError) as exc:
            # UnicodeEncodeError: a header value that is not latin-1/ASCII.
            yield "error", f"Request error: {type(exc).__name__}: {exc}"
            return
        result = parse_reply(reply)
        if 200 <= reply.status < 300:
            yield "response", result
        elif 400 <= reply.status < 500:
            yield "client_error", result
        else:
            yield "server_error", result
