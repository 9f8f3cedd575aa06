"""SendWebRequestBlock: an HTTP request from a graph, with SSRF guards.

Pins and status buckets follow AutoGPT's `backend/blocks/http.py`. The guards are ours: every
hop (redirects included) goes through `stratus.net.egress` (http(s) only, public addresses
only unless allow-listed, connected to the checked address); time and size are capped.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from enum import Enum
from typing import Any

from pydantic import Field

from stratus.blocks.sdk import Block, BlockCategory, BlockOutput, BlockSchema, BlockSchemaOutput
from stratus.net.egress import EgressRefused, guarded_client, refusal, url_parts

CONNECT_TIMEOUT = 10.0  # seconds to open a connection
READ_TIMEOUT = 30.0  # seconds between two received chunks (also write/pool)
TOTAL_TIMEOUT = 120.0  # whole request, redirects included; Lambda time is money
MAX_RESPONSE_BYTES = 10 * 1024 * 1024  # decoded body; larger responses are an error
MAX_REDIRECTS = 10


class HttpMethod(Enum):
    GET = "GET"
    POST = "POST"
    PUT = "PUT"
    DELETE = "DELETE"
    PATCH = "PATCH"
    OPTIONS = "OPTIONS"
    HEAD = "HEAD"


class RequestRefused(Exception):
    """The request cannot be made or its reply is unusable; the message is user-facing."""


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


async def fetch(method: str, url_text: str, headers: dict[str, str], body: Any, json_format: bool) -> _Reply:
    import httpx

    try:
        url = httpx.URL(url_text)
    except httpx.InvalidURL as exc:
        raise RequestRefused(f"Invalid URL {url_text!r}: {exc}") from exc
    body_arguments = _body_arguments(body, json_format)
    headers = {str(k): str(v) for k, v in headers.items() if v is not None}
    timeout = httpx.Timeout(READ_TIMEOUT, connect=CONNECT_TIMEOUT)
    # Every hop goes through the egress transport: checked, and connected to the checked address.
    async with guarded_client(httpx, timeout=timeout, follow_redirects=False) as client:
        for hop in range(MAX_REDIRECTS + 1):
            try:
                url_parts(url)  # the scheme first: the client would take file:///x for a relative path
                response = await client.send(
                    client.build_request(method, url, headers=headers, **body_arguments), stream=True
                )
            except EgressRefused as exc:
                raise RequestRefused(str(exc)) from None
            except httpx.ConnectError as exc:
                refused = refusal(exc)
                if refused is not None:
                    raise RequestRefused(str(refused)) from None
                raise
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
                        headers = {
                            k: v for k, v in headers.items() if k.lower() not in ("authorization", "cookie", "host")
                        }
                    url = next_url
                    continue
                content = await _read_capped(response)
                return _Reply(
                    response.status_code,
                    response.headers.get("content-type", ""),
                    response.charset_encoding or "utf-8",
                    content,
                )
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
        url: str = Field(
            description="The URL to send the request to", json_schema_extra={"placeholder": "https://api.example.com"}
        )
        method: HttpMethod = Field(default=HttpMethod.POST, description="The HTTP method to use for the request")
        headers: dict[str, str] = Field(default_factory=dict, description="The headers to include in the request")
        json_format: bool = Field(default=True, title="JSON format", description="If true, send the body as JSON")
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
        (
            "error",
            "Refused host 169.254.169.254: a link-local or cloud metadata address; outbound requests go "
            "to public addresses only (an operator can allow it in EGRESS_ALLOW_LIST)",
        ),
        ("error", "Refused URL scheme 'file': only http and https are allowed"),
    ]

    async def run(self, input_data: Input, **kwargs: Any) -> BlockOutput:
        import httpx

        try:
            reply = await asyncio.wait_for(
                fetch(
                    input_data.method.value, input_data.url, input_data.headers, input_data.body, input_data.json_format
                ),
                TOTAL_TIMEOUT,
            )
        except (RequestRefused, EgressRefused) as exc:
            yield "error", str(exc)
            return
        except (TimeoutError, httpx.TimeoutException):
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
