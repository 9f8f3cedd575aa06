"""What a block Lambda does with one node execution: run it and store its outputs.

Idempotent: only a RUNNING node runs, and its result is written on that condition, so a
retried invocation never stores a second result.

Blocks that wait for a callback (the AgentExecutor) come with the state machine's task
token: the node finishes later, elsewhere, and whoever finishes it completes the token. When
this invocation itself ends the node (or finds it ended), it completes the token.
"""

from __future__ import annotations

import asyncio
from typing import Any

from stratus.blocks.registry import get_block
from stratus.clock import now_iso
from stratus.db.dynamo import ConditionFailed
from stratus.db.executions_table import executions_table, meta_key, node_key
from stratus.engine.execute import run_node
from stratus.executions import values
from stratus.executions.models import ExecutionStatus as S


def run(graph_exec_id: str, node_exec_id: str, task_token: str | None = None) -> dict[str, Any]:
    result = _run(graph_exec_id, node_exec_id, task_token)
    if task_token and result["status"] != S.RUNNING.value:
        from stratus.executions import subagents

        subagents.complete_task(task_token, result)
    return result


def _run(graph_exec_id: str, node_exec_id: str, task_token: str | None) -> dict[str, Any]:
    table = executions_table()
    item = table.get(node_key(graph_exec_id, node_exec_id), consistent=True)
    if item is None:  # nothing to run: the execution is gone
        return {"node_exec_id": node_exec_id, "status": "MISSING"}
    if item["status"] != S.RUNNING.value:
        return {"node_exec_id": node_exec_id, "status": item["status"]}
    meta = table.get(meta_key(graph_exec_id), consistent=True) or {}
    if meta.get("status") in (S.TERMINATED.value, S.FAILED.value):
        return {"node_exec_id": node_exec_id, "status": S.TERMINATED.value}
    block = get_block(item["block_id"])
    run_input = values.resolve_map(item.get("run_input") or {})
    if block is not None and block.waits_for_callback and task_token:
        from stratus.executions import subagents

        return subagents.start_child(meta, item, block, run_input, task_token)
    if block is None:
        outputs, failed = [("error", f"Unknown block {item['block_id']}")], True
    else:
        outputs, failed = asyncio.run(run_node(block, run_input, user_id=item["user_id"],
                                               graph_exec_id=graph_exec_id, graph_id=meta.get("graph_id")))
    output_data: dict[str, list[Any]] = {}
    for name, value in outputs:
        output_data.setdefault(name, []).append(value)
    return record_result(graph_exec_id, node_exec_id, output_data, S.FAILED.value if failed else S.COMPLETED.value)


def record_result(graph_exec_id: str, node_exec_id: str, output_data: dict[str, list[Any]],
                  status: str) -> dict[str, Any]:
    """Store a RUNNING node's final status and outputs, left for the orchestrator to route.
    Only once: a node that already ended keeps its result, and its status is returned."""
    table = executions_table()
    try:
        table.update(node_key(graph_exec_id, node_exec_id),
                     "SET #status = :status, output_data = :outputs, end_time = :now, routed = :false",
                     names={"#status": "status"},
                     values={":status": status, ":now": now_iso(), ":false": False, ":running": S.RUNNING.value,
                             ":outputs": values.store_outputs(output_data, f"{graph_exec_id}/{node_exec_id}")},
                     condition="#status = :running")
    except ConditionFailed:
        current = table.get(node_key(graph_exec_id, node_exec_id), consistent=True) or {}
        return {"node_exec_id": node_exec_id, "status": current.get("status", "UNKNOWN")}
    return {"node_exec_id": node_exec_id, "status": status}
