"""Execution records: the META item as the orchestrator reads it, and AutoGPT's execution shapes.
Statuses and node executions are the engine's (stratus.engine.models)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import Field

from stratus.engine.models import ExecutionStatus, Model


class ExecutionStats(Model):
    cost: int = 0
    duration: float = 0.0
    node_exec_count: int = 0
    node_error_count: int = 0
    error: str | None = None
    # Model usage of every node execution, summed at finalize.
    input_token_count: int = 0
    output_token_count: int = 0
    llm_call_count: int = 0


class GraphExecutionSummary(Model):
    """AutoGPT's GraphExecutionMeta fields: an execution without its outputs (list entries)."""

    id: str
    user_id: str
    graph_id: str
    graph_version: int
    status: ExecutionStatus
    inputs: dict[str, Any] = Field(default_factory=dict)
    stats: ExecutionStats = Field(default_factory=ExecutionStats)
    preset_id: str | None = None
    created_at: str
    started_at: str | None = None
    ended_at: str | None = None
    share_token: str | None = None


class GraphExecution(GraphExecutionSummary):
    outputs: dict[str, list[Any]] = Field(default_factory=dict)


class ExecutionMeta(Model):
    """The META item of a graph execution, as stored: `inputs` and `outputs` may hold
    {"$s3": key} references (stratus.executions.values), `stats` is what finalize wrote ({}
    before). A sub-agent's execution names its parent node, its depth and (once started) the
    parent's task token."""

    id: str
    user_id: str
    graph_id: str
    graph_version: int
    status: ExecutionStatus
    created_at: str
    inputs: dict[str, Any] = Field(default_factory=dict)
    outputs: dict[str, list[Any]] = Field(default_factory=dict)
    stats: dict[str, Any] = Field(default_factory=dict)
    credentials_inputs: dict[str, dict[str, Any]] | None = None
    preset_id: str | None = None
    started_at: str | None = None
    ended_at: str | None = None
    error: str | None = None  # a failure of the whole graph (out of credits), before finalize
    share_token: str | None = None
    request_hashes: dict[str, str] | None = None  # the Idempotency-Key's request, when started with one
    parent_graph_exec_id: str | None = None
    parent_node_exec_id: str | None = None
    depth: int = 0
    task_token: str | None = None

    @property
    def is_final(self) -> bool:
        return self.status in (ExecutionStatus.COMPLETED, ExecutionStatus.FAILED, ExecutionStatus.TERMINATED)

    @property
    def is_stopped(self) -> bool:
        """Stopped by the user, or failed as a whole: nothing more runs."""
        return self.status in (ExecutionStatus.TERMINATED, ExecutionStatus.FAILED)

    @property
    def context(self) -> RunContext:
        return RunContext(self.user_id, self.id, self.graph_id, self.credentials_inputs or {}, self.graph_version)


@dataclass(frozen=True)
class RunContext:
    """Whose run a block run is, and in which execution: what a node run and its charges need
    (a one-off block run has no execution: ids None)."""

    user_id: str
    graph_exec_id: str | None = None
    graph_id: str | None = None
    credentials_inputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    graph_version: int | None = None
