"""Stopping, sharing and deleting graph executions (stratus.executions.reads reads them).

Another user's execution is NotFound (404), never Forbidden, so ids cannot be probed.
"""

from __future__ import annotations

import secrets
from typing import Any

from stratus.aws import client
from stratus.clock import now_iso
from stratus.config import StateMachineSettings, get_settings
from stratus.db import executions_table as table
from stratus.db.dynamo import TransactionCancelled
from stratus.engine.models import FINAL_STATUSES, ExecutionStatus
from stratus.errors import Conflict
from stratus.executions.reads import GraphExecutionView, ShareInfo, owned, view
from stratus.observability import logger

STOPPABLE_STATUSES = (ExecutionStatus.INCOMPLETE, ExecutionStatus.QUEUED, ExecutionStatus.RUNNING)
# Running nodes are cancelled too: a block Lambda still running finds its node no longer
# RUNNING and stores nothing (its write is conditioned on RUNNING).
_PENDING_NODE_STATUSES = (ExecutionStatus.QUEUED, ExecutionStatus.INCOMPLETE, ExecutionStatus.RUNNING)


# --- stop --------------------------------------------------------------------------------
def request_stop(user_id: str, graph_exec_id: str, graph_id: str | None = None) -> GraphExecutionView:
    """TERMINATED now (conditional on still being unfinished); pending nodes too; then the state
    machine. The orchestrator sees the status at its next stop check and stops too."""
    now = now_iso()
    item = table.terminate(
        graph_exec_id,
        user_id,
        graph_id,
        (s.value for s in STOPPABLE_STATUSES),
        ExecutionStatus.TERMINATED.value,
        now,
    )
    if item is None:
        current = owned(table.get_meta(graph_exec_id), user_id, graph_exec_id, graph_id)
        raise Conflict(
            f"Graph execution #{graph_exec_id} is already {current.get('status')}: only QUEUED or "
            f"RUNNING executions can be stopped."
        )
    # Queued and incomplete node executions will never run; running ones are cancelled too
    # (a node the engine moved on meanwhile is left to the engine).
    table.terminate_nodes(
        graph_exec_id, (s.value for s in _PENDING_NODE_STATUSES), ExecutionStatus.TERMINATED.value, now
    )
    _stop_state_machine_execution(graph_exec_id)
    return view(item)


def _stop_state_machine_execution(graph_exec_id: str) -> None:
    state_machine_arn = get_settings(StateMachineSettings).graph_execution_state_machine_arn
    prefix, _, name = state_machine_arn.partition(":stateMachine:")
    if not name:
        logger.warning("GRAPH_EXECUTION_STATE_MACHINE_ARN is not a state machine ARN", extra={"arn": state_machine_arn})
        return
    sfn = client("stepfunctions")
    try:
        sfn.stop_execution(executionArn=f"{prefix}:execution:{name}:{graph_exec_id}", cause="Stopped by the user.")
    except sfn.exceptions.ExecutionDoesNotExist:
        pass  # not started yet, or already gone: the META status already stops it
    except Exception:  # noqa: BLE001 - the stop is recorded; the engine honours the TERMINATED status
        logger.exception("StopExecution failed", extra={"graph_exec_id": graph_exec_id})


# --- delete ------------------------------------------------------------------------------
def delete_execution(user_id: str, graph_exec_id: str) -> None:
    """Deletes META, node, static and share items; refuses (409) while the execution is unfinished."""
    meta = owned(table.get_meta(graph_exec_id), user_id, graph_exec_id)
    _refuse_unfinished(meta, graph_exec_id)
    try:
        table.delete_execution(graph_exec_id, user_id, (s.value for s in FINAL_STATUSES), meta.get("share_token"))
    except TransactionCancelled:
        current = owned(table.get_meta(graph_exec_id), user_id, graph_exec_id)
        _refuse_unfinished(current, graph_exec_id)
        raise Conflict(f"Graph execution #{graph_exec_id} changed while being deleted; try again.") from None


def _refuse_unfinished(meta: dict[str, Any], graph_exec_id: str) -> None:
    if meta.get("status") not in {s.value for s in FINAL_STATUSES}:
        raise Conflict(f"Graph execution #{graph_exec_id} is {meta.get('status')}: stop it before deleting it.")


# --- sharing -----------------------------------------------------------------------------
def share_execution(user_id: str, graph_exec_id: str, graph_id: str | None = None) -> ShareInfo:
    """A public share token; sharing again returns the same token."""
    for _ in range(3):
        meta = owned(table.get_meta(graph_exec_id), user_id, graph_exec_id, graph_id)
        if meta.get("share_token"):
            return ShareInfo(share_token=meta["share_token"])
        token = secrets.token_urlsafe(24)
        try:
            table.create_share(token, graph_exec_id, user_id, now_iso())
            return ShareInfo(share_token=token)
        except TransactionCancelled:
            continue  # a concurrent share (or delete) won: look again
    raise Conflict(f"Graph execution #{graph_exec_id} is being changed concurrently; try again.")


def unshare_execution(user_id: str, graph_exec_id: str, graph_id: str | None = None) -> None:
    """Removes the share (idempotent: unsharing an unshared execution succeeds)."""
    for _ in range(3):
        meta = owned(table.get_meta(graph_exec_id), user_id, graph_exec_id, graph_id)
        token = meta.get("share_token")
        if not token:
            return
        try:
            table.remove_share(token, graph_exec_id)
            return
        except TransactionCancelled:
            continue
    raise Conflict(f"Graph execution #{graph_exec_id} is being changed concurrently; try again.")
