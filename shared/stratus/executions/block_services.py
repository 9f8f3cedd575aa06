"""The platform's side of stratus.blocks.services: the run's user's stored data, for blocks.

`block_services(user_id)` is part of every block's run kwargs (node_runner.block_kwargs).
Nothing is read until a block asks, and the stores are imported only then (cold starts: most
blocks never ask).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from stratus.blocks.services import EXECUTION_GRAPH, KV_STORE, MCP_REGISTRY, MODEL_CONFIGS, GraphInfo

if TYPE_CHECKING:
    from stratus.graphs.models import Graph
    from stratus.mag.models import McpServerConfig, ModelConfig


@dataclass(frozen=True)
class UserModelConfigs:
    """`ModelConfigs` of one user: stored in the users table, api_key sealed with KMS."""

    user_id: str

    def get(self, name: str) -> ModelConfig:
        from stratus.integrations.model_configs import get_model_config

        return get_model_config(self.user_id, name)


@dataclass(frozen=True)
class UserMcpRegistry:
    """`McpRegistry` of one user: the MAG MCP server registry (one GetItem)."""

    user_id: str

    def servers(self) -> dict[str, McpServerConfig]:
        from stratus.mag.service import get_mcp_servers

        return get_mcp_servers(self.user_id)


@dataclass(frozen=True)
class StoredExecutionGraph:
    """`ExecutionGraph` of a node in a stored graph version (GraphsTable, cached per container:
    versions are immutable)."""

    graph_id: str
    graph_version: int
    node_id: str

    def graph(self) -> Graph:
        from stratus.executions.graph_versions import graph_version

        return graph_version(self.graph_id, self.graph_version)

    def graph_info(self, graph_id: str, version: int) -> GraphInfo | None:
        from stratus.errors import NotFound
        from stratus.executions.graph_versions import version_item

        try:
            item = version_item(graph_id, int(version))
        except (NotFound, ValueError, TypeError):
            return None
        return GraphInfo(name=str(item.get("name") or ""), description=str(item.get("description") or ""))


@dataclass(frozen=True)
class UserKeyValueStore:
    """`KeyValueStore` of one user: JSON text items in the users table (`KV#<key>`)."""

    user_id: str

    def get(self, key: str) -> Any:
        import json

        from stratus.db.users_table import get_kv_data

        data = get_kv_data(self.user_id, key)
        return json.loads(data) if data is not None else None

    def put(self, key: str, value: Any, node_exec_id: str) -> Any:
        import json

        from stratus.clock import now_iso
        from stratus.db.users_table import KV_DATA_MAX_BYTES, KV_KEY_MAX_BYTES, put_kv_data

        if len(key.encode()) > KV_KEY_MAX_BYTES:
            raise ValueError(f"The key is too long to persist: at most {KV_KEY_MAX_BYTES} bytes with its scope.")
        data = json.dumps(value, allow_nan=True, default=str)
        size = len(data.encode())
        if size > KV_DATA_MAX_BYTES:
            raise ValueError(f"Value too large to persist: {size:,} bytes of JSON (limit {KV_DATA_MAX_BYTES:,}).")
        put_kv_data(self.user_id, key, data, node_exec_id, now_iso())
        return json.loads(data)


def block_services(
    user_id: str, graph_id: str | None = None, graph_version: int | None = None, node_id: str | None = None
) -> dict[str, Any]:
    """The services run kwargs of a block run for `user_id` (and, in a graph execution, its node)."""
    services: dict[str, Any] = {
        MODEL_CONFIGS: UserModelConfigs(user_id),
        MCP_REGISTRY: UserMcpRegistry(user_id),
        KV_STORE: UserKeyValueStore(user_id),
    }
    if graph_id and graph_version is not None and node_id:
        services[EXECUTION_GRAPH] = StoredExecutionGraph(graph_id, graph_version, node_id)
    return services
