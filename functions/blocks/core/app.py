"""BlockCoreFunction: runs one node execution of a core block that does not run inline
(network or clock bound), invoked by the state machine's Map state with ids only, plus the
task token for a block the state machine waits on (the AgentExecutor starts its child)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from stratus.config import BlockCoreSettings, require
from stratus.executions import block_runner
from stratus.observability import observed

require(BlockCoreSettings)  # cold start: fails here, naming any missing or invalid variable


@observed("node_exec_id")
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return block_runner.run(event["graph_exec_id"], event["node_exec_id"], event.get("task_token"))
