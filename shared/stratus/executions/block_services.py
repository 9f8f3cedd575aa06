"""The platform's side of stratus.blocks.services: the run's user's stored data, for blocks.

`block_services(user_id)` is part of every block's run kwargs (node_runner.block_kwargs).
Nothing is read until a block asks, and the stores are imported only then (cold starts: most
blocks never ask).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from stratus.blocks.services import MCP_REGISTRY, MODEL_CONFIGS

if TYPE_CHECKING:
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


def block_services(user_id: str) -> dict[str, Any]:
    """The services run kwargs of a block run for `user_id`."""
    return {MODEL_CONFIGS: UserModelConfigs(user_id), MCP_REGISTRY: UserMcpRegistry(user_id)}
