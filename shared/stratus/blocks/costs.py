"""What running a block costs, in credits (cents): AutoGPT's RUN / BYTE / SECOND costs and
TOKEN (per 1,000 model tokens); the first cost whose cost_filter matches the inputs wins.

RUN and BYTE are known before the run and charged before it. TOKEN is prepaid: the cost of
the block's `token_limit` (its bound on the run's tokens) is charged before the run and the
difference to the real usage settled after it. SECOND is known only after the run and charged then."""

from __future__ import annotations

import json
import math
from typing import Any

from stratus.blocks.sdk import Block, BlockCost, BlockCostType

TOKENS_PER_UNIT = 1_000


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
    """RUN and BYTE costs, and a TOKEN cost's reservation (`token_limit` tokens); SECOND is after."""
    cost = matching_cost(block, data)
    if cost is None:
        return 0
    if cost.cost_type is BlockCostType.RUN:
        return cost.cost_amount
    if cost.cost_type is BlockCostType.BYTE:
        return cost.cost_amount * len(json.dumps(data, default=str).encode())
    if cost.cost_type is BlockCostType.TOKEN:
        return _token_cost(cost, block.token_limit(data) or 0)
    return 0


def prepaid_token_limit(block: Block, data: dict[str, Any]) -> int | None:
    """The token limit a run must keep to: its reservation's, when a TOKEN cost applies."""
    cost = matching_cost(block, data)
    if cost is None or cost.cost_type is not BlockCostType.TOKEN:
        return None
    return block.token_limit(data) or 0


def _token_cost(cost: BlockCost, tokens: int) -> int:
    return math.ceil(cost.cost_amount * max(tokens, 0) / TOKENS_PER_UNIT)


def cost_after_run(block: Block, data: dict[str, Any], seconds: float, tokens: int = 0) -> int:
    """SECOND: whole seconds, rounded up. TOKEN: `cost_amount` per 1,000 tokens, rounded up."""
    cost = matching_cost(block, data)
    if cost is None:
        return 0
    if cost.cost_type is BlockCostType.SECOND:
        return int(cost.cost_amount * max(seconds, 0.0) + 0.999)
    if cost.cost_type is BlockCostType.TOKEN:
        return _token_cost(cost, tokens)
    return 0
