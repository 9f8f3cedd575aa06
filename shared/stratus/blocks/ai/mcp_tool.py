"""MCPToolBlock: list the tools of a remote MCP server, or call one of them.

The server is reached over streamable HTTP or SSE (stratus.mcp.client); a stdio server is
refused with a clear error (a Lambda cannot spawn and keep a server process). With an empty
`tool_name` the block lists the server's tools on `tools`; otherwise it checks the tool exists
(one session: list, then call) and yields its text on `result`. Every failure (refused transport
or url, connection, timeout, unknown tool, the tool's own error) goes to `error`.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from stratus.blocks.sdk import Block, BlockCategory, BlockOutput, BlockSchema, BlockSchemaOutput

MAX_TIMEOUT_SECONDS = 900  # a Lambda invocation's limit


class MCPToolBlock(Block):
    id = "3f9c1b72-6a4e-4d8f-9c25-7e1b0a5d4c63"
    description = (
        "Call a tool of an MCP (Model Context Protocol) server over streamable HTTP or SSE, "
        "or list the server's tools when no tool name is given."
    )
    categories = {BlockCategory.AGENT, BlockCategory.DEVELOPER_TOOLS}
    group = "ai"
    runs_inline = False

    class Input(BlockSchema):
        server_url: str = Field(
            description="The MCP server's endpoint, e.g. https://example.com/mcp "
            "(streamable HTTP) or https://example.com/sse (SSE).",
            min_length=1,
            max_length=2048,
        )
        transport: Literal["streamable_http", "sse", "stdio"] = Field(
            default="streamable_http",
            description="How to talk to the server. stdio is not available in "
            "the cloud: run the server over HTTP instead.",
        )
        tool_name: str = Field(default="", description="The tool to call. Empty: list the server's tools.")
        tool_arguments: dict[str, Any] = Field(
            default_factory=dict, description="The tool's arguments (see its input schema)."
        )
        timeout: float = Field(
            default=60,
            gt=0,
            le=MAX_TIMEOUT_SECONDS,
            description="Seconds to wait for the connection and for each request.",
            json_schema_extra={"advanced": True},
        )
        headers: dict[str, str] = Field(
            default_factory=dict,
            description="HTTP headers sent to the server, e.g. Authorization.",
            json_schema_extra={"advanced": True, "secret": True},
        )

    class Output(BlockSchemaOutput):
        result: str = Field(description="The tool's result as text.")
        tools: list[dict[str, str]] = Field(
            description="The server's tools: {name, description} each (when no tool name is given)."
        )

    input_schema, output_schema = Input, Output

    async def run(self, input_data: Input, **kwargs: Any) -> BlockOutput:
        from stratus.mag.models import McpServerConfig
        from stratus.mcp.client import STDIO_REFUSED_MESSAGE, McpConnection, McpError, McpUnknownToolError

        if input_data.transport == "stdio":
            yield "error", STDIO_REFUSED_MESSAGE
            return
        server = McpServerConfig(
            url=input_data.server_url, transportType=input_data.transport, timeout=input_data.timeout
        )
        tool_name = input_data.tool_name.strip()
        try:
            async with McpConnection(server, headers=input_data.headers) as connection:
                tools = await connection.list_tools()
                if not tool_name:
                    yield (
                        "tools",
                        [
                            {"name": tool["function"]["name"], "description": tool["function"]["description"]}
                            for tool in tools
                        ],
                    )
                    return
                names = [tool["function"]["name"] for tool in tools]
                if tool_name not in names:
                    raise McpUnknownToolError(
                        f"unknown tool {tool_name!r} on the MCP server at {connection.url}; "
                        f"its tools are: {', '.join(names) or 'none'}"
                    )
                result = await connection.call_tool(tool_name, input_data.tool_arguments)
        except McpError as exc:
            yield "error", str(exc)
            return
        yield "result", result
