"""The blocks API: definitions (cached per container) and one-off synchronous execution."""

from __future__ import annotations

import json
import time
import uuid
from functools import lru_cache
from typing import Any

from stratus.blocks.costs import cost_after_run, cost_before_run
from stratus.blocks.dynamic_pins import merge_execution_input
from stratus.blocks.registry import all_blocks, get_block
from stratus.blocks.sdk import BlockInputError
from stratus.blocks.testing import collect
from stratus.errors import NotFound, Unprocessable
from stratus.users import credits


@lru_cache(maxsize=1)
def definitions_json() -> str:
    """GET /api/blocks body, built once per container."""
    return json.dumps([block.to_dict() for block in all_blocks().values()], allow_nan=True)


async def execute_block(user_id: str, block_id: str, data: dict[str, Any],
                        idempotency_key: str | None = None) -> dict[str, list[Any]]:
    block = get_block(block_id)
    if block is None:
        raise NotFound(f"Block {block_id} not found.")
    try:
        inputs = merge_execution_input(data)
        block.validate_input(inputs)
    except BlockInputError as exc:
        raise Unprocessable({"message": "Invalid block input.", "errors": exc.errors}) from exc
    except ValueError as exc:
        raise Unprocessable(str(exc)) from exc
    key = idempotency_key or f"block-exec-{uuid.uuid4()}"
    amount = cost_before_run(block, inputs)
    if amount:
        credits.charge(user_id, amount, key, description=f"Block {block.name}",
                       metadata={"block_id": block.id})
    started = time.monotonic()
    outputs: dict[str, list[Any]] = {}
    for name, value in await collect(block, inputs, user_id=user_id):
        outputs.setdefault(name, []).append(value)
    extra = cost_after_run(block, inputs, time.monotonic() - started)
    if extra:
        credits.charge(user_id, extra, f"{key}-seconds", description=f"Block {block.name} run time",
                       metadata={"block_id": block.id})
    return outputs
