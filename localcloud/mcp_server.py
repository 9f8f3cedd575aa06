"""A small deterministic MCP server on loopback: MCP clients, blocks and agents run with no network.

    handle = start_mcp_server()          # 127.0.0.1, a free port
    handle.streamable_http_url           # "http://127.0.0.1:<port>/mcp"  (streamable HTTP)
    handle.sse_url                       # "http://127.0.0.1:<port>/sse"  (SSE; messages POST to /messages/)
    handle.stop()                        # or: with start_mcp_server() as handle: ...

`start_mcp_server(wait=False)` returns at once (the port is already listening) and the server comes
up in the background; `lazy=True` also returns at once and builds the server (mcp + uvicorn imports,
~1 s of CPU) only when the first client connects. The local cloud starts it lazily: free until used.

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
import select
import socket
import threading
import time
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
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="
)


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(value)


def build_server() -> Any:
    """The demo MCP server (an `mcp.server.mcpserver.MCPServer`) with its tools."""
    import anyio
    from mcp.server.mcpserver import MCPServer
    from mcp.server.mcpserver.exceptions import ToolError
    from mcp.types import ImageContent, TextContent

    server = MCPServer(
        "stratus-demo", instructions="Deterministic demo tools of the Stratus local cloud.", log_level="WARNING"
    )

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
        return [
            TextContent(type="text", text="a 1x1 transparent pixel"),
            ImageContent(type="image", data=base64.b64encode(PIXEL_PNG).decode(), mime_type="image/png"),
        ]

    return server


def build_app(host: str = "127.0.0.1") -> Any:
    """One Starlette app with both transports: streamable HTTP at /mcp, SSE at /sse (+ /messages/)."""
    server = build_server()
    app = server.streamable_http_app(streamable_http_path="/mcp", host=host)
    app.router.routes.extend(server.sse_app(sse_path="/sse", message_path="/messages/", host=host).routes)
    return app


class McpServerHandle:
    """A loopback MCP server: its port is bound and listening from the start (connections wait in
    the backlog), the app is built and served by uvicorn in a daemon thread."""

    def __init__(self, host: str, sock: socket.socket, lazy: bool = False):
        self.host = host
        self._lazy = lazy
        self.port: int = sock.getsockname()[1]
        self._sock = sock
        self._server: Any = None
        self._stopping = False
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._serve, name=f"mcp-server-{self.port}", daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        try:
            if self._lazy and not self._first_connection():
                return
            import uvicorn  # with the mcp SDK: ~1-2 s of imports, off the caller's thread

            config = uvicorn.Config(
                build_app(self.host), log_level="warning", lifespan="on", access_log=False, timeout_graceful_shutdown=1
            )
            server = uvicorn.Server(config)
            server.install_signal_handlers = lambda: None  # type: ignore[method-assign]  # not the main thread
            self._server = server
            if not self._stopping:
                server.run(sockets=[self._sock])
        except BaseException as exc:  # noqa: BLE001 - reported by wait_ready()
            self.error = exc
        finally:
            self._sock.close()

    def _first_connection(self) -> bool:
        """Wait until a client connects (True) or stop() is called (False)."""
        while not self._stopping:
            readable, _, _ = select.select([self._sock], [], [], 0.2)
            if readable:
                return True
        return False

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

    def wait_ready(self, timeout: float = 30.0) -> McpServerHandle:
        """Block until the server answers requests."""
        deadline = time.monotonic() + timeout
        while not (self._server is not None and self._server.started):
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the MCP server on {self.host}:{self.port} did not start: {self.error!r}")
            time.sleep(0.01)
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Shut down (open SSE streams are closed after a short grace) and join the thread."""
        self._stopping = True
        if self._server is not None:
            self._server.should_exit = True
        self._thread.join(timeout)
        if self._thread.is_alive() and self._server is not None:  # a stuck connection: stop waiting for it
            self._server.force_exit = True
            self._thread.join(timeout)

    def __enter__(self) -> McpServerHandle:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"McpServerHandle({self.base_url})"


def start_mcp_server(
    host: str = "127.0.0.1", port: int = 0, wait: bool = True, lazy: bool = False, ready_timeout: float = 30.0
) -> McpServerHandle:
    """Start the demo MCP server (port 0: a free port). With `wait=False` it returns at once: the
    urls are final and early connections are served once the server is up. `lazy=True` (implies
    not waiting) builds and serves the app only when the first client connects: free until used."""
    # Bound and listening here, so the port is known and the socket is ours to close.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    handle = McpServerHandle(host, sock, lazy)
    return handle.wait_ready(ready_timeout) if wait and not lazy else handle


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
