"""What a block Lambda does with one node execution: run it and store its outputs.

Idempotent: only a RUNNING node runs, and its result is written on that condition, so a
retried invocation never stores a second result.

Blocks that wait for a callback (the AgentExecutor) come with the state machine's task
token: the node finishes later, elsewhere, and whoever finishes it completes the token. When
this invocation itself ends the node (or finds it ended), it completes the token.
"""

from __future__ import annotations

from typing import Any

from stratus.blocks.costs import prepaid_token_limit
from stratus.blocks.registry import get_block
from stratus.clock import now_iso
from stratus.db.dynamo import ConditionFailed
from stratus.db.executions_table import executions_table, meta_key, node_key, run_claim_key
from stratus.executions import values
from stratus.executions.block_context import cost_input, refund_reservation, run_block_node
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
    block = get_block(item["block_id"])
    run_input = values.resolve_map(item.get("run_input") or {})
    if meta.get("status") in (S.TERMINATED.value, S.FAILED.value):
        if block is not None and meta.get("user_id"):  # not run: a prepaid reservation goes back
            refund_reservation(meta, node_exec_id, block, cost_input(meta, block, run_input))
        return {"node_exec_id": node_exec_id, "status": S.TERMINATED.value}
    if block is not None and block.waits_for_callback and task_token:
        from stratus.executions import subagents

        return subagents.start_child(meta, item, block, run_input, task_token)
    if block is None:
        outputs, failed, stats = [("error", f"Unknown block {item['block_id']}")], True, None
    elif _prepaid(meta, block, run_input) and not _claim_reservation(graph_exec_id, node_exec_id):
        # the finalizer refunded its reservation: it does not run
        return {"node_exec_id": node_exec_id, "status": S.TERMINATED.value}
    else:
        node_run = run_block_node(meta, node_exec_id, block, run_input)
        outputs, failed, stats = node_run.outputs, node_run.failed, node_run.stats
    output_data: dict[str, list[Any]] = {}
    for name, value in outputs:
        output_data.setdefault(name, []).append(value)
    return record_result(
        graph_exec_id, node_exec_id, output_data, S.FAILED.value if failed else S.COMPLETED.value, stats
    )


def _prepaid(meta: dict[str, Any], block: Any, run_input: dict[str, Any]) -> bool:
    return prepaid_token_limit(block, cost_input(meta, block, run_input)) is not None


def _claim_reservation(graph_exec_id: str, node_exec_id: str) -> bool:
    """Mark the node's run as started, unless the finalizer released its reservation first
    (a retried invocation finds its own mark). One item decides, so a run is never refunded."""
    try:
        executions_table().put(
            {**run_claim_key(graph_exec_id, node_exec_id), "state": "STARTED", "at": now_iso()},
            condition="attribute_not_exists(PK) OR #state = :started",
            names={"#state": "state"},
            values={":started": "STARTED"},
        )
        return True
    except ConditionFailed:
        return False


def record_result(
    graph_exec_id: str,
    node_exec_id: str,
    output_data: dict[str, list[Any]],
    status: str,
    stats: dict[str, int] | None = None,
) -> dict[str, Any]:
    """Store a RUNNING node's final status, outputs and token stats, left for the orchestrator
    to route. Only once: a node that already ended keeps its result, and its status is returned."""
    table = executions_table()
    update = "SET #status = :status, output_data = :outputs, end_time = :now, routed = :false"
    changes = {
        ":status": status,
        ":now": now_iso(),
        ":false": False,
        ":running": S.RUNNING.value,
        ":outputs": values.store_outputs(output_data, f"{graph_exec_id}/{node_exec_id}"),
    }
    if stats:
        update, changes[":stats"] = update + ", stats = :stats", stats
    try:
        table.update(
            node_key(graph_exec_id, node_exec_id),
            update,
            names={"#status": "status"},
            values=changes,
            condition="#status = :running",
        )
    except ConditionFailed:
        current = table.get(node_key(graph_exec_id, node_exec_id), consistent=True) or {}
        return {"node_exec_id": node_exec_id, "status": current.get("status", "UNKNOWN")}
    return {"node_exec_id": node_exec_id, "status": status}
