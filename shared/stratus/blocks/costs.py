"""What running a block costs, in credits (cents): AutoGPT's RUN / BYTE / SECOND costs,
the first cost whose cost_filter matches the inputs wins."""

from __future__ import annotations

import json
from typing import Any

from stratus.blocks.sdk import Block, BlockCost, BlockCostType


def _matches(cost_filter: dict[str, Any], data: dict[str, Any]) -> bool:
    for key, expected in cost_filter.items():
        actual = data.get(key)
        if isinstance(expected, dict) and isinstance(actual, dict):
            if not _matches(expected, actual):
                return False
        elif actual != expected and not (expected in (None, "") and actual in (None, "")):
            return False
    return True


def matching_cost(block: Block, data: dict[str, Any]) -> BlockCost | None:
    return next((cost for cost in block.costs if _matches(cost.cost_filter, data)), None)


def cost_before_run(block: Block, data: dict[str, Any]) -> int:
    """RUN and BYTE costs are known before running; SECOND costs are charged after."""
    cost = matching_cost(block, data)
    if cost is None:
        return 0
    if cost.cost_type is BlockCostType.RUN:
        return cost.cost_amount
    if cost.cost_type is BlockCostType.BYTE:
        return cost.cost_amount * len(json.dumps(data, default=str).encode())
    return 0


def cost_after_run(block: Block, data: dict[str, Any], seconds: float) -> int:
    cost = matching_cost(block, data)
    if cost is None or cost.cost_type is not BlockCostType.SECOND:
        return 0
    return int(cost.cost_amount * max(seconds, 0.0) + 0.999)  # whole seconds, rounded up
