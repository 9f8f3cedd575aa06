"""Block costs: TOKEN (per 1,000 tokens, after the run) next to RUN / BYTE / SECOND, and the
LLM blocks' per-model TOKEN costs that apply to platform-key runs only."""

from __future__ import annotations

from typing import Any

import pytest

from stratus.blocks.ai.llm import MODEL_TOKEN_COSTS, AITextGeneratorBlock
from stratus.blocks.costs import cost_after_run, cost_before_run
from stratus.blocks.sdk import Block, BlockCost, BlockCostType, BlockSchema
from stratus.executions.block_context import UsageRecorder, cost_input, effective_credentials

USER_CREDENTIALS = {"id": "c-1", "provider": "openai", "type": "api_key", "title": "My key"}


class _Priced(Block):
    id = "00000000-0000-0000-0000-0000000000aa"

    class Input(BlockSchema):
        model: str = "small"

    input_schema = output_schema = Input
    costs = [BlockCost(cost_amount=2, cost_filter={"model": "small"}, cost_type=BlockCostType.TOKEN),
             BlockCost(cost_amount=3, cost_filter={"model": "slow"}, cost_type=BlockCostType.SECOND),
             BlockCost(cost_amount=5, cost_filter={"model": "flat"}, cost_type=BlockCostType.RUN)]


@pytest.mark.parametrize("tokens, expected", [(0, 0), (1, 1), (500, 1), (999, 2), (1000, 2), (1001, 3),
                                              (12_345, 25)])
def test_token_cost_is_per_thousand_tokens_rounded_up(tokens: int, expected: int) -> None:
    assert cost_after_run(_Priced(), {"model": "small"}, seconds=10, tokens=tokens) == expected


def test_token_cost_is_never_charged_before_the_run() -> None:
    assert cost_before_run(_Priced(), {"model": "small"}) == 0
    assert cost_before_run(_Priced(), {"model": "flat"}) == 5


def test_after_run_costs_by_type() -> None:
    block = _Priced()
    assert cost_after_run(block, {"model": "slow"}, seconds=1.5, tokens=5000) == 5  # SECOND ignores tokens
    assert cost_after_run(block, {"model": "flat"}, seconds=9, tokens=5000) == 0  # RUN was charged before
    assert cost_after_run(block, {"model": "other"}, seconds=9, tokens=5000) == 0  # no matching cost
    assert BlockCostType.TOKEN.value == "token"
    assert {"cost_amount": 2, "cost_filter": {"model": "small"}, "cost_type": "token"} in block.to_dict()["costs"]


def test_llm_token_costs_apply_to_platform_key_runs_only() -> None:
    block, meta = AITextGeneratorBlock(), {"user_id": "u1"}
    tokens = 2500
    platform = cost_input(meta, block, {"model": "gpt-4o-mini"})
    assert platform["credentials"] == {}
    assert cost_after_run(block, platform, 0, tokens) == 3 * MODEL_TOKEN_COSTS["gpt-4o-mini"]
    assert cost_after_run(block, cost_input(meta, block, {"model": "o1"}), 0, tokens) == 15
    own = cost_input(meta, block, {"model": "gpt-4o-mini", "credentials": USER_CREDENTIALS})
    assert cost_after_run(block, own, 0, tokens) == 0  # the user's own key: the provider bills them
    assigned = {**meta, "credentials_inputs": {"openai_api_key_credentials": USER_CREDENTIALS}}
    assert cost_after_run(block, cost_input(assigned, block, {"model": "gpt-4o-mini"}), 0, tokens) == 0
    assert cost_after_run(block, cost_input(meta, block, {"model": "my-local-model"}), 0, tokens) == 0


def test_effective_credentials_order() -> None:
    block = AITextGeneratorBlock()
    other = {**USER_CREDENTIALS, "id": "c-2"}
    meta: dict[str, Any] = {"user_id": "u1", "credentials_inputs": {"openai_api_key_credentials": other}}
    assert effective_credentials(meta, block, {"credentials": USER_CREDENTIALS}) == USER_CREDENTIALS  # the node's own
    assert effective_credentials(meta, block, {"credentials": {}}) == other  # the execution's, for its provider
    assert effective_credentials({"user_id": "u1"}, block, {}) is None  # the platform key


def test_usage_recorder_sums_calls() -> None:
    usage = UsageRecorder()
    assert usage.stats() is None
    usage(10, 5)
    usage(7, 0)
    assert usage.total_tokens == 22
    assert usage.stats() == {"input_token_count": 17, "output_token_count": 5, "llm_call_count": 2}
