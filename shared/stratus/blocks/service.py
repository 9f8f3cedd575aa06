"""The blocks API: definitions (cached per container) and one-off synchronous execution."""

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


async def execute_block(user_id: str, block_id: str, data: dict[str, Any],
                        idempotency_key: str | None = None) -> dict[str, list[Any]]:
    """Core blocks run here; other groups' blocks in their own Lambda (see direct_run)."""
    from stratus.executions.direct_run import checked_input, invoke_direct, run_direct

    check_structure(data, "input")  # before pydantic, the serializer or a Lambda payload sees it
    block = get_block(block_id)
    if block is None:
        raise NotFound(f"Block {block_id} not found.")
    inputs = checked_input(block, data)  # a fast 422, before any Lambda is invoked
    key = idempotency_key or f"block-exec-{uuid.uuid4()}"
    if block.group == "core":
        return await run_direct(user_id, block, inputs, key)
    return await asyncio.to_thread(invoke_direct, user_id, block, inputs, key)
