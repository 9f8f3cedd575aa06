"""What a block Lambda does with one node execution: run it and store its outputs.

Idempotent: only a RUNNING node runs, and its result is written on that condition, so a
retried invocation never stores a second result.
"""

from __future__ import annotations

from typing import Any

from stratus.blocks.registry import get_block
from stratus.clock import now_iso
from stratus.db.dynamo import ConditionFailed
from stratus.db.executions_table import executions_table, meta_key, node_key
from stratus.executions import values
from stratus.executions.block_context import run_block_node
from stratus.executions.models import ExecutionStatus as S


def run(graph_exec_id: str, node_exec_id: str) -> dict[str, Any]:
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
    if block is None:
        outputs, failed, stats = [("error", f"Unknown block {item['block_id']}")], True, None
    else:
        node_run = run_block_node(meta, node_exec_id, block, run_input)  # charges usage costs (TOKEN, SECOND)
        outputs, failed, stats = node_run.outputs, node_run.failed, node_run.stats
    output_data: dict[str, list[Any]] = {}
    for name, value in outputs:
        output_data.setdefault(name, []).append(value)
    status = S.FAILED.value if failed else S.COMPLETED.value
    try:
        table.update(node_key(graph_exec_id, node_exec_id),
                     "SET #status = :status, output_data = :outputs, end_time = :now, routed = :false"
                     + (", stats = :stats" if stats else ""),
                     names={"#status": "status"},
                     values={":status": status, ":now": now_iso(), ":false": False, ":running": S.RUNNING.value,
                             **({":stats": stats} if stats else {}),
                             ":outputs": values.store_outputs(output_data, f"{graph_exec_id}/{node_exec_id}")},
                     condition="#status = :running")
    except ConditionFailed:
        current = table.get(node_key(graph_exec_id, node_exec_id), consistent=True) or {}
        return {"node_exec_id": node_exec_id, "status": current.get("status", "UNKNOWN")}
    return {"node_exec_id": node_exec_id, "status": status}
