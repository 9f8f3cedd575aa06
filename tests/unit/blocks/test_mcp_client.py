"""stratus.mcp.client against the loopback MCP server, over both transports: no network."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest

from localcloud.mcp_server import FACTS, McpServerHandle, start_mcp_server
from stratus.mag.models import McpServerConfig
from stratus.mcp.client import (
    McpConnection,
    McpError,
    McpServerDisabled,
    McpStdioRefused,
    McpTimeoutError,
    McpToolbox,
    McpToolError,
    McpUnknownToolError,
    call_tool,
    list_tools,
)
from tests.conftest import allowed_egress

TRANSPORTS = ("streamable_http", "sse")


@pytest.fixture(scope="module")
def mcp_server() -> Iterator[McpServerHandle]:
    handle = start_mcp_server()
    with allowed_egress(handle.base_url):
        yield handle
    handle.stop()


def config(handle: McpServerHandle, transport: str, timeout: float = 10, **extra: Any) -> McpServerConfig:
    url = handle.streamable_http_url if transport == "streamable_http" else handle.sse_url
    return McpServerConfig(url=url, transportType=transport, timeout=timeout, **extra)


@pytest.fixture(params=TRANSPORTS)
def server(request: pytest.FixtureRequest, mcp_server: McpServerHandle) -> McpServerConfig:
    return config(mcp_server, request.param)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_list_tools_in_openai_function_format(server: McpServerConfig) -> None:
    tools = asyncio.run(list_tools(server))
    by_name = {tool["function"]["name"]: tool for tool in tools}
    assert {"add", "word_count", "lookup_fact", "echo", "fail", "slow", "pixel"} <= set(by_name)
    add = by_name["add"]
    assert add["type"] == "function"
    assert add["function"]["description"] == "Add two numbers and return the sum."
    parameters = add["function"]["parameters"]
    assert parameters["type"] == "object"
    assert set(parameters["properties"]) == {"a", "b"} and set(parameters["required"]) == {"a", "b"}
    # A tool without arguments still has an object schema (OpenAI requires one).
    assert by_name["pixel"]["function"]["parameters"]["type"] == "object"


def test_call_tool_returns_text(server: McpServerConfig) -> None:
    assert asyncio.run(call_tool(server, "add", {"a": 2, "b": 3.5})) == "5.5"
    assert asyncio.run(call_tool(server, "lookup_fact", {"topic": "Everest"})) == FACTS["everest"]


def test_non_text_content_is_described(server: McpServerConfig) -> None:
    assert asyncio.run(call_tool(server, "pixel", {})) == "a 1x1 transparent pixel\n[image image/png, 68 bytes]"


def test_tool_error_raises_with_the_tools_message(server: McpServerConfig) -> None:
    with pytest.raises(McpToolError, match="the fail tool always fails"):
        asyncio.run(call_tool(server, "fail", {}))
    with pytest.raises(McpToolError, match="No fact about 'pluto'"):
        asyncio.run(call_tool(server, "lookup_fact", {"topic": "pluto"}))


def test_unknown_tool_is_a_tool_error(server: McpServerConfig) -> None:
    with pytest.raises(McpToolError, match="Unknown tool: nope"):
        asyncio.run(call_tool(server, "nope", {}))


def test_a_slow_tool_times_out_and_the_session_stays_usable(mcp_server: McpServerHandle) -> None:
    async def scenario(server: McpServerConfig) -> str:
        async with McpConnection(server) as connection:
            started = time.monotonic()
            with pytest.raises(McpTimeoutError, match=r"timed out after 0.5s calling tool 'slow'") as caught:
                await connection.call_tool("slow", {"seconds": 5})
            assert time.monotonic() - started < 3
            assert connection.url in str(caught.value)
            return await connection.call_tool("echo", {"text": "still here"})

    for transport in TRANSPORTS:
        assert asyncio.run(scenario(config(mcp_server, transport, timeout=0.5))) == "still here"


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_connection_refused_names_the_url_without_credentials(transport: str) -> None:
    port = closed_port()
    server = McpServerConfig(
        url=f"http://user:s3cret@127.0.0.1:{port}/mcp?token=t0ken", transportType=transport, timeout=5
    )
    with allowed_egress(f"http://127.0.0.1:{port}"), pytest.raises(McpError) as caught:
        asyncio.run(list_tools(server))
    message = str(caught.value)
    assert f"http://127.0.0.1:{port}/mcp" in message and "connecting" in message
    assert "s3cret" not in message and "t0ken" not in message


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_connect_timeout_against_a_silent_server(transport: str) -> None:
    with socket.socket() as silent:  # accepts connections (backlog) and never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        server = McpServerConfig(url=f"http://127.0.0.1:{port}/mcp", transportType=transport, timeout=0.5)
        started = time.monotonic()
        with allowed_egress(server.url), pytest.raises(McpTimeoutError, match=r"timed out after 0.5s connecting"):
            asyncio.run(list_tools(server))
        assert time.monotonic() - started < 3


def test_stdio_and_disabled_servers_are_refused(mcp_server: McpServerHandle) -> None:
    stdio = McpServerConfig(command="npx", args=["some-mcp-server"])
    with pytest.raises(
        McpStdioRefused,
        match="stdio MCP servers cannot run in AWS Lambda: run the server over streamable HTTP or SSE and give its url",
    ):
        asyncio.run(list_tools(stdio))
    with pytest.raises(McpStdioRefused):
        McpToolbox([config(mcp_server, "sse"), stdio])
    with pytest.raises(McpServerDisabled, match="is disabled"):
        asyncio.run(call_tool(config(mcp_server, "sse", disabled=True), "echo", {"text": "x"}))


def test_metadata_and_non_http_urls_are_refused() -> None:
    for url in ("http://169.254.169.254/latest/mcp", "file:///etc/passwd"):
        with pytest.raises(McpError, match="refused"):
            asyncio.run(list_tools(McpServerConfig(url=url, timeout=1)))


def test_one_connection_serves_many_calls(server: McpServerConfig) -> None:
    async def scenario() -> list[str]:
        async with McpConnection(server) as connection:
            tools = await connection.list_tools()
            assert len(tools) >= 7
            calls = [connection.call_tool("word_count", {"text": "one two " * n}) for n in range(1, 6)]
            return list(await asyncio.gather(*calls))

    assert asyncio.run(scenario()) == ["2", "4", "6", "8", "10"]


def test_toolbox_routes_each_name_to_the_first_server(mcp_server: McpServerHandle) -> None:
    servers = {
        "http": config(mcp_server, "streamable_http"),
        "off": McpServerConfig(url=f"http://127.0.0.1:{closed_port()}/mcp", disabled=True),  # skipped
        "sse": config(mcp_server, "sse"),
    }

    async def scenario() -> None:
        async with McpToolbox(servers) as box:
            names = box.names
            assert len(names) == len(set(names)) == 7  # the second server's duplicates are hidden
            assert all(tool["type"] == "function" for tool in box.tools)
            assert box.has("add") and not box.has("nope")
            assert await box.call("add", {"a": 1, "b": 2}) == "3"
            with pytest.raises(McpToolError, match="always fails"):
                await box.call("fail", {})
            with pytest.raises(McpUnknownToolError, match="unknown tool 'nope'; the MCP tools are: add, "):
                await box.call("nope", {})

    asyncio.run(scenario())


def test_toolbox_fails_whole_when_one_server_is_down(mcp_server: McpServerHandle) -> None:
    down = McpServerConfig(url=f"http://127.0.0.1:{closed_port()}/mcp", timeout=5)
    servers = [config(mcp_server, "sse"), down]

    async def scenario() -> None:
        with pytest.raises(McpError, match="connecting"):
            async with McpToolbox(servers):
                pass
        # Nothing is left running: the opened connection was closed.
        assert asyncio.all_tasks() == {asyncio.current_task()}

    with allowed_egress(down.url):
        asyncio.run(scenario())
