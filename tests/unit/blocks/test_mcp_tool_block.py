"""MCPToolBlock against the loopback MCP server, and the server's own life cycle."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from localcloud.mcp_server import McpServerHandle, start_mcp_server
from stratus.blocks.ai.mcp_tool import MCPToolBlock
from stratus.blocks.registry import all_blocks
from stratus.blocks.sdk import BlockCategory, BlockInputError
from stratus.blocks.testing import run_block
from tests.conftest import allowed_egress

BLOCK = MCPToolBlock()


@pytest.fixture(scope="module")
def mcp_server() -> Iterator[McpServerHandle]:
    handle = start_mcp_server()
    with allowed_egress(handle.base_url):
        yield handle
    handle.stop()


def run(inputs: dict[str, Any]) -> dict[str, Any]:
    results = run_block(BLOCK, inputs)
    assert len(results) == 1, results  # one pin per run: result, tools or error
    return dict(results)


def test_definition() -> None:
    assert all_blocks()[BLOCK.id].name == "MCPToolBlock"
    assert BLOCK.categories == {BlockCategory.AGENT, BlockCategory.DEVELOPER_TOOLS}
    assert BLOCK.group == "ai" and BLOCK.runs_inline is False
    assert BLOCK.output_schema.field_names() == {"result", "tools", "error"}
    schema = BLOCK.to_dict()["inputSchema"]
    assert schema["properties"]["transport"]["enum"] == ["streamable_http", "sse", "stdio"]
    assert schema["properties"]["headers"]["advanced"] is True


@pytest.mark.parametrize("transport, url_attr", [("streamable_http", "streamable_http_url"), ("sse", "sse_url")])
def test_list_then_call(mcp_server: McpServerHandle, transport: str, url_attr: str) -> None:
    url = getattr(mcp_server, url_attr)
    listed = run({"server_url": url, "transport": transport})
    tools = {tool["name"]: tool["description"] for tool in listed["tools"]}
    assert tools["word_count"] == "Count the words (whitespace-separated) of a text."
    called = run(
        {
            "server_url": url,
            "transport": transport,
            "tool_name": "word_count",
            "tool_arguments": {"text": "three little words"},
            "headers": {"X-Test": "1"},
        }
    )
    assert called == {"result": "3"}


def test_errors_go_to_the_error_pin(mcp_server: McpServerHandle) -> None:
    url = mcp_server.streamable_http_url
    assert run({"server_url": "ignored", "transport": "stdio", "tool_name": "add"}) == {
        "error": "stdio MCP servers cannot run in AWS Lambda: run the server over streamable HTTP or SSE and "
        "give its url"
    }
    unknown = run({"server_url": url, "tool_name": "nope"})["error"]
    assert unknown.startswith(f"unknown tool 'nope' on the MCP server at {url}; its tools are: add, word_count")
    assert run({"server_url": url, "tool_name": "fail", "tool_arguments": {"message": "boom"}}) == {
        "error": "Error executing tool fail: boom"
    }
    timed_out = run({"server_url": url, "tool_name": "slow", "tool_arguments": {"seconds": 5}, "timeout": 0.5})
    assert timed_out == {"error": f"timed out after 0.5s calling tool 'slow' of the MCP server at {url}"}


def test_bad_inputs_are_refused_before_running() -> None:
    for inputs in (
        {"server_url": "http://127.0.0.1:1/mcp", "timeout": 901},
        {"server_url": "http://127.0.0.1:1/mcp", "transport": "websocket"},
        {"server_url": ""},
    ):
        with pytest.raises(BlockInputError):
            run_block(BLOCK, inputs)


def test_server_starts_and_stops_repeatedly_without_leaks() -> None:
    threads_before = set(threading.enumerate())
    for _ in range(3):
        handle = start_mcp_server()
        with allowed_egress(handle.base_url):
            assert run(
                {
                    "server_url": handle.sse_url,
                    "tool_name": "add",
                    "transport": "sse",
                    "tool_arguments": {"a": 1, "b": 1},
                }
            ) == {"result": "2"}
        port = handle.port
        handle.stop()
        assert not handle.running
        with socket.socket() as sock:  # the port is free again
            sock.bind(("127.0.0.1", port))
    # AnyIO's idle worker threads belong to the client side's thread pool and exit on their own.
    left = {t for t in set(threading.enumerate()) - threads_before if not t.name.startswith("AnyIO worker")}
    assert not left


def test_server_stops_with_an_open_sse_stream() -> None:
    # A client still connected (its SSE GET open) must not keep the server alive.
    import asyncio

    from stratus.mag.models import McpServerConfig
    from stratus.mcp.client import McpConnection

    handle = start_mcp_server()
    stopped = threading.Event()

    async def scenario() -> None:
        async with McpConnection(McpServerConfig(url=handle.sse_url, transportType="sse", timeout=5)) as conn:
            assert await conn.call_tool("echo", {"text": "hi"}) == "hi"
            await asyncio.to_thread(handle.stop)
            stopped.set()

    with allowed_egress(handle.base_url):
        asyncio.run(scenario())
    assert stopped.is_set() and not handle.running


def test_a_lazy_server_starts_on_its_first_connection() -> None:
    handle = start_mcp_server(lazy=True)  # returns at once: the port listens, nothing is built yet
    with allowed_egress(handle.base_url):
        assert run(
            {
                "server_url": handle.streamable_http_url,
                "tool_name": "echo",
                "tool_arguments": {"text": "woken"},
                "timeout": 30,
            }
        ) == {"result": "woken"}
    handle.stop()
    idle = start_mcp_server(lazy=True)  # never used: stops at once
    idle.stop()
    assert not handle.running and not idle.running
