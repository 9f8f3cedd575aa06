"""What a block may ask of the platform besides its inputs: the protocols of its run kwargs.

A block that needs the user's stored data does not import the service that reads it (blocks
reach no data access: tests/unit/test_boundaries.py). The node runner passes implementations
bound to the run's user in the block's run kwargs (stratus.executions.block_services, from
`node_runner.block_kwargs`); tests pass fakes.

* `model_configs` (MODEL_CONFIGS): a `ModelConfigs`, the user's model configs by name;
* `mcp_registry` (MCP_REGISTRY): an `McpRegistry`, the user's MCP servers;
* `execution_graph` (EXECUTION_GRAPH): an `ExecutionGraph`, the graph version the node runs in
  (only in a graph execution): the SmartDecisionMaker builds its tools from the nodes its
  `tools` pins link to.
* `kv_store` (KV_STORE): a `KeyValueStore`, the user's persisted key-value data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from stratus.graphs.models import Graph
    from stratus.mag.models import McpServerConfig, ModelConfig

MODEL_CONFIGS = "model_configs"
MCP_REGISTRY = "mcp_registry"
EXECUTION_GRAPH = "execution_graph"
KV_STORE = "kv_store"


class ModelConfigs(Protocol):
    """The run's user's model configs (stratus.integrations.model_configs)."""

    def get(self, name: str) -> ModelConfig:
        """The config with its api_key; NotFound (naming it) when the user has none of that name."""
        ...


class McpRegistry(Protocol):
    """The run's user's MCP server registry (stratus.mag.service)."""

    def servers(self) -> dict[str, McpServerConfig]:
        """Every configured server, by name."""
        ...


@dataclass(frozen=True)
class GraphInfo:
    """What a tool signature says of another graph (an AgentExecutor tool): AutoGPT's graph metadata."""

    name: str
    description: str


class ExecutionGraph(Protocol):
    """The graph version a node execution runs in (stratus.executions.block_services)."""

    @property
    def node_id(self) -> str:
        """The running node's id in `graph()`."""
        ...

    def graph(self) -> Graph:
        """The graph version: its nodes and links."""
        ...

    def graph_info(self, graph_id: str, version: int) -> GraphInfo | None:
        """Name and description of a stored graph version, None when there is none."""
        ...


class KeyValueStore(Protocol):
    """The run's user's key-value data, kept across runs (AutoGPT's execution KV data)."""

    def get(self, key: str) -> Any:
        """The value stored under `key`, or None when there is none."""
        ...

    def put(self, key: str, value: Any, node_exec_id: str) -> Any:
        """Store `value` under `key` (replacing what was there); returns the value as stored
        (JSON round trip). ValueError for a key or value too large to keep."""
        ...
