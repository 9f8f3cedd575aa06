"""Run a block to completion (tests, the blocks API, inline execution)."""

from __future__ import annotations

import asyncio
import copy
import inspect
import uuid
from typing import Any

from stratus.blocks.sdk import Block


async def collect(block: Block, data: dict[str, Any], **kwargs: Any) -> list[tuple[str, Any]]:
    return [(name, value) async for name, value in block.execute(data, **kwargs)]


def run_block(block: Block, data: dict[str, Any], **kwargs: Any) -> list[tuple[str, Any]]:
    """Every (output name, value) the block yields, in order. Raises what the block raises."""
    return asyncio.run(collect(block, data, **kwargs))


def with_test_mocks(block: Block) -> Block:
    """A copy of `block` with its `test_mock` methods in place (AutoGPT's execute_block_test):
    a mock of an async method is wrapped so that it can be awaited."""
    mocked = copy.copy(block)
    for name, mock in block.test_mock.items():
        original = getattr(block, name, None)
        if original is None:
            continue
        if inspect.iscoroutinefunction(original):

            async def awaitable(*args: Any, _mock: Any = mock, **kwargs: Any) -> Any:
                return _mock(*args, **kwargs)

            setattr(mocked, name, awaitable)
        else:
            setattr(mocked, name, mock)
    return mocked


def self_test_kwargs() -> dict[str, Any]:
    """The run context AutoGPT's block self-tests give: fresh ids of a graph, node and run."""
    return {name: str(uuid.uuid4()) for name in ("graph_id", "node_id", "graph_exec_id", "node_exec_id", "user_id")} | {
        "graph_version": 1
    }


def run_self_test(block: Block) -> list[tuple[str, Any]]:
    """Every (name, value) the block yields on its test_input, mocks in place."""
    inputs = block.test_input if isinstance(block.test_input, list) else [block.test_input]
    mocked = with_test_mocks(block)
    context = self_test_kwargs()
    if block.test_credentials is not None:  # AutoGPT's execute_block_test passes them as `credentials`
        context["credentials"] = block.test_credentials
    return [pair for data in inputs for pair in run_block(mocked, data, **context)]


def run_node_block(block: Block, data: dict[str, Any], **kwargs: Any) -> list[tuple[str, Any]]:
    """As a graph node runs the block: its inputs converted first (AutoGPT's validate_exec)."""
    return run_block(block, block.convert_input(data), **kwargs)
