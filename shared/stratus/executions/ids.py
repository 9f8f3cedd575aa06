"""Execution ids derived from what names them, so a retry finds the same execution."""

from __future__ import annotations

import uuid

_IDEMPOTENT_IDS = uuid.UUID("8f0c6a3e-5b1d-4c55-9a0e-6f1f4e2b7c11")


def idempotent_execution_id(user_id: str, idempotency_key: str) -> str:
    """The graph execution id an idempotency key always names (per user)."""
    return str(uuid.uuid5(_IDEMPOTENT_IDS, f"{user_id}:{idempotency_key}"))


def subagent_key(parent_node_exec_id: str) -> str:
    """The idempotency key a sub-agent is started with: one child per parent node execution."""
    return f"subagent:{parent_node_exec_id}"


def child_execution_id(user_id: str, parent_node_exec_id: str) -> str:
    """The id of the child execution an AgentExecutor node execution starts."""
    return idempotent_execution_id(user_id, subagent_key(parent_node_exec_id))
