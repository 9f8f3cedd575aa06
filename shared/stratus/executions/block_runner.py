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
from stratus.blocks.sdk import Block
from stratus.clock import now_iso
from stratus.db import executions_table as table
from stratus.engine.models import ExecutionStatus as S
from stratus.executions import subagents, values
from stratus.executions.billing import cost_input, refund_reservation
from stratus.executions.models import ExecutionMeta, RunContext
from stratus.executions.node_runner import run_block_node
from stratus.executions.results import record_result


def run(graph_exec_id: str, node_exec_id: str, task_token: str | None = None) -> dict[str, Any]:
    result = _run(graph_exec_id, node_exec_id, task_token)
    if task_token and result["status"] != S.RUNNING.value:
        subagents.complete_task(task_token, result)
    return result


def _run(graph_exec_id: str, node_exec_id: str, task_token: str | None) -> dict[str, Any]:
    item = table.get_node(graph_exec_id, node_exec_id)
    if item is None:  # nothing to run: the execution is gone
        return {"node_exec_id": node_exec_id, "status": "MISSING"}
    if item["status"] != S.RUNNING.value:
        return {"node_exec_id": node_exec_id, "status": item["status"]}
    meta_item = table.get_meta(graph_exec_id)
    if meta_item is None:  # deleted meanwhile
        return {"node_exec_id": node_exec_id, "status": "MISSING"}
    meta = ExecutionMeta.model_validate(meta_item)
    block = get_block(item["block_id"])
    run_input = values.resolve_map(item.get("run_input") or {})
    if meta.is_stopped:
        if block is not None:  # not run: a prepaid reservation goes back
            refund_reservation(meta.context, node_exec_id, block, cost_input(meta.context, block, run_input))
        return {"node_exec_id": node_exec_id, "status": S.TERMINATED.value}
    if block is not None and block.waits_for_callback and task_token:
        return subagents.start_child(meta, node_exec_id, block, run_input, task_token)
    if block is None:
        outputs, failed, stats = [("error", f"Unknown block {item['block_id']}")], True, None
    elif _prepaid(meta.context, block, run_input) and not table.claim_run(graph_exec_id, node_exec_id, now_iso()):
        # the finalizer refunded its reservation: it does not run
        return {"node_exec_id": node_exec_id, "status": S.TERMINATED.value}
    else:
        node_run = run_block_node(meta.context, node_exec_id, block, run_input, item.get("node_id"))
        outputs, failed, stats = node_run.outputs, node_run.failed, node_run.stats
    output_data: dict[str, list[Any]] = {}
    for name, value in outputs:
        output_data.setdefault(name, []).append(value)
    return record_result(
        graph_exec_id, node_exec_id, output_data, S.FAILED.value if failed else S.COMPLETED.value, stats
    )


def _prepaid(run: RunContext, block: Block, run_input: dict[str, Any]) -> bool:
    return prepaid_token_limit(block, cost_input(run, block, run_input)) is not None
