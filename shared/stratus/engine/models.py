"""The engine's records: execution statuses and node executions (AutoGPT's shapes)."""

from __future__ import annotations

from enum import Enum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class ExecutionStatus(str, Enum):
    INCOMPLETE = "INCOMPLETE"
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    TERMINATED = "TERMINATED"
    FAILED = "FAILED"


FINAL_STATUSES = {ExecutionStatus.COMPLETED, ExecutionStatus.TERMINATED, ExecutionStatus.FAILED}


class Model(BaseModel):
    """Execution shapes: floats such as inf (the Calculator can yield it) serialize as constants."""

    model_config = ConfigDict(ser_json_inf_nan="constants")


class NodeExecutionStats(Model):
    """One node execution's model usage (AutoGPT's NodeExecutionStats token fields); for an
    AgentExecutor node, its child execution's usage, and the child's cost and node count as
    AutoGPT's `extra_cost` / `extra_steps`."""

    input_token_count: int = 0
    output_token_count: int = 0
    llm_call_count: int = 0
    extra_cost: int = 0
    extra_steps: int = 0


class NodeExecution(Model):
    node_exec_id: str
    graph_exec_id: str
    node_id: str
    block_id: str
    status: ExecutionStatus
    seq: int = 0
    input_data: dict[str, Any] = Field(default_factory=dict)
    output_data: dict[str, list[Any]] = Field(default_factory=dict)
    add_time: str | None = None
    queue_time: str | None = None
    start_time: str | None = None
    end_time: str | None = None
    stats: NodeExecutionStats | None = None
    child_graph_exec_id: str | None = None  # the sub-agent execution an AgentExecutor node started
