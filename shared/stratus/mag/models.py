"""mcp-agent-graph (MAG) configuration: graphs of LLM agent nodes, MCP servers, model configs.

Field names follow MAG's JSON so its graph packages import unchanged.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

START = "start"
END = "end"
PSEUDO_NODES = (START, END)
# The block of every agent node run (stratus.blocks.ai.agent_node); here so that light modules
# (the WebSocket notifier) can recognise MAG node executions without importing the blocks.
MAG_AGENT_BLOCK_ID = "6c3b2a9e-4f1d-4e8a-9b7c-2d5e8f1a3b4c"


class McpTransport(str, Enum):
    STDIO = "stdio"
    SSE = "sse"
    STREAMABLE_HTTP = "streamable_http"


class McpServerConfig(BaseModel):
    """One entry of MAG's `{"mcpServers": {name: config}}`."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    transport_type: McpTransport = Field(default=McpTransport.STDIO, alias="transportType")
    command: str | None = None
    args: list[str] = Field(default_factory=list)
    env: dict[str, str] = Field(default_factory=dict)
    url: str | None = None
    timeout: float = Field(default=60, gt=0, le=900)
    disabled: bool = False
    auto_approve: list[str] = Field(default_factory=list, alias="autoApprove")

    @model_validator(mode="before")
    @classmethod
    def _infer_transport(cls, data: Any) -> Any:
        # MAG accepts a config with only `url` (remote) or only `command` (stdio).
        if isinstance(data, dict) and "transportType" not in data and "transport_type" not in data:
            if data.get("url") and not data.get("command"):
                data = {**data, "transportType": McpTransport.STREAMABLE_HTTP.value}
        return data

    @model_validator(mode="after")
    def _check_endpoint(self) -> McpServerConfig:
        if self.transport_type is McpTransport.STDIO and not self.command:
            raise ValueError("a stdio MCP server needs a command")
        if self.transport_type is not McpTransport.STDIO and not self.url:
            raise ValueError(f"a {self.transport_type.value} MCP server needs a url")
        return self


class ModelParameters(BaseModel):
    """OpenAI-compatible request parameters of a model config (all optional)."""

    model_config = ConfigDict(extra="ignore")

    temperature: float | None = Field(default=None, ge=0, le=2)
    max_tokens: int | None = Field(default=None, ge=1)
    top_p: float | None = Field(default=None, ge=0, le=1)
    frequency_penalty: float | None = Field(default=None, ge=-2, le=2)
    presence_penalty: float | None = Field(default=None, ge=-2, le=2)
    timeout: float | None = Field(default=None, gt=0, le=900)
    stream: bool = False


class ModelConfig(ModelParameters):
    """A named OpenAI-compatible model: MAG's model config. `api_key` is a secret."""

    name: str = Field(min_length=1, max_length=100)
    base_url: str = Field(min_length=1, max_length=2048)
    api_key: str = Field(default="", max_length=4096)
    model: str = Field(min_length=1, max_length=200)

    def parameters(self) -> dict[str, Any]:
        """The request parameters that are set (for chat.completions.create)."""
        return self.model_dump(include=set(ModelParameters.model_fields) - {"timeout", "stream"}, exclude_none=True)


class AgentNode(BaseModel):
    model_config = ConfigDict(extra="ignore")

    name: str = Field(min_length=1, max_length=100)
    description: str = ""
    model_name: str | None = None
    system_prompt: str = ""
    user_prompt: str = ""
    mcp_servers: list[str] = Field(default_factory=list)
    max_iterations: int = Field(default=50, ge=1, le=200)
    input_nodes: list[str] = Field(default_factory=list)
    output_nodes: list[str] = Field(default_factory=list)
    handoffs: int | None = Field(default=None, ge=1)
    output_enabled: bool = True
    is_subgraph: bool = False
    subgraph_name: str | None = None
    position: dict[str, float] | None = None
    level: int | None = None  # ignored on input: levels are recomputed

    @field_validator("name")
    @classmethod
    def _not_pseudo(cls, name: str) -> str:
        if name in PSEUDO_NODES:
            raise ValueError(f"{name!r} is reserved for the graph's input and output")
        return name

    @model_validator(mode="after")
    def _kind(self) -> AgentNode:
        if self.is_subgraph and not self.subgraph_name:
            raise ValueError("a subgraph node needs a subgraph_name")
        if not self.is_subgraph and not self.model_name:
            raise ValueError("an agent node needs a model_name")
        return self


class GraphConfig(BaseModel):
    model_config = ConfigDict(extra="ignore")

    name: str = Field(min_length=1, max_length=100)
    description: str = ""
    nodes: list[AgentNode] = Field(default_factory=list, max_length=200)
    end_template: str | None = None
    readme: str | None = None

    @field_validator("name")
    @classmethod
    def _plain_name(cls, name: str) -> str:
        if any(ch in name for ch in "/\\."):
            raise ValueError("a graph name cannot contain '/', '\\' or '.'")
        return name

    @model_validator(mode="after")
    def _unique_nodes(self) -> GraphConfig:
        names = [node.name for node in self.nodes]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"duplicate node names: {duplicates}")
        known = set(names) | set(PSEUDO_NODES)
        for node in self.nodes:
            unknown = [n for n in node.input_nodes + node.output_nodes if n not in known]
            if unknown:
                raise ValueError(f"node {node.name!r} refers to unknown nodes {unknown}")
        return self

    def node(self, name: str) -> AgentNode:
        return next(node for node in self.nodes if node.name == name)
