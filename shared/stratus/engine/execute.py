"""Run one node execution's block: the yields, and whether it failed."""

from __future__ import annotations

from typing import Any

from stratus.blocks.sdk import Block


async def run_node(block: Block, input_data: dict[str, Any], **context: Any) -> tuple[list[tuple[str, Any]], bool]:
    """(yields, failed). A block that raises fails with its message on the `error` pin,
    after whatever it yielded before raising (AutoGPT routes both)."""
    outputs: list[tuple[str, Any]] = []
    try:
        async for name, value in block.execute(input_data, **context):
            outputs.append((name, value))
    except Exception as exc:  # the node fails; the graph goes on
        message = str(exc) or type(exc).__name__
        outputs.append(("error", message))
        return outputs, True
    return outputs, any(name == "error" for name, _ in outputs)
