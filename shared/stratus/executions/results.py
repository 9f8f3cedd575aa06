"""A node execution's result, stored by whoever ended it outside the orchestrator (a block
Lambda, a sub-agent's finalizer) and left for the orchestrator to route."""

from __future__ import annotations

from typing import Any

from stratus.clock import now_iso
from stratus.db import executions_table as table
from stratus.executions import values


def record_result(
    graph_exec_id: str,
    node_exec_id: str,
    output_data: dict[str, list[Any]],
    status: str,
    stats: dict[str, int] | None = None,
) -> dict[str, Any]:
    """Store a RUNNING node's final status, outputs and token stats, left for the orchestrator
    to route. Only once: a node that already ended keeps its result, and its status is returned."""
    stored = values.store_outputs(output_data, f"{graph_exec_id}/{node_exec_id}")
    if not table.record_node_result(graph_exec_id, node_exec_id, status, stored, stats, now_iso()):
        current = table.get_node(graph_exec_id, node_exec_id) or {}
        return {"node_exec_id": node_exec_id, "status": current.get("status", "UNKNOWN")}
    return {"node_exec_id": node_exec_id, "status": status}
