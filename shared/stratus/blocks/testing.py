"""Run a block to completion (tests, the blocks API, inline execution)."""

from __future__ import annotations

import asyncio
from typing import Any

from stratus.blocks.sdk import Block


async def collect(block: Block, data: dict[str, Any], **kwargs: Any) -> list[tuple[str, Any]]:
    return [(name, value) async for name, value in block.execute(data, **kwargs)]


def run_block(block: Block, data: dict[str, Any], **kwargs: Any) -> list[tuple[str, Any]]:
    """Every (output name, value) the block yields, in order. Raises what the block raises."""
    return asyncio.run(collect(block, data, **kwargs))


def run_node_block(block: Block, data: dict[str, Any], **kwargs: Any) -> list[tuple[str, Any]]:
    """As a graph node runs the block: its inputs converted first (AutoGPT's validate_exec)."""
    return run_block(block, block.convert_input(data), **kwargs)
