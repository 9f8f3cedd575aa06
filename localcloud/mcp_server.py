"""A small deterministic MCP server on loopback: MCP clients, blocks and agents run with no network.

    handle = start_mcp_server()          # 127.0.0.1, a free port
    handle.streamable_http_url           # "http://127.0.0.1:<port>/mcp"  (streamable HTTP)
    handle.sse_url                       # "http://127.0.0.1:<port>/sse"  (SSE; messages POST to /messages/)
    handle.stop()                        # or: with start_mcp_server() as handle: ...

One uvicorn server in a daemon thread serves both transports of one MCP server (the mcp SDK's
`MCPServer`, formerly FastMCP). `stop()` shuts it down, waits for the thread and frees the port.

Tools (replies are pure functions of the arguments):

* `add(a, b)`: the sum, as text ("5", "2.5");
* `word_count(text)`: the number of whitespace-separated words;
* `lookup_fact(topic)`: a fact from a fixed table (`FACTS`); an unknown topic is a tool error;
* `echo(text)`: the text;
* `fail(message?)`: always a tool error (isError result) with the message;
* `slow(seconds)`: sleeps (at most 60 s) then answers "slept <seconds>s", for timeout tests;
* `pixel()`: a text part and a 1x1 PNG image part, for non-text content.

`python -m localcloud.mcp_server [--host H] [--port P]` serves it until interrupted.
"""

from __future__ import annotations

import argparse
import base64
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any

FACTS: dict[str, str] = {
    "stratus": "Stratus runs AutoGPT-compatible agent graphs on AWS Lambda and Step Functions.",
    "mcp": "The Model Context Protocol lets language models call tools served by MCP servers.",
    "lambda": "An AWS Lambda invocation runs for at most 15 minutes.",
    "everest": "Mount Everest is 8,849 metres high.",
    "water": "Water boils at 100 degrees Celsius at sea level.",
}
MAX_SLEEP_SECONDS = 60.0
# A 1x1 transparent PNG.
PIXEL_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=")


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(value)


def build_server() -> Any:
    """The demo MCP server (an `mcp.server.mcpserver.MCPServer`) with its tools."""
    import anyio
    from mcp.server.mcpserver import MCPServer
    from mcp.server.mcpserver.exceptions import ToolError
    from mcp.types import ImageContent, TextContent

    server = MCPServer("stratus-demo", instructions="Deterministic demo tools of the Stratus local cloud.",
                       log_level="WARNING")

    @server.tool(description="Add two numbers and return the sum.")
    def add(a: float, b: float) -> str:
        return _number(a + b)

    @server.tool(description="Count the words (whitespace-separated) of a text.")
    def word_count(text: str) -> str:
        return str(len(text.split()))

    @server.tool(description=f"Look up a fact about a topic. Known topics: {', '.join(sorted(FACTS))}.")
    def lookup_fact(topic: str) -> str:
        fact = FACTS.get(topic.strip().lower())
        if fact is None:
            raise ToolError(f"No fact about {topic!r}. Known topics: {', '.join(sorted(FACTS))}")
        return fact

    @server.tool(description="Return the text unchanged.")
    def echo(text: str) -> str:
        return text

    @server.tool(description="Always fails with a tool error (for tests).")
    def fail(message: str = "the fail tool always fails") -> str:
        raise ToolError(message)

    @server.tool(description=f"Sleep for some seconds (at most {MAX_SLEEP_SECONDS:g}) then answer (for tests).")
    async def slow(seconds: float) -> str:
        await anyio.sleep(min(max(seconds, 0.0), MAX_SLEEP_SECONDS))
        return f"slept {_number(seconds)}s"

    @server.tool(description="Return a caption and a 1x1 PNG image (non-text content).")
    def pixel() -> list[Any]:
        return [TextContent(type="text", text="a 1x1 transparent pixel"),
                ImageContent(type="image", data=base64.b64encode(PIXEL_PNG).decode(), mime_type="image/png")]

    return server


def build_app(host: str = "127.0.0.1") -> Any:
    """One Starlette app with both transports: streamable HTTP at /mcp, SSE at /sse (+ /messages/)."""
    server = build_server()
    app = server.streamable_http_app(streamable_http_path="/mcp", host=host)
    app.router.routes.extend(server.sse_app(sse_path="/sse", message_path="/messages/", host=host).routes)
    return app


@dataclass
class McpServerHandle:
    """A running loopback MCP server."""

    host: str
    port: int
    _server: Any = field(repr=False)
    _thread: threading.Thread = field(repr=False)

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def streamable_http_url(self) -> str:
        return f"{self.base_url}/mcp"

    @property
    def sse_url(self) -> str:
        return f"{self.base_url}/sse"

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def stop(self, timeout: float = 5.0) -> None:
        """Shut down (open SSE streams are closed after a short grace) and join the thread."""
        self._server.should_exit = True
        self._thread.join(timeout)
        if self._thread.is_alive():  # a stuck connection: stop waiting for it
            self._server.force_exit = True
            self._thread.join(timeout)

    def __enter__(self) -> "McpServerHandle":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.stop()


def start_mcp_server(host: str = "127.0.0.1", port: int = 0, ready_timeout: float = 10.0) -> McpServerHandle:
    """Start the demo MCP server in a daemon thread; returns once it accepts connections."""
    import uvicorn

    # Bind here, so port 0 gives a known free port and the socket is ours to close.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    bound_port = sock.getsockname()[1]
    config = uvicorn.Config(build_app(host), log_level="warning", lifespan="on", access_log=False,
                            timeout_graceful_shutdown=1)
    server = uvicorn.Server(config)
    server.install_signal_handlers = lambda: None  # type: ignore[method-assign]  # not the main thread

    def serve() -> None:
        try:
            server.run(sockets=[sock])
        finally:
            sock.close()

    thread = threading.Thread(target=serve, name=f"mcp-server-{bound_port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + ready_timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            thread.join(5)
            raise RuntimeError(f"the MCP server on {host}:{bound_port} did not start")
        time.sleep(0.01)
    return McpServerHandle(host, bound_port, server, thread)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve the Stratus demo MCP server on loopback.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8931)
    args = parser.parse_args(argv)
    handle = start_mcp_server(args.host, args.port)
    print(f"MCP server: streamable HTTP {handle.streamable_http_url}  SSE {handle.sse_url}", flush=True)
    try:
        while handle.running:
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        handle.stop()


if __name__ == "__main__":
    main()
