"""The Step Functions loop's steps: start, advance, finalize.

Payloads carry ids only. Cheap blocks run inline here, one DynamoDB transaction per node
(its status, its outputs and every sink execution they touched), so re-running a step
finds finished nodes finished and creates nothing twice; credits are charged before each
node runs with the node execution id as the idempotency key. Blocks that wait on the
network or the clock go back to the state machine as a batch for its Map state.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from stratus.blocks.costs import cost_before_run, prepaid_token_limit
from stratus.blocks.registry import block_function_arn, get_block
from stratus.clock import now_iso
from stratus.db.dynamo import ConditionFailed
from stratus.engine import scheduler
from stratus.engine.scheduler import EngineState
from stratus.errors import InsufficientBalance
from stratus.executions import flows, store, subagents, values
from stratus.executions.block_context import cost_input, refund_reservation, run_block_node
from stratus.executions.models import ExecutionStats, NodeExecutionStats
from stratus.executions.models import ExecutionStatus as S
from stratus.observability import logger
from stratus.users import credits

HISTORY_BUDGET = 25_000
HISTORY_MARGIN = 5_000  # continue as new well before the hard limit
EVENTS_PER_LOOP = 8  # Choice + Task (scheduled/started/succeeded) + Map start/end, roughly
EVENTS_PER_MAP_ITEM = 6
STOP_CHECK_SECONDS = 0.5
SAFETY_MS = 15_000  # leave the step before its Lambda timeout
# Inline nodes are committed in groups: one transaction holds whole nodes with every sink
# execution they touched, so a re-run step redoes at most one group of pure, cheap blocks.
COMMIT_ITEMS = 40
COMMIT_SECONDS = 0.2


def _response(
    graph_exec_id: str, history: int, batch: list[dict[str, Any]] | None = None, done: bool = False
) -> dict[str, Any]:
    history += EVENTS_PER_LOOP + EVENTS_PER_MAP_ITEM * len(batch or [])
    return {
        "graph_exec_id": graph_exec_id,
        "batch": batch or [],
        "done": done,
        "history": history,
        "continue_as_new": not done and history > HISTORY_BUDGET - HISTORY_MARGIN,
        "next_name": f"{graph_exec_id}-{history}",
    }


def start_step(graph_exec_id: str, remaining_ms: Callable[[], int], history: int = 0) -> dict[str, Any]:
    meta, state = store.load(graph_exec_id)
    if meta["status"] in (S.COMPLETED.value, S.FAILED.value, S.TERMINATED.value):
        return _response(graph_exec_id, history, done=True)
    if meta["status"] == S.QUEUED.value:
        try:
            store.update_meta(
                graph_exec_id,
                {"status": S.RUNNING.value, "started_at": now_iso()},
                "#status = :queued",
                {":queued": S.QUEUED.value},
            )
        except ConditionFailed:
            pass  # a re-run of this step, or a stop that got there first
    if not state.node_execs:  # a resumed (continued-as-new) execution keeps its nodes
        flows.for_execution(meta).start(state, values.resolve_map(meta.get("inputs") or {}))
        store.commit(meta["user_id"], state)
    # A resumed execution (continued as new, restarted) may hold results no step routed yet,
    # and nodes dispatched to a Map that no longer runs: route the first, dispatch the second.
    _route_lambda_results(meta, state)
    stranded = _redispatch(meta, state)
    if stranded:
        return _response(graph_exec_id, history, batch=stranded)
    return _drive(meta, state, remaining_ms, history)


def _redispatch(meta: dict[str, Any], state: EngineState) -> list[dict[str, Any]]:
    """Map items again for RUNNING nodes (their run input is stored; charges are idempotent).
    The block Lambda runs a node only while it is RUNNING, and a sub-agent node hands its
    existing child the new task token."""
    batch = []
    for node_exec in state.by_status(S.RUNNING):
        block = get_block(node_exec.block_id)
        if block is None:
            scheduler.complete(state, node_exec, [("error", f"Unknown block {node_exec.block_id}")], True)
            continue
        batch.append(
            {
                "graph_exec_id": state.graph_exec_id,
                "node_exec_id": node_exec.node_exec_id,
                "function_arn": block_function_arn(block.group),
                "callback": block.waits_for_callback,
            }
        )
    store.commit(meta["user_id"], state)
    return batch


def advance_step(
    graph_exec_id: str, results: list[dict[str, Any]], remaining_ms: Callable[[], int], history: int = 0
) -> dict[str, Any]:
    meta, state = store.load(graph_exec_id)
    failures = {r["node_exec_id"]: r.get("error") for r in results or [] if r.get("status") == S.FAILED.value}
    for node_exec in state.by_status(S.RUNNING):
        # The block Lambda failed for good (the Map caught it): the node fails, the graph goes on.
        if node_exec.node_exec_id in failures:
            scheduler.complete(state, node_exec, [("error", _short(failures[node_exec.node_exec_id]))], True)
            store.commit(meta["user_id"], state)
            if subagents.waits_for_callback(node_exec.block_id):  # its wait timed out: stop its child
                subagents.stop_children(meta["user_id"], [node_exec.node_exec_id])
    _route_lambda_results(meta, state)
    return _drive(meta, state, remaining_ms, history)


def _short(error: Any) -> str:
    return str(error or "Block function failed")[:1000]


def _route_lambda_results(meta: dict[str, Any], state: EngineState) -> None:
    """Nodes a block Lambda finished are stored with `routed = False` until routed here."""
    for node_exec_id in sorted(state.unrouted, key=lambda i: state.node_execs[i].seq):
        scheduler.route_finished(state, state.node_execs[node_exec_id])
        store.commit(meta["user_id"], state, {node_exec_id: {"routed": True}})


def _drive(meta: dict[str, Any], state: EngineState, remaining_ms: Callable[[], int], history: int) -> dict[str, Any]:
    graph_exec_id, user_id = state.graph_exec_id, meta["user_id"]
    last_stop_check = last_commit = time.monotonic()

    def respond(**kwargs: Any) -> dict[str, Any]:
        store.commit(user_id, state)
        return _response(graph_exec_id, history, **kwargs)

    while True:
        now = time.monotonic()
        if len(state.changed) >= COMMIT_ITEMS or now - last_commit > COMMIT_SECONDS:
            store.commit(user_id, state)
            last_commit = now
        if now - last_stop_check > STOP_CHECK_SECONDS:
            last_stop_check = now
            current = store.get_meta(graph_exec_id) or {}
            if current.get("status") in (S.TERMINATED.value, S.FAILED.value):
                scheduler.terminate(state)
                return respond(done=True)
        queued = state.queued()
        if not queued:
            if flows.for_execution(meta).plan_next(state):  # MAG: the next level's batch
                continue
            return respond(done=state.is_finished())
        inline = [e for e in queued if (b := get_block(e.block_id)) is None or b.runs_inline]
        if not inline:
            store.commit(user_id, state)
            return _response(graph_exec_id, history, batch=_dispatch(meta, state, queued))
        for node_exec in inline:
            if remaining_ms() < SAFETY_MS:
                return respond()  # the state machine calls advance again
            if not _run_inline(meta, state, node_exec):
                return respond(done=True)
            if len(state.changed) >= COMMIT_ITEMS:
                break


def _charge(meta: dict[str, Any], state: EngineState, node_exec: Any, block: Any, run_input: dict[str, Any]) -> bool:
    """Charge the node's cost (a TOKEN cost's reservation too: settled after the run); running
    out fails the whole graph (AutoGPT semantics)."""
    priced = cost_input(meta, block, run_input)
    amount = cost_before_run(block, priced)
    if not amount:
        return True
    limit = prepaid_token_limit(block, priced)  # marks a reservation (settled or refunded later)
    try:
        credits.charge(
            meta["user_id"],
            amount,
            node_exec.node_exec_id,
            description=f"Block {block.name}",
            metadata={
                "graph_exec_id": state.graph_exec_id,
                "graph_id": meta["graph_id"],
                "node_exec_id": node_exec.node_exec_id,
                **({"token_limit": limit} if limit is not None else {}),
            },
        )
        return True
    except InsufficientBalance as exc:
        fail_graph(meta, state, str(exc.detail))
        return False


def _run_inline(meta: dict[str, Any], state: EngineState, node_exec: Any) -> bool:
    block = get_block(node_exec.block_id)
    if block is None:
        scheduler.complete(state, node_exec, [("error", f"Unknown block {node_exec.block_id}")], True)
        store.commit(meta["user_id"], state)
        return True
    run_input = flows.for_execution(meta).run_input(state, node_exec)
    if not _charge(meta, state, node_exec, block, run_input):
        return False
    scheduler.mark_running(state, node_exec)
    node_run = run_block_node(meta, node_exec.node_exec_id, block, run_input)
    if node_run.stats:
        node_exec.stats = NodeExecutionStats.model_validate(node_run.stats)
    scheduler.complete(state, node_exec, node_run.outputs, node_run.failed)
    return True


def _dispatch(meta: dict[str, Any], state: EngineState, queued: list[Any]) -> list[dict[str, Any]]:
    """Mark Lambda-run nodes RUNNING with their full input stored, and return the Map batch.
    `callback`: the block finishes later (a sub-agent): the Map waits on a task token."""
    batch, run_inputs, flow, charged = [], {}, flows.for_execution(meta), []
    for node_exec in queued:
        block = get_block(node_exec.block_id)
        run_input = flow.run_input(state, node_exec)
        if not _charge(meta, state, node_exec, block, run_input):
            for node_exec_id, paid_block, paid_input in charged:  # they will not run: reservations go back
                refund_reservation(meta, node_exec_id, paid_block, cost_input(meta, paid_block, paid_input))
            return []
        charged.append((node_exec.node_exec_id, block, run_input))
        scheduler.mark_running(state, node_exec)
        run_inputs[node_exec.node_exec_id] = {"run_input": run_input, "routed": False}
        batch.append(
            {
                "graph_exec_id": state.graph_exec_id,
                "node_exec_id": node_exec.node_exec_id,
                "function_arn": block_function_arn(block.group),
                "callback": block.waits_for_callback,
            }
        )
    store.commit(meta["user_id"], state, run_inputs)
    return batch


def fail_graph(meta: dict[str, Any], state: EngineState, error: str) -> None:
    scheduler.terminate(state)
    store.commit(meta["user_id"], state)
    store.update_meta(state.graph_exec_id, {"status": S.FAILED.value, "error": error})


def finalize_step(graph_exec_id: str, failure: str | None = None) -> dict[str, Any]:
    """Final status, outputs and stats. COMPLETED unless stopped or failed as a whole."""
    if store.get_meta(graph_exec_id) is None:  # e.g. a status event for a deleted execution
        logger.warning("No such graph execution to finalize", extra={"graph_exec_id": graph_exec_id})
        return {"graph_exec_id": graph_exec_id, "status": None}
    meta, state = store.load(graph_exec_id)
    flow = flows.for_execution(meta)
    failure = failure or flow.failure(state)
    if failure and meta["status"] not in (S.TERMINATED.value, S.FAILED.value):
        scheduler.terminate(state)
        store.commit(meta["user_id"], state)
    _release_unrun_reservations(meta, [e for e in state.node_execs.values() if e.status is not S.COMPLETED])
    status = meta["status"]
    if status not in (S.TERMINATED.value, S.FAILED.value):
        status = S.FAILED.value if failure else S.COMPLETED.value
    execs = list(state.node_execs.values())
    started = meta.get("started_at") or meta["created_at"]
    ended = meta.get("ended_at") or now_iso()
    usage = [e.stats for e in execs if e.stats]
    stats = ExecutionStats(
        cost=_cost(meta["user_id"], execs) + sum(u.extra_cost for u in usage),  # + sub-agents' costs
        duration=_seconds_between(started, ended),
        node_exec_count=sum(1 for e in execs if e.status in (S.COMPLETED, S.FAILED)),
        node_error_count=sum(1 for e in execs if e.status is S.FAILED),
        error=failure or meta.get("error"),
        input_token_count=sum(u.input_token_count for u in usage),
        output_token_count=sum(u.output_token_count for u in usage),
        llm_call_count=sum(u.llm_call_count for u in usage),
    )
    updated = store.update_meta(
        graph_exec_id,
        {
            "status": status,
            "outputs": values.store_outputs(flow.outputs(state), f"{graph_exec_id}/graph"),
            "stats": stats.model_dump(),
            "ended_at": ended,
        },
    )
    logger.info("Graph execution finished", extra={"graph_exec_id": graph_exec_id, "status": status})
    subagents.on_finalized(updated, execs)  # report to a parent; stop children of a stopped graph
    return {"graph_exec_id": graph_exec_id, "status": updated["status"]}


def _release_unrun_reservations(meta: dict[str, Any], execs: list[Any]) -> None:
    """Refund the reservations of prepaid nodes whose block Lambda never started (a stop, an
    invocation that failed before the handler). A started one settles itself; the RUN# claim
    item decides between the two, so a run that started is never refunded."""
    from stratus.db.executions_table import executions_table, run_claim_key
    from stratus.db.users_table import transactions_by_keys

    user_id = meta["user_id"]
    keys = [key for e in execs for key in (e.node_exec_id, f"{e.node_exec_id}#settle")]
    found = {tx.transaction_key: tx for tx in transactions_by_keys(user_id, keys)}
    for key, tx in found.items():
        if "token_limit" not in (tx.metadata or {}) or f"{key}#settle" in found:
            continue
        try:
            executions_table().put(
                {**run_claim_key(meta["id"], key), "state": "RELEASED", "at": now_iso()},
                condition="attribute_not_exists(PK)",
            )
        except ConditionFailed:
            continue  # its Lambda started: it settles
        credits.record(
            user_id,
            credits.TransactionType.REFUND,
            -tx.amount,
            f"{key}#settle",
            description="Unused reservation (the node never ran)",
            metadata={**(tx.metadata or {}), "reserved": -tx.amount, "tokens": 0},
        )


def _cost(user_id: str, execs: list[Any]) -> int:
    from stratus.db.users_table import transactions_by_keys

    # Each node's charge before its run (a TOKEN reservation too), its settlement (a refund is
    # positive) and its SECOND charge after it.
    keys = [
        key
        for e in execs
        if e.status in (S.COMPLETED, S.FAILED, S.RUNNING)
        for key in (e.node_exec_id, f"{e.node_exec_id}#settle", f"{e.node_exec_id}#usage")
    ]
    return sum(-tx.amount for tx in transactions_by_keys(user_id, keys))


def _seconds_between(start: str, end: str) -> float:
    from datetime import datetime

    return max(0.0, (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds())
