"""MCP through the local cloud: its demo MCP server, and MCPToolBlock run by the ai block Lambda."""

from __future__ import annotations

import asyncio

import httpx

from localcloud import discovery
from stratus.blocks.ai.mcp_tool import MCPToolBlock
from stratus.mag.models import McpServerConfig
from stratus.mcp.client import list_tools
from tests.conftest import allowed_egress
from tests.e2e.conftest import auth, run_to_end

INPUT = "c0a8e994-ebf1-4a9c-a4d8-89d09c86741b"
OUTPUT = "363ae599-353e-4804-937e-b2ee3cef3da4"


def _link(source: str, sink: str, source_name: str, sink_name: str) -> dict:
    return {"source_id": source, "sink_id": sink, "source_name": source_name, "sink_name": sink_name}


def mcp_graph(server_url: str) -> dict:
    return {
        "name": "MCP word count",
        "description": "Counts words with the demo MCP server.",
        "nodes": [
            {"id": "in", "block_id": INPUT, "input_default": {"name": "text", "value": None}},
            {
                "id": "tool",
                "block_id": MCPToolBlock.id,
                "input_default": {
                    "server_url": server_url,
                    "transport": "sse",
                    "tool_name": "word_count",
                    "timeout": 30,
                },
            },
            {"id": "count", "block_id": OUTPUT, "input_default": {"name": "count"}},
            {"id": "error", "block_id": OUTPUT, "input_default": {"name": "error"}},
        ],
        "links": [
            _link("in", "tool", "result", "tool_arguments_#_text"),
            _link("tool", "count", "result", "value"),
            _link("tool", "error", "error", "value"),
        ],
    }


def test_the_demo_mcp_server_serves_a_graph(cloud):
    info = discovery.find(cloud.state_dir)
    assert info["mcp"].endswith("/mcp")
    with allowed_egress(info["mcp"]):  # this test process reaches the cloud's fake, as the cloud may
        tools = asyncio.run(list_tools(McpServerConfig(url=info["mcp"], timeout=30)))
    assert "word_count" in {tool["function"]["name"] for tool in tools}
    sse_url = info["mcp"].removesuffix("/mcp") + "/sse"
    with httpx.Client(base_url=cloud.http, timeout=30) as http:
        http.post("/api/auth/user", headers=auth("mcp-dora"))
        final = run_to_end(cloud, http, "mcp-dora", mcp_graph(sse_url), {"text": "four words in here"})
    assert final["status"] == "COMPLETED", final
    assert final.get("outputs") == {"count": ["4"]}, final
