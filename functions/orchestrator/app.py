"""OrchestratorFunction: the graph-execution state machine's start / advance / finalize steps,
and the finalizer for executions that Step Functions ended as FAILED, TIMED_OUT or ABORTED."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from stratus.config import OrchestratorSettings, require
from stratus.executions import orchestrator
from stratus.observability import observed

require(OrchestratorSettings)  # cold start: fails here, naming any missing or invalid variable

_FAILURES = {
    "FAILED": "The execution failed.",
    "TIMED_OUT": "The execution timed out.",
    "ABORTED": "The execution was stopped.",
}


@observed("graph_exec_id")
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if event.get("source") == "aws.states":  # EventBridge: Step Functions status change
        detail = event["detail"]
        return orchestrator.finalize_step(
            _graph_exec_id(detail), failure=_FAILURES.get(detail["status"], detail["status"])
        )
    step = event["step"]
    graph_exec_id = event["graph_exec_id"]
    history = int(event.get("history", 0))
    if step == "start":
        return orchestrator.start_step(graph_exec_id, context.get_remaining_time_in_millis, history)
    if step == "advance":
        return orchestrator.advance_step(
            graph_exec_id, event.get("results") or [], context.get_remaining_time_in_millis, history
        )
    if step == "finalize":
        return orchestrator.finalize_step(graph_exec_id, failure=_failure_text(event.get("error")))
    raise ValueError(f"Unknown step {step!r}")


def _graph_exec_id(detail: dict[str, Any]) -> str:
    # Executions are named after the graph execution; a continued one adds "-<node runs>-<history>".
    name = detail["name"]
    return name if len(name) == 36 else name[:36]


def _failure_text(error: Any) -> str | None:
    if not error:
        return None
    if isinstance(error, dict):
        return str(error.get("Cause") or error.get("Error") or error)[:1000]
    return str(error)[:1000]
