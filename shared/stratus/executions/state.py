"""An execution's state between steps: load META, node executions and static values into a
`Step` (with the execution's flow, resolved once), and commit what the engine changed.

The orchestrator loads a whole execution with one Query of its partition and writes each
step's changes in transactions (whole nodes with every sink execution they touched), so a
re-run step finds its own work already done.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from stratus.clock import now_iso
from stratus.db import executions_table as table
from stratus.engine.dataflow import EngineState
from stratus.engine.models import NodeExecution
from stratus.errors import NotFound
from stratus.executions import flows, values
from stratus.executions.graph_versions import graph_version
from stratus.executions.models import ExecutionMeta


@dataclass
class Step:
    """One orchestrator step's view of an execution."""

    meta: ExecutionMeta
    state: EngineState
    flow: flows.Flow

    @property
    def user_id(self) -> str:
        return self.meta.user_id


def get_meta(graph_exec_id: str) -> ExecutionMeta | None:
    item = table.get_meta(graph_exec_id)
    return ExecutionMeta.model_validate(item) if item else None


def load(graph_exec_id: str) -> Step:
    found = table.partition(graph_exec_id)
    if found.meta is None:
        raise NotFound(f"Execution {graph_exec_id} not found.")
    meta = ExecutionMeta.model_validate(found.meta)
    state = EngineState(graph_exec_id, graph_version(meta.graph_id, meta.graph_version), now=now_iso)
    for item in sorted(found.nodes, key=lambda i: int(i.get("seq", 0))):
        node_exec = node_from_item(item)
        state.add(node_exec)
        if item.get("routed") is False and item["status"] in ("COMPLETED", "FAILED"):
            state.unrouted.add(node_exec.node_exec_id)
    for item in found.statics:
        # A None value is stored as no `value` attribute (items hold no top-level nulls).
        state.static_values[(item["node_id"], item["pin"])] = values.resolve(item.get("value"))
    return Step(meta, state, flows.for_execution(meta))


def node_from_item(item: dict[str, Any]) -> NodeExecution:
    return NodeExecution(
        node_exec_id=item["node_exec_id"],
        graph_exec_id=item["graph_exec_id"],
        node_id=item["node_id"],
        block_id=item["block_id"],
        status=item["status"],
        seq=int(item.get("seq", 0)),
        input_data=values.resolve_map(item.get("input_data") or {}),
        output_data=values.resolve_outputs(item.get("output_data") or {}),
        add_time=item.get("add_time"),
        queue_time=item.get("queue_time"),
        start_time=item.get("start_time"),
        end_time=item.get("end_time"),
        stats=item.get("stats"),
        child_graph_exec_id=item.get("child_graph_exec_id"),
    )


def node_attributes(user_id: str, node_exec: NodeExecution, **extra: Any) -> dict[str, Any]:
    """A node execution as stored: large values by reference."""
    prefix = f"{node_exec.graph_exec_id}/{node_exec.node_exec_id}"
    return {
        "kind": "node",
        "user_id": user_id,
        **node_exec.model_dump(exclude={"input_data", "output_data"}, mode="json"),
        "input_data": values.store_map(node_exec.input_data, f"{prefix}/in"),
        "output_data": values.store_outputs(node_exec.output_data, prefix),
        **extra,
    }


def commit(step: Step, extra: dict[str, dict[str, Any]] | None = None) -> int:
    """Write every change the engine made since the last commit; returns the item count.
    `extra`: more attributes for some node executions (by id)."""
    state = step.state
    node_execs, statics = state.take_changes()
    nodes = [node_attributes(step.user_id, e, **(extra or {}).get(e.node_exec_id, {})) for e in node_execs]
    static_items = [
        {
            "node_id": node_id,
            "pin": pin,
            "value": values.store(value, f"{state.graph_exec_id}/static/{node_id}/{pin}.json"),
        }
        for (node_id, pin), value in statics.items()
    ]
    return table.write_changes(state.graph_exec_id, nodes, static_items)
