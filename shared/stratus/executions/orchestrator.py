"""The Step Functions loop's steps: start, advance, finalize.

Payloads carry ids only. Each step loads the execution once (stratus.executions.state: its
META, node executions and flow). Cheap blocks run inline here; the engine's changes are
committed in groups, each transaction holding whole nodes with every sink execution they
touched (their status, their outputs), so re-running a step finds finished nodes finished,
creates nothing twice and redoes at most one group of pure, cheap blocks. Credits are charged
before each node runs with the node execution id as the idempotency key. Blocks that wait on
the network or the clock go back to the state machine as a batch for its Map state.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from stratus.blocks.costs import cost_before_run, prepaid_token_limit
from stratus.blocks.registry import block_function_arn, get_block
from stratus.blocks.sdk import Block
from stratus.clock import now_iso
from stratus.config import ExecutionLimitsSettings, get_settings
from stratus.db import executions_table as table
from stratus.engine import dataflow
from stratus.engine.models import ExecutionStatus as S
from stratus.engine.models import NodeExecution, NodeExecutionStats
from stratus.errors import InsufficientBalance
from stratus.executions import state as step_state
from stratus.executions import subagents, values
from stratus.executions.billing import cost_input, refund_reservation
from stratus.executions.models import ExecutionMeta, ExecutionStats
from stratus.executions.node_runner import run_block_node
from stratus.executions.state import Step
from stratus.observability import logger
from stratus.users import credits

HISTORY_BUDGET = 25_000  # Step Functions' hard limit of events in one execution's history
HISTORY_MARGIN = 5_000  # continue as new well before it (retries add events we do not count)
# Events each turn of the loop adds to the history (Standard workflows):
EVENTS_PER_LOOP = 7  # Route (Choice entered/exited) + Advance (Task entered/scheduled/started/succeeded/exited)
EVENTS_PER_MAP = 4  # RunBlocks: MapState entered/started/succeeded/exited
EVENTS_PER_MAP_ITEM = 9  # MapIteration started/succeeded + HowToRun (Choice, 2) + RunBlock (Task, 5)
STOP_CHECK_SECONDS = 0.5
SAFETY_MS = 15_000  # leave the step before its Lambda timeout
# Inline nodes are committed in groups: one transaction holds whole nodes with every sink
# execution they touched, so a re-run step redoes at most one group of pure, cheap blocks.
COMMIT_ITEMS = 40
COMMIT_SECONDS = 0.2


def _response(
    step: Step, history: int, batch: list[dict[str, Any]] | None = None, done: bool = False
) -> dict[str, Any]:
    """The step's answer to the state machine. `history`: the events of this state machine
    execution so far (estimated); near the budget it continues as new under a name made
    unique by the execution's node runs (every generation runs some), so successive
    generations of one long loop never collide on a name."""
    graph_exec_id = step.state.graph_exec_id
    size = len(batch or [])
    history += EVENTS_PER_LOOP + (EVENTS_PER_MAP + EVENTS_PER_MAP_ITEM * size if size else 0)
    return {
        "graph_exec_id": graph_exec_id,
        "batch": batch or [],
        "done": done,
        "history": history,
        "continue_as_new": not done and history > HISTORY_BUDGET - HISTORY_MARGIN,
        "next_name": f"{graph_exec_id}-{step.state.node_runs}-{history}",
    }


def _map_item(graph_exec_id: str, node_exec_id: str, block: Block) -> dict[str, Any]:
    return {
        "graph_exec_id": graph_exec_id,
        "node_exec_id": node_exec_id,
        "function_arn": block_function_arn(block.group),
        "callback": block.waits_for_callback,
    }


def start_step(graph_exec_id: str, remaining_ms: Callable[[], int], history: int = 0) -> dict[str, Any]:
    step = step_state.load(graph_exec_id)
    meta, state = step.meta, step.state
    if meta.is_final:
        return _response(step, history, done=True)
    if meta.status is S.QUEUED:
        # False: a re-run of this step, or a stop that got there first
        table.set_meta_if_status(graph_exec_id, S.QUEUED.value, {"status": S.RUNNING.value, "started_at": now_iso()})
    # The launcher wrote the first node executions with the META item; a state machine started
    # without them (e.g. restarted from the console) plans them here.
    if not state.node_execs:  # a resumed (continued-as-new) execution keeps its nodes
        step.flow.start(state, values.resolve_map(meta.inputs))
        step_state.commit(step)
    # A resumed execution (continued as new, restarted) may hold results no step routed yet,
    # and nodes dispatched to a Map that no longer runs: route the first, dispatch the second.
    _route_lambda_results(step)
    stranded = _redispatch(step)
    if stranded:
        return _response(step, history, batch=stranded)
    return _drive(step, remaining_ms, history)


def _redispatch(step: Step) -> list[dict[str, Any]]:
    """Map items again for RUNNING nodes (their run input is stored; charges are idempotent).
    The block Lambda runs a node only while it is RUNNING, and a sub-agent node hands its
    existing child the new task token."""
    state, batch = step.state, []
    for node_exec in state.by_status(S.RUNNING):
        block = get_block(node_exec.block_id)
        if block is None:
            dataflow.complete(state, node_exec, [("error", f"Unknown block {node_exec.block_id}")], True)
            continue
        batch.append(_map_item(state.graph_exec_id, node_exec.node_exec_id, block))
    step_state.commit(step)
    return batch


def advance_step(
    graph_exec_id: str, results: list[dict[str, Any]], remaining_ms: Callable[[], int], history: int = 0
) -> dict[str, Any]:
    step = step_state.load(graph_exec_id)
    state = step.state
    failures = {r["node_exec_id"]: r.get("error") for r in results or [] if r.get("status") == S.FAILED.value}
    for node_exec in state.by_status(S.RUNNING):
        # The block Lambda failed for good (the Map caught it): the node fails, the graph goes on.
        if node_exec.node_exec_id in failures:
            dataflow.complete(state, node_exec, [("error", _short(failures[node_exec.node_exec_id]))], True)
            step_state.commit(step)
            if subagents.waits_for_callback(node_exec.block_id):  # its wait timed out: stop its child
                subagents.stop_children(step.user_id, [node_exec.node_exec_id])
    _route_lambda_results(step)
    return _drive(step, remaining_ms, history)


def _short(error: Any) -> str:
    return str(error or "Block function failed")[:1000]


def _route_lambda_results(step: Step) -> None:
    """Nodes a block Lambda finished are stored with `routed = False` until routed here."""
    state = step.state
    for node_exec_id in sorted(state.unrouted, key=lambda i: state.node_execs[i].seq):
        dataflow.route_finished(state, state.node_execs[node_exec_id])
        step_state.commit(step, {node_exec_id: {"routed": True}})


def _drive(step: Step, remaining_ms: Callable[[], int], history: int) -> dict[str, Any]:
    state = step.state
    graph_exec_id = state.graph_exec_id
    last_stop_check = last_commit = time.monotonic()

    def respond(**kwargs: Any) -> dict[str, Any]:
        step_state.commit(step)
        return _response(step, history, **kwargs)

    while True:
        now = time.monotonic()
        if len(state.changed) >= COMMIT_ITEMS or now - last_commit > COMMIT_SECONDS:
            step_state.commit(step)
            last_commit = now
        if now - last_stop_check > STOP_CHECK_SECONDS:
            last_stop_check = now
            current = step_state.get_meta(graph_exec_id)
            if current is not None and current.is_stopped:
                dataflow.terminate(state)
                return respond(done=True)
        queued = state.queued()
        if not queued:
            if step.flow.plan_next(state):  # MAG: the next level's batch
                continue
            return respond(done=state.is_finished())
        inline = [e for e in queued if (b := get_block(e.block_id)) is None or b.runs_inline]
        if not inline:
            step_state.commit(step)
            return _response(step, history, batch=_dispatch(step, queued))
        for node_exec in inline:
            if remaining_ms() < SAFETY_MS:
                return respond()  # the state machine calls advance again
            if not _run_inline(step, node_exec):
                return respond(done=True)
            if len(state.changed) >= COMMIT_ITEMS:
                break


def _charge(step: Step, node_exec: NodeExecution, block: Block, run_input: dict[str, Any]) -> bool:
    """Charge the node's cost (a TOKEN cost's reservation too: settled after the run); running
    out fails the whole graph (AutoGPT semantics)."""
    meta = step.meta
    priced = cost_input(meta.context, block, run_input)
    amount = cost_before_run(block, priced)
    if not amount:
        return True
    limit = prepaid_token_limit(block, priced)  # marks a reservation (settled or refunded later)
    try:
        credits.charge(
            meta.user_id,
            amount,
            node_exec.node_exec_id,
            description=f"Block {block.name}",
            metadata={
                "graph_exec_id": step.state.graph_exec_id,
                "graph_id": meta.graph_id,
                "node_exec_id": node_exec.node_exec_id,
                **({"token_limit": limit} if limit is not None else {}),
            },
        )
        return True
    except InsufficientBalance as exc:
        fail_graph(step, str(exc.detail))
        return False


def node_run_budget() -> int:
    return get_settings(ExecutionLimitsSettings).max_node_runs_per_execution


def budget_error(budget: int) -> str:
    return (
        f"The execution exceeded its budget of {budget} node runs (MaxNodeRunsPerExecution) and was "
        "stopped: a loop in the graph may never end."
    )


def _within_budget(step: Step) -> bool:
    """One more node run fits the execution's budget; otherwise the graph fails (a loop that
    does not end, or a graph bigger than the platform allows)."""
    budget = node_run_budget()
    if step.state.node_runs < budget:
        return True
    logger.warning("Node-run budget exceeded", extra={"graph_exec_id": step.state.graph_exec_id, "budget": budget})
    fail_graph(step, budget_error(budget))
    return False


def _run_inline(step: Step, node_exec: NodeExecution) -> bool:
    state = step.state
    block = get_block(node_exec.block_id)
    if block is None:
        dataflow.complete(state, node_exec, [("error", f"Unknown block {node_exec.block_id}")], True)
        step_state.commit(step)
        return True
    if not _within_budget(step):
        return False
    run_input = step.flow.run_input(state, node_exec)
    if not _charge(step, node_exec, block, run_input):
        return False
    dataflow.mark_running(state, node_exec)
    node_run = run_block_node(step.meta.context, node_exec.node_exec_id, block, run_input, node_exec.node_id)
    if node_run.stats:
        node_exec.stats = NodeExecutionStats.model_validate(node_run.stats)
    dataflow.complete(state, node_exec, node_run.outputs, node_run.failed)
    return True


def _dispatch(step: Step, queued: list[NodeExecution]) -> list[dict[str, Any]]:
    """Mark Lambda-run nodes RUNNING with their full input stored, and return the Map batch.
    `callback`: the block finishes later (a sub-agent): the Map waits on a task token.
    Only nodes whose block exists come here (an unknown block runs inline: it fails there)."""
    state, run = step.state, step.meta.context
    batch: list[dict[str, Any]] = []
    run_inputs: dict[str, dict[str, Any]] = {}
    charged: list[tuple[str, Block, dict[str, Any]]] = []
    for node_exec in queued:
        block = get_block(node_exec.block_id)
        assert block is not None, "a node of an unknown block runs inline"
        run_input = step.flow.run_input(state, node_exec)
        if not _within_budget(step) or not _charge(step, node_exec, block, run_input):
            for node_exec_id, paid_block, paid_input in charged:  # they will not run: reservations go back
                refund_reservation(run, node_exec_id, paid_block, cost_input(run, paid_block, paid_input))
            return []
        charged.append((node_exec.node_exec_id, block, run_input))
        dataflow.mark_running(state, node_exec)
        run_inputs[node_exec.node_exec_id] = {"run_input": run_input, "routed": False}
        batch.append(_map_item(state.graph_exec_id, node_exec.node_exec_id, block))
    step_state.commit(step, run_inputs)
    return batch


def fail_graph(step: Step, error: str) -> None:
    dataflow.terminate(step.state)
    step_state.commit(step)
    table.set_meta(step.state.graph_exec_id, {"status": S.FAILED.value, "error": error})


def finalize_step(graph_exec_id: str, failure: str | None = None) -> dict[str, Any]:
    """Final status, outputs and stats. COMPLETED unless stopped or failed as a whole."""
    if table.get_meta(graph_exec_id) is None:  # e.g. a status event for a deleted execution
        logger.warning("No such graph execution to finalize", extra={"graph_exec_id": graph_exec_id})
        return {"graph_exec_id": graph_exec_id, "status": None}
    step = step_state.load(graph_exec_id)
    meta, state = step.meta, step.state
    failure = failure or step.flow.failure(state)
    if failure and not meta.is_stopped:
        dataflow.terminate(state)
        step_state.commit(step)
    _release_unrun_reservations(meta, [e for e in state.node_execs.values() if e.status is not S.COMPLETED])
    status = meta.status
    if not meta.is_stopped:
        status = S.FAILED if failure else S.COMPLETED
    execs = list(state.node_execs.values())
    started = meta.started_at or meta.created_at
    ended = meta.ended_at or now_iso()
    usage = [e.stats for e in execs if e.stats]
    stats = ExecutionStats(
        cost=_cost(meta.user_id, execs) + sum(u.extra_cost for u in usage),  # + sub-agents' costs
        duration=_seconds_between(started, ended),
        node_exec_count=sum(1 for e in execs if e.status in (S.COMPLETED, S.FAILED)),
        node_error_count=sum(1 for e in execs if e.status is S.FAILED),
        error=failure or meta.error,
        input_token_count=sum(u.input_token_count for u in usage),
        output_token_count=sum(u.output_token_count for u in usage),
        llm_call_count=sum(u.llm_call_count for u in usage),
    )
    updated = ExecutionMeta.model_validate(
        table.set_meta(
            graph_exec_id,
            {
                "status": status.value,
                "outputs": values.store_outputs(step.flow.outputs(state), f"{graph_exec_id}/graph"),
                "stats": stats.model_dump(),
                "ended_at": ended,
            },
        )
    )
    logger.info("Graph execution finished", extra={"graph_exec_id": graph_exec_id, "status": status.value})
    subagents.on_finalized(updated, execs)  # report to a parent; stop children of a stopped graph
    return {"graph_exec_id": graph_exec_id, "status": updated.status.value}


def _release_unrun_reservations(meta: ExecutionMeta, execs: list[NodeExecution]) -> None:
    """Refund the reservations of prepaid nodes whose block Lambda never started (a stop, an
    invocation that failed before the handler). A started one settles itself; the RUN# claim
    item decides between the two, so a run that started is never refunded."""
    from stratus.db.users_table import settle_ledger_key, transactions_by_keys

    user_id = meta.user_id
    keys = [key for e in execs for key in (e.node_exec_id, settle_ledger_key(e.node_exec_id))]
    found = {tx.transaction_key: tx for tx in transactions_by_keys(user_id, keys)}
    for key, tx in found.items():
        if "token_limit" not in (tx.metadata or {}) or settle_ledger_key(key) in found:
            continue
        if not table.release_run(meta.id, key, now_iso()):
            continue  # its Lambda started: it settles
        credits.record(
            user_id,
            credits.TransactionType.REFUND,
            -tx.amount,
            settle_ledger_key(key),
            description="Unused reservation (the node never ran)",
            metadata={**(tx.metadata or {}), "reserved": -tx.amount, "tokens": 0},
        )


def _cost(user_id: str, execs: list[NodeExecution]) -> int:
    from stratus.db.users_table import settle_ledger_key, transactions_by_keys, usage_ledger_key

    # Each node's charge before its run (a TOKEN reservation too), its settlement (a refund is
    # positive) and its SECOND charge after it.
    keys = [
        key
        for e in execs
        if e.status in (S.COMPLETED, S.FAILED, S.RUNNING)
        for key in (e.node_exec_id, settle_ledger_key(e.node_exec_id), usage_ledger_key(e.node_exec_id))
    ]
    return sum(-tx.amount for tx in transactions_by_keys(user_id, keys))


def _seconds_between(start: str, end: str) -> float:
    return max(0.0, (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds())
