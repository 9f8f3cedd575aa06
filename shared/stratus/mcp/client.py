"""MCP client: list and call the tools of remote MCP servers (streamable HTTP or SSE).

One call, one connection:

    tools = await list_tools(server)                 # OpenAI function tools
    text = await call_tool(server, "add", {"a": 2, "b": 3})

One connection for several calls (a block run):

    async with McpConnection(server) as conn:
        tools = await conn.list_tools()
        text = await conn.call_tool("add", {"a": 2, "b": 3})

Several servers, a tool name routed to the first server that has it (the MAG agent node):

    async with McpToolbox(servers) as box:           # list[McpServerConfig] or {name: McpServerConfig}
        box.tools                                    # OpenAI function tools of every server, first wins
        box.has("add")                               # is a tool of some server
        text = await box.call("add", {"a": 2, "b": 3})

The toolbox connects to every enabled server at once (disabled ones are skipped; a stdio one raises
McpStdioRefused) and lists their tools on entry. A tool name offered by two servers goes to the
first server in the given order; the later duplicate is not listed.

Errors (all messages name the server by its url without credentials: no userinfo, no query):

* McpStdioRefused (ValueError): a stdio server. Lambda cannot spawn and keep a server process.
* McpServerDisabled (ValueError): McpConnection on a server with `disabled: true`.
* McpError (RuntimeError): cannot connect, connection lost, protocol error. McpTimeoutError is a
  McpError: `server.timeout` seconds elapsed while connecting or waiting for one request.
* McpToolError (McpError): the tool answered with `isError` (the message is the tool's text);
  McpUnknownToolError is a McpToolError for a tool name no server offers. An agent loop feeds
  McpToolError messages back to the model and may stop on other McpErrors.

Results: text parts joined with "\\n"; other parts are described in brackets ("[image image/png,
68 bytes]", "[resource file:///x.txt]"); structured content without any text part is its JSON.

The mcp SDK (anyio) requires its context managers to be entered and exited by the same task, so
each connection lives in its own worker task; callers may use a connection from any task of the
same event loop. The SDK is imported lazily (cold starts).
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import re
from collections.abc import Mapping, Sequence
from contextlib import AsyncExitStack
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from stratus.mag.models import McpServerConfig, McpTransport

log = logging.getLogger(__name__)

STDIO_REFUSED_MESSAGE = (
    "stdio MCP servers cannot run in AWS Lambda: run the server over streamable HTTP or SSE and give its url"
)
# How long closing a connection may take before its worker task is cancelled.
_CLOSE_SECONDS = 5.0


class McpError(RuntimeError):
    """An MCP server could not be reached or used (connection, protocol, timeout)."""


class McpTimeoutError(McpError):
    """Connecting or one request took longer than the server's timeout."""


class McpToolError(McpError):
    """The tool ran and reported an error (an `isError` result)."""


class McpUnknownToolError(McpToolError):
    """No server offers a tool of that name."""


class McpStdioRefused(ValueError):
    """stdio servers are local processes: not available in Lambda."""

    def __init__(self, message: str = STDIO_REFUSED_MESSAGE):
        super().__init__(message)


class McpServerDisabled(ValueError):
    """The server's config says `disabled: true`."""


def display_url(url: str | None) -> str:
    """The url without userinfo, query or fragment: safe for messages and logs."""
    if not url:
        return "<no url>"
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def _redact_urls(text: str) -> str:
    """Every url in an error text without userinfo/query (an HTTP error quotes the request url)."""
    return re.sub(r"""https?://[^\s'"<>]+""", lambda match: display_url(match.group(0)), text)


def check_usable(server: McpServerConfig) -> None:
    """Raise McpStdioRefused / McpServerDisabled for servers this client will not connect to."""
    if server.transport_type is McpTransport.STDIO:
        raise McpStdioRefused()
    if server.disabled:
        raise McpServerDisabled(f"the MCP server at {display_url(server.url)} is disabled")


def openai_tool(tool: Any) -> dict[str, Any]:
    """An MCP tool (mcp.types.Tool) as an OpenAI function tool."""
    parameters = dict(tool.input_schema or {}) or {"type": "object", "properties": {}}
    parameters.setdefault("type", "object")
    parameters.setdefault("properties", {})
    return {
        "type": "function",
        "function": {"name": tool.name, "description": tool.description or "", "parameters": parameters},
    }


def _describe_part(part: Any) -> str:
    kind = getattr(part, "type", type(part).__name__)
    if kind == "text":
        return part.text
    if kind in ("image", "audio"):
        try:
            size = len(base64.b64decode(part.data))
        except (ValueError, TypeError):
            size = len(part.data or "")
        return f"[{kind} {part.mime_type}, {size} bytes]"
    if kind == "resource":
        resource = part.resource
        text = getattr(resource, "text", None)
        return text if isinstance(text, str) else f"[resource {resource.uri}]"
    if kind == "resource_link":
        return f"[resource link {part.uri}]"
    return f"[{kind} content]"


def result_text(result: Any) -> str:
    """A CallToolResult as text: text parts joined with newlines, other parts described briefly."""
    parts = [_describe_part(part) for part in result.content or []]
    if not parts and result.structured_content is not None:
        return json.dumps(result.structured_content, ensure_ascii=False)
    return "\n".join(parts)


def _leaf(exc: BaseException) -> BaseException:
    """The first real error inside (nested) exception groups of anyio task groups."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return exc


async def _check_url(url: str | None) -> None:
    """The egress policy up front, for a clear error (the transport checks every request again)."""
    from stratus.net.egress import EgressRefused, check_url

    try:
        await check_url(url or "")
    except EgressRefused as exc:
        raise McpError(f"MCP server url refused ({display_url(url)}): {exc}") from None


def _guarded_http_client(headers: dict[str, str] | None = None, timeout: Any = None, auth: Any = None) -> Any:
    """An httpx2 client under the egress policy, in the SDK's McpHttpClientFactory signature."""
    import httpx2

    from stratus.net.egress import guarded_client

    return guarded_client(httpx2, headers=headers, timeout=timeout, auth=auth)


class McpConnection:
    """One session with one MCP server, open for the `async with` block."""

    def __init__(self, server: McpServerConfig, headers: Mapping[str, str] | None = None):
        check_usable(server)
        self.server = server
        self.url = display_url(server.url)
        self.timeout = float(server.timeout)
        self.headers = dict(headers or {})
        self._client: Any = None
        self._worker: asyncio.Task[None] | None = None
        self._closing: asyncio.Event | None = None

    # --- lifecycle -----------------------------------------------------------------
    async def _open(self, stack: AsyncExitStack) -> Any:
        """Enter the transport and the SDK client on `stack`; returns the connected mcp.Client."""
        import httpx2
        import mcp

        # A long read timeout: a streamed reply may idle while a tool runs (the session times requests).
        read_timeout = max(self.timeout, 300.0)
        url = self.server.url
        if url is None:  # __aenter__'s _check_url refused it already
            raise McpError("the MCP server has no url")
        if self.server.transport_type is McpTransport.SSE:
            from mcp.client.sse import sse_client

            transport = sse_client(
                url,
                headers=self.headers or None,
                timeout=self.timeout,
                sse_read_timeout=read_timeout,
                httpx_client_factory=_guarded_http_client,
            )
        else:
            from mcp.client.streamable_http import streamable_http_client

            http = await stack.enter_async_context(
                _guarded_http_client(self.headers or None, httpx2.Timeout(self.timeout, read=read_timeout))
            )
            transport = streamable_http_client(url, http_client=http)
        return await stack.enter_async_context(mcp.Client(transport, read_timeout_seconds=self.timeout))

    async def _run(self, ready: asyncio.Future[None]) -> None:
        """The worker task: enters and exits the SDK's contexts (same task, as anyio requires)."""
        assert self._closing is not None
        try:
            async with AsyncExitStack() as stack:
                self._client = await self._open(stack)
                ready.set_result(None)
                await self._closing.wait()
        except BaseException as exc:  # handed to the caller, or the end of the worker
            if not ready.done():
                ready.set_exception(exc if isinstance(exc, Exception) else McpError(str(exc) or type(exc).__name__))
            elif not isinstance(exc, (asyncio.CancelledError, GeneratorExit)):
                log.info("MCP connection to %s ended: %s", self.url, _leaf(exc))
            if isinstance(exc, asyncio.CancelledError):
                raise
        finally:
            self._client = None

    async def __aenter__(self) -> McpConnection:
        await _check_url(self.server.url)
        loop = asyncio.get_running_loop()
        ready: asyncio.Future[None] = loop.create_future()
        self._closing = asyncio.Event()
        self._worker = loop.create_task(self._run(ready), name=f"mcp {self.url}")
        try:
            async with asyncio.timeout(self.timeout):
                await asyncio.shield(ready)
        except TimeoutError:
            await self._stop_worker(cancel=True)
            raise McpTimeoutError(
                f"timed out after {self.timeout:g}s connecting to the MCP server at {self.url}"
            ) from None
        except BaseException as exc:
            await self._stop_worker(cancel=True)
            if isinstance(exc, asyncio.CancelledError):
                raise
            raise self._error("connecting to", exc) from None
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        await self._stop_worker(cancel=False)

    async def _stop_worker(self, cancel: bool) -> None:
        worker, self._worker = self._worker, None
        if worker is None:
            return
        if self._closing is not None:
            self._closing.set()
        if cancel:
            worker.cancel()
        try:
            await asyncio.wait_for(asyncio.shield(worker), _CLOSE_SECONDS)
        except TimeoutError:
            worker.cancel()
        except BaseException:  # the worker's own end: the caller's exception is what matters
            pass

    # --- requests ------------------------------------------------------------------
    def _error(self, doing: str, exc: BaseException) -> McpError:
        """An SDK or transport failure as a McpError naming the server (`doing` is "connecting to" etc.)."""
        leaf = _leaf(exc)
        if isinstance(leaf, McpError):
            return leaf
        from stratus.net.egress import refusal

        refused = refusal(leaf)
        if refused is not None:  # a redirect or a re-resolved name the policy refuses
            return McpError(f"MCP server url refused ({self.url}): {refused}")
        code = getattr(leaf, "code", None)
        if code == -32001:  # the SDK's REQUEST_TIMEOUT
            return McpTimeoutError(f"timed out after {self.timeout:g}s {doing} the MCP server at {self.url}")
        detail = _redact_urls(str(leaf) or type(leaf).__name__)
        if not isinstance(code, int):  # not a JSON-RPC error: the exception type says what happened
            detail = f"{type(leaf).__name__}: {detail}"
        return McpError(f"failed {doing} the MCP server at {self.url}: {detail}")

    async def _request(self, doing: str, coro: Any) -> Any:
        """Await an SDK call within the timeout, and fail at once if the connection ends."""
        if self._client is None or self._worker is None:
            coro.close()
            raise McpError(f"the MCP connection to {self.url} is not open")
        request = asyncio.ensure_future(coro)
        try:
            async with asyncio.timeout(self.timeout + 1.0):  # the SDK's own timeout comes first
                done, _ = await asyncio.wait({request, self._worker}, return_when=asyncio.FIRST_COMPLETED)
        except TimeoutError:
            request.cancel()
            raise McpTimeoutError(f"timed out after {self.timeout:g}s {doing} the MCP server at {self.url}") from None
        except BaseException:
            request.cancel()
            raise
        if request not in done:
            request.cancel()
            raise McpError(f"the connection to the MCP server at {self.url} was lost ({doing})")
        try:
            return request.result()
        except McpError:
            raise
        except Exception as exc:
            raise self._error(doing, exc) from None

    async def list_mcp_tools(self) -> list[Any]:
        """Every tool of the server (mcp.types.Tool), all pages."""
        tools: list[Any] = []
        cursor: str | None = None
        for _ in range(100):  # a server whose pages never end cannot hang a run
            page = await self._request("listing the tools of", self._client.list_tools(cursor=cursor))
            tools.extend(page.tools)
            cursor = page.next_cursor
            if not cursor:
                break
        return tools

    async def list_tools(self) -> list[dict[str, Any]]:
        """The server's tools in OpenAI function-tool format."""
        return [openai_tool(tool) for tool in await self.list_mcp_tools()]

    async def call_tool(self, name: str, arguments: Mapping[str, Any] | None = None) -> str:
        """Call a tool; its result as text. An `isError` result raises McpToolError."""
        result = await self._request(f"calling tool {name!r} of", self._client.call_tool(name, dict(arguments or {})))
        text = result_text(result)
        if result.is_error:
            raise McpToolError(text or f"the tool {name!r} failed")
        return text


async def list_tools(server: McpServerConfig) -> list[dict[str, Any]]:
    """The server's tools in OpenAI function-tool format (one connection)."""
    async with McpConnection(server) as connection:
        return await connection.list_tools()


async def call_tool(server: McpServerConfig, name: str, arguments: dict[str, Any]) -> str:
    """Call one tool of the server (one connection); text result, McpToolError on a tool error."""
    async with McpConnection(server) as connection:
        return await connection.call_tool(name, arguments)


class McpToolbox:
    """The tools of several MCP servers; each name routed to the first server that offers it."""

    def __init__(self, servers: Sequence[McpServerConfig] | Mapping[str, McpServerConfig]):
        named = servers.items() if isinstance(servers, Mapping) else ((None, s) for s in servers)
        self._servers: list[tuple[str, McpServerConfig]] = []
        for name, server in named:
            if server.disabled:
                continue
            if server.transport_type is McpTransport.STDIO:
                raise McpStdioRefused(
                    f"MCP server {name!r}: {STDIO_REFUSED_MESSAGE}" if name else STDIO_REFUSED_MESSAGE
                )
            self._servers.append((name or display_url(server.url), server))
        self.tools: list[dict[str, Any]] = []
        self._routes: dict[str, McpConnection] = {}
        self._connections: list[McpConnection] = []

    async def __aenter__(self) -> McpToolbox:
        connections = [McpConnection(server) for _, server in self._servers]
        opened = await asyncio.gather(*(c.__aenter__() for c in connections), return_exceptions=True)
        self._connections = [c for c, result in zip(connections, opened) if not isinstance(result, BaseException)]
        failure = next((r for r in opened if isinstance(r, BaseException)), None)
        try:
            if failure is not None:
                raise failure
            listings = await asyncio.gather(*(c.list_tools() for c in connections))
        except BaseException:
            await self.__aexit__(None, None, None)
            raise
        for connection, tools in zip(connections, listings):
            for tool in tools:
                name = tool["function"]["name"]
                if name in self._routes:
                    log.info(
                        "MCP tool %r of %s is hidden by the one of %s", name, connection.url, self._routes[name].url
                    )
                    continue
                self._routes[name] = connection
                self.tools.append(tool)
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        connections, self._connections = self._connections, []
        await asyncio.gather(*(c.__aexit__(None, None, None) for c in connections), return_exceptions=True)

    @property
    def names(self) -> list[str]:
        return [tool["function"]["name"] for tool in self.tools]

    def has(self, name: str) -> bool:
        return name in self._routes

    async def call(self, name: str, arguments: Mapping[str, Any] | None = None) -> str:
        connection = self._routes.get(name)
        if connection is None:
            known = ", ".join(self.names) or "none"
            raise McpUnknownToolError(f"unknown tool {name!r}; the MCP tools are: {known}")
        return await connection.call_tool(name, arguments)
