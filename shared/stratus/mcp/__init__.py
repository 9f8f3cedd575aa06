"""MCP (Model Context Protocol): a client for remote MCP servers' tools (see stratus.mcp.client)."""
