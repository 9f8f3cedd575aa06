"""One-off block runs (the blocks API, `POST /api/blocks/{id}/execute`): a block run outside
any graph, with a node execution's context (`node_runner.block_kwargs`: the user's stored
credentials, else the platform key, and `record_usage`) and its costs (RUN / BYTE and a TOKEN
reservation before the run on `cost_input`, the TOKEN settlement or SECOND after it), under a
ledger key of the run's own. A request's Idempotency-Key is handled by the blocks service
(stratus.executions.idempotency): a retry replays the first result and runs nothing.

Core blocks run in GraphsFunction itself. Other groups' blocks need their Lambda's packages
(openai, mcp), KMS decrypt and model endpoint, so GraphsFunction invokes that Lambda
synchronously with a `direct` event (the user, block, input and key: never a secret) and
the Lambda answers with `handle_direct_event`: {"outputs": {...}} or {"error": {"status",
"detail"}}, which GraphsFunction raises as the same 4xx / 402 an in-process run gives.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from stratus.blocks.costs import cost_before_run
from stratus.blocks.credentials import MissingCredentials
from stratus.blocks.dynamic_pins import merge_execution_input
from stratus.blocks.jsonable import to_json_value
from stratus.blocks.registry import block_function_arn, get_block
from stratus.blocks.sdk import Block, BlockInputError
from stratus.blocks.testing import collect
from stratus.errors import NotFound, StratusError, Unprocessable
from stratus.executions.billing import charge_after_run, cost_input
from stratus.executions.models import RunContext
from stratus.executions.node_runner import CredentialsUnavailable, UsageRecorder, block_kwargs

DIRECT_EVENT = "direct"


def checked_input(block: Block, data: dict[str, Any]) -> dict[str, Any]:
    """The request's input with dynamic pins merged; Unprocessable (422) when the block rejects it."""
    try:
        inputs = merge_execution_input(data)
        block.validate_input(inputs)
    except BlockInputError as exc:
        raise Unprocessable({"message": "Invalid block input.", "errors": exc.errors}) from exc
    except ValueError as exc:
        raise Unprocessable(str(exc)) from exc
    return inputs


async def run_direct(user_id: str, block: Block, inputs: dict[str, Any], key: str) -> dict[str, list[Any]]:
    """Run the block here with its context and charge it (ledger key `key`). Raises NotFound
    (credentials that are not the user's), InsufficientBalance (before-run cost or TOKEN
    reservation), nothing run or charged in either case."""
    run = RunContext(user_id)  # a run outside any graph execution
    _check_own_credentials(user_id, inputs.get("credentials"))
    try:
        kwargs = block_kwargs(run, key, block, inputs)
    except CredentialsUnavailable as exc:  # resolve_api_key's 404 (not the user's) or 422 (expired)
        cause = exc.__cause__
        raise _error(cause.status_code if isinstance(cause, StratusError) else 422, str(exc)) from exc
    priced = cost_input(run, block, inputs)
    amount = cost_before_run(block, priced)
    if amount:
        from stratus.users import credits  # the users table is needed only when something is due

        credits.charge(user_id, amount, key, description=f"Block {block.name}", metadata={"block_id": block.id})
    started = time.monotonic()
    outputs: dict[str, list[Any]] = {}
    usage: UsageRecorder = kwargs["record_usage"]
    try:
        for name, value in await collect(block, inputs, **kwargs):
            outputs.setdefault(name, []).append(to_json_value(value))  # the response is JSON
    except MissingCredentials as exc:  # neither the caller nor the platform has a key: the caller's to fix
        raise Unprocessable(str(exc)) from exc
    finally:  # a block that raises settles its reservation too
        charge_after_run(run, key, block, priced, time.monotonic() - started, usage.total_tokens)
    return outputs


def _check_own_credentials(user_id: str, credentials: Any) -> None:
    """Credentials named in a one-off run are the caller's choice: they must be the user's (a
    graph's node instead runs on the platform key when its credentials are not; AutoGPT's
    system credentials mean the platform key here too)."""
    from stratus.integrations.credentials import SYSTEM_CREDENTIALS, resolve_api_key

    if not isinstance(credentials, dict) or not credentials.get("id") or credentials["id"] in SYSTEM_CREDENTIALS:
        return
    try:
        resolve_api_key(user_id, credentials)
    except StratusError as exc:
        name = credentials.get("title") or credentials.get("id")
        raise _error(exc.status_code, f"Credentials {name!r} cannot be used: {exc.detail}") from exc


def handle_direct_event(event: dict[str, Any]) -> dict[str, Any]:
    """The block Lambda's side: run one `direct` event. Domain errors come back as values (the
    invocation succeeds); a block that raises fails the invocation, as it fails an in-process run."""
    try:
        block = get_block(event["block_id"])
        if block is None:
            raise NotFound(f"Block {event['block_id']} not found.")
        inputs = checked_input(block, event.get("input") or {})
        return {"outputs": asyncio.run(run_direct(event["user_id"], block, inputs, event["idempotency_key"]))}
    except StratusError as exc:
        return {"error": {"status": exc.status_code, "detail": exc.detail}}


def invoke_direct(user_id: str, block: Block, inputs: dict[str, Any], key: str) -> dict[str, list[Any]]:
    """GraphsFunction's side: run the block in its group's Lambda and wait for the outputs."""
    from stratus.aws import client

    event = {DIRECT_EVENT: {"user_id": user_id, "block_id": block.id, "input": inputs, "idempotency_key": key}}
    response = client("lambda").invoke(
        FunctionName=block_function_arn(block.group),
        InvocationType="RequestResponse",
        Payload=json.dumps(event).encode(),
    )
    payload = json.loads(response["Payload"].read() or b"null")
    if response.get("FunctionError"):
        message = payload.get("errorMessage") if isinstance(payload, dict) else payload
        raise RuntimeError(f"Block {block.name} failed in its {block.group} Lambda: {message}")
    if "error" in payload:
        raise _error(int(payload["error"].get("status") or 500), payload["error"].get("detail"))
    return payload["outputs"]


def _error(status: int, detail: Any) -> StratusError:
    error = StratusError(detail)
    error.status_code = status
    return error
