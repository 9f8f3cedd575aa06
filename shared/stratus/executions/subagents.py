"""Sub-agents: an AgentExecutor node runs another graph as a child execution.

The parent's state machine invokes the block Lambda with a task token
(`lambda:invoke.waitForTaskToken`) and waits; no Lambda runs meanwhile.

1. `start_child` (block Lambda): start the child through the launcher, as the parent's user
   with the parent's credentials_inputs (the keys the child's graph takes), with an id
   derived from the parent node execution (a retried invocation finds the same
   child), then hand the token to the child's META item.
2. `on_finalized` (the child's finalize step): write the child's outputs onto the parent node
   (AutoGPT: each output value is a yield of that name; a FAILED or TERMINATED child fails the
   node with its error), then SendTaskSuccess({node_exec_id, status}) so the parent goes on.
3. A parent that ends TERMINATED or FAILED stops the children its unfinished nodes started.

Token hand-over without a lost wake-up: the finalizer writes the final status and reads the
token in one UpdateItem; `start_child` writes the token and reads the status in one
UpdateItem. Whichever comes second sees the other's write and completes the token itself
(delivery is idempotent: the parent node is written only while it is RUNNING).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, cast

from stratus.blocks.registry import get_block
from stratus.blocks.sdk import Block, BlockInputError
from stratus.db import executions_table as table
from stratus.engine.models import ExecutionStatus as S
from stratus.engine.models import NodeExecution, NodeExecutionStats
from stratus.errors import StratusError
from stratus.executions import values
from stratus.executions.ids import child_execution_id, subagent_key
from stratus.executions.models import ExecutionMeta
from stratus.executions.results import record_result
from stratus.observability import logger

if TYPE_CHECKING:
    from stratus.blocks.core.agent import AgentExecutorBlock

# A graph that runs itself (directly or not) stops here instead of looping forever.
MAX_DEPTH = 5
# The parent stopped waiting (stopped, timed out) or was already told.
_STALE_TOKEN_ERRORS = ("TaskTimedOut", "InvalidToken", "TaskDoesNotExist")


def start_child(
    meta: ExecutionMeta, node_exec_id: str, block: Block, run_input: dict[str, Any], task_token: str
) -> dict[str, Any]:
    """Start (or find) the child execution of a RUNNING AgentExecutor node of `meta`'s execution.

    Returns status RUNNING while the child runs; a final status when the node ended here
    (the child could not start, or had already finished)."""
    from stratus.executions import launcher  # lazy (cold start): only AgentExecutor nodes start one

    graph_exec_id = meta.id
    try:
        agent = cast("AgentExecutorBlock.Input", block.validate_input(block.convert_input(run_input)))
    except BlockInputError as exc:
        return _fail(graph_exec_id, node_exec_id, str(exc))
    depth = meta.depth + 1
    if depth > MAX_DEPTH:
        return _fail(
            graph_exec_id,
            node_exec_id,
            f"Sub-agent nesting is limited to {MAX_DEPTH} levels: graph {agent.graph_id} was not started "
            f"(does the agent run itself?).",
        )
    try:
        child = launcher.start_execution(
            meta.user_id,
            agent.graph_id,
            agent.graph_version,
            agent.inputs,
            idempotency_key=subagent_key(node_exec_id),
            extra_meta={"parent_graph_exec_id": graph_exec_id, "parent_node_exec_id": node_exec_id, "depth": depth},
            inherited_credentials=meta.credentials_inputs,  # the user's keys given at the top
        )
    except StratusError as exc:
        return _fail(graph_exec_id, node_exec_id, f"The sub-agent could not start: {_message(exc)}")
    table.set_child(graph_exec_id, node_exec_id, child.id)
    child_meta = ExecutionMeta.model_validate(table.set_task_token(child.id, task_token))
    if child_meta.is_final:  # it finished before it had the token: deliver here
        return deliver(child_meta)
    logger.info(
        "Sub-agent started",
        extra={
            "graph_exec_id": graph_exec_id,
            "node_exec_id": node_exec_id,
            "child_graph_exec_id": child.id,
            "depth": depth,
        },
    )
    return {"node_exec_id": node_exec_id, "status": S.RUNNING.value}


def _fail(graph_exec_id: str, node_exec_id: str, error: str) -> dict[str, Any]:
    return record_result(graph_exec_id, node_exec_id, {"error": [error]}, S.FAILED.value)


def _message(exc: StratusError) -> str:
    detail = exc.detail
    if isinstance(detail, dict):
        errors = "; ".join(
            f"{pin}: {message}" for pins in (detail.get("node_errors") or {}).values() for pin, message in pins.items()
        )
        return f"{detail.get('message', '')} {errors}".strip()
    return str(detail)


def deliver(child_meta: ExecutionMeta) -> dict[str, Any]:
    """Write a finished child's outputs and status onto its parent node (once)."""
    parent_exec_id, parent_node_id = child_meta.parent_graph_exec_id, child_meta.parent_node_exec_id
    assert parent_exec_id is not None and parent_node_id is not None, "not a sub-agent's execution"
    parent = table.get_meta(parent_exec_id)
    if parent is None or parent["status"] in (S.TERMINATED.value, S.FAILED.value):
        return record_result(parent_exec_id, parent_node_id, {}, S.TERMINATED.value)
    outputs = values.resolve_outputs(child_meta.outputs)
    usage = _rolled_up_usage(child_meta.stats)
    if child_meta.status is S.COMPLETED:
        return record_result(parent_exec_id, parent_node_id, outputs, S.COMPLETED.value, usage)
    reason = child_meta.stats.get("error") or child_meta.error or "no error recorded"
    error = f"Sub-agent execution {child_meta.id} ended {child_meta.status.value}: {reason}"
    return record_result(parent_exec_id, parent_node_id, {**outputs, "error": [error]}, S.FAILED.value, usage)


def _rolled_up_usage(child_stats: dict[str, Any]) -> dict[str, int]:
    """The child's spend as its parent node's stats, so the parent's stats include it (AutoGPT
    rolls a sub-agent's cost up as `extra_cost`)."""
    usage = NodeExecutionStats(
        input_token_count=int(child_stats.get("input_token_count") or 0),
        output_token_count=int(child_stats.get("output_token_count") or 0),
        llm_call_count=int(child_stats.get("llm_call_count") or 0),
        extra_cost=int(child_stats.get("cost") or 0),
        extra_steps=int(child_stats.get("node_exec_count") or 0),
    )
    return usage.model_dump()


def complete_task(task_token: str, result: dict[str, Any]) -> None:
    """SendTaskSuccess with the node's id and status; the node itself is already stored."""
    from botocore.exceptions import ClientError

    from stratus.aws import client

    output = json.dumps({"node_exec_id": result["node_exec_id"], "status": result["status"]})
    try:
        client("stepfunctions").send_task_success(taskToken=task_token, output=output)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") not in _STALE_TOKEN_ERRORS:
            raise
        logger.info("Task token no longer waited on", extra={"node_exec_id": result["node_exec_id"]})


def on_finalized(meta: ExecutionMeta, node_execs: list[NodeExecution]) -> None:
    """After a graph execution's final status is stored (`meta` as written)."""
    if meta.parent_node_exec_id:
        result = deliver(meta)
        if meta.task_token:
            complete_task(meta.task_token, result)
    if meta.is_stopped:
        stop_children(
            meta.user_id,
            [
                e.node_exec_id
                for e in node_execs
                if waits_for_callback(e.block_id) and e.status not in (S.COMPLETED, S.FAILED)
            ],
        )


def waits_for_callback(block_id: str) -> bool:
    """Whether nodes of this block run a child execution the state machine waits on."""
    block = get_block(block_id)
    return block is not None and block.waits_for_callback


def stop_children(user_id: str, parent_node_exec_ids: list[str]) -> None:
    """Stop the child executions these parent nodes started (if any, and if unfinished).
    Each child's own finalizer then stops its children in turn."""
    if not parent_node_exec_ids:
        return
    from stratus.executions.commands import request_stop  # lazy (cold start): only stopped parents

    for node_exec_id in parent_node_exec_ids:
        child_id = child_execution_id(user_id, node_exec_id)
        try:
            request_stop(user_id, child_id)
            logger.info("Sub-agent stopped with its parent", extra={"child_graph_exec_id": child_id})
        except StratusError:
            pass  # never started, or already finished
