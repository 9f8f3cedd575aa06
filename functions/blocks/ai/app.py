"""BlockAiFunction: runs one node execution of an AI block (LLM calls, MCP tools, agent
nodes), invoked by the state machine's Map state with ids only."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from stratus.executions import block_runner
from stratus.observability import observed


@observed("node_exec_id")
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return block_runner.run(event["graph_exec_id"], event["node_exec_id"])
