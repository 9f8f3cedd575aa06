"""BlockIntegrationsFunction: runs one node execution of an integration block (outside services:
search, Google, Airtable, media, code, ...), invoked by the state machine's Map state with ids
only; and one-off runs of the blocks API (a `direct` event from GraphsFunction, see
stratus.executions.direct_run)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from stratus.config import BlockIntegrationsSettings, require
from stratus.executions import block_runner, direct_run
from stratus.observability import observed

require(BlockIntegrationsSettings)  # cold start: fails here, naming any missing or invalid variable


@observed("node_exec_id || direct.idempotency_key")
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if direct_run.DIRECT_EVENT in event:
        return direct_run.handle_direct_event(event[direct_run.DIRECT_EVENT])
    return block_runner.run(event["graph_exec_id"], event["node_exec_id"])
