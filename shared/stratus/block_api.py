"""The blocks API service (`/api/blocks*`, `/external-api/v1/blocks*`): the block definitions
(cached per container) and one-off synchronous block runs (stratus.executions.direct_run).

A service, not a block: it reads and writes stores (idempotency records, credits), so it lives
outside the `stratus.blocks` package, which reaches no data access."""

from __future__ import annotations

import asyncio
import json
import uuid
from functools import lru_cache
from typing import Any

from stratus.blocks.registry import all_blocks, get_block
from stratus.errors import NotFound
from stratus.payload_limits import check_structure


@lru_cache(maxsize=1)
def definitions_json() -> str:
    """GET /api/blocks body, built once per container."""
    return json.dumps([block.to_dict() for block in all_blocks().values()], allow_nan=True)


async def execute_block(
    user_id: str, block_id: str, data: dict[str, Any], idempotency_key: str | None = None
) -> dict[str, list[Any]]:
    """Core blocks run here; other groups' blocks in their own Lambda (see direct_run).

    With an Idempotency-Key the block runs once: a retry with the same input gets the first
    outputs without a run or a charge, another input (or a key used on another route) a 422,
    a retry while the first still runs a 409 (stratus.executions.idempotency)."""
    from stratus.executions import idempotency
    from stratus.executions.direct_run import checked_input

    check_structure(data, "input")  # before pydantic, the serializer or a Lambda payload sees it
    block = get_block(block_id)
    if block is None:
        raise NotFound(f"Block {block_id} not found.")
    inputs = checked_input(block, data)  # a fast 422, before any Lambda is invoked
    if not idempotency_key:
        return await _run(user_id, block, inputs)
    claim = idempotency.begin(user_id, idempotency_key, idempotency.BLOCK_EXECUTION, {"block": block_id, "input": data})
    if claim.replay is not None:
        return claim.replay
    if claim.replay_unavailable:
        raise idempotency.replay_unavailable(idempotency_key)
    try:
        outputs = await _run(user_id, block, inputs)
    except BaseException:
        idempotency.abandon(claim)  # nothing to replay: a retry runs again
        raise
    idempotency.complete(claim, outputs)
    return outputs


async def _run(user_id: str, block: Any, inputs: dict[str, Any]) -> dict[str, list[Any]]:
    from stratus.executions.direct_run import invoke_direct, run_direct

    key = f"block-exec-{uuid.uuid4()}"  # each run's own ledger keys (a client's key could name any entry)
    if block.group == "core":
        return await run_direct(user_id, block, inputs, key)
    return await asyncio.to_thread(invoke_direct, user_id, block, inputs, key)
