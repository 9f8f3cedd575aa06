"""Block costs: TOKEN (per 1,000 tokens, reserved before the run from the block's token limit,
settled after it) next to RUN / BYTE / SECOND, and the LLM blocks' per-model TOKEN costs that
apply to platform-key runs only."""

from __future__ import annotations

from typing import Any

import pytest

from stratus.blocks.ai.llm import (
    MODEL_MAX_OUTPUT_TOKENS,
    MODEL_TOKEN_COSTS,
    AIStructuredResponseGeneratorBlock,
    AITextGeneratorBlock,
    AITextSummarizerBlock,
    prompt_token_bound,
)
from stratus.blocks.costs import cost_after_run, cost_before_run, prepaid_token_limit
from stratus.blocks.sdk import Block, BlockCost, BlockCostType, BlockSchema
from stratus.executions.billing import cost_input, effective_credentials
from stratus.executions.models import RunContext
from stratus.executions.node_runner import UsageRecorder

USER_CREDENTIALS = {"id": "c-1", "provider": "openai", "type": "api_key", "title": "My key"}


class _Priced(Block):
    id = "00000000-0000-0000-0000-0000000000aa"

    class Input(BlockSchema):
        model: str = "small"

    input_schema = output_schema = Input
    costs = [
        BlockCost(cost_amount=2, cost_filter={"model": "small"}, cost_type=BlockCostType.TOKEN),
        BlockCost(cost_amount=3, cost_filter={"model": "slow"}, cost_type=BlockCostType.SECOND),
        BlockCost(cost_amount=5, cost_filter={"model": "flat"}, cost_type=BlockCostType.RUN),
    ]


@pytest.mark.parametrize("tokens, expected", [(0, 0), (1, 1), (500, 1), (999, 2), (1000, 2), (1001, 3), (12_345, 25)])
def test_token_cost_is_per_thousand_tokens_rounded_up(tokens: int, expected: int) -> None:
    assert cost_after_run(_Priced(), {"model": "small"}, seconds=10, tokens=tokens) == expected


class _Limited(_Priced):
    def token_limit(self, input_data: Any) -> int | None:
        return 1500


def test_token_cost_before_the_run_is_the_reservation_of_the_token_limit() -> None:
    assert cost_before_run(_Limited(), {"model": "small"}) == 3  # 2 per 1,000 of 1,500 tokens, rounded up
    assert prepaid_token_limit(_Limited(), {"model": "small"}) == 1500
    assert cost_before_run(_Priced(), {"model": "small"}) == 0  # a block without a bound reserves nothing
    assert (
        cost_before_run(_Limited(), {"model": "flat"}) == 5
        and prepaid_token_limit(_Limited(), {"model": "flat"}) is None
    )


def test_llm_token_limits_count_the_prompt_the_output_cap_and_the_attempts() -> None:
    text = AITextGeneratorBlock()
    data = {"prompt": "Hello {{name}}", "prompt_values": {"name": "Ada"}, "model": "gpt-4o-mini"}
    prompt = prompt_token_bound(["", "Hello Ada"])
    assert text.token_limit({**data, "max_tokens": 700}) == 3 * (prompt + 700)
    assert text.token_limit(data) == 3 * (prompt + MODEL_MAX_OUTPUT_TOKENS["gpt-4o-mini"])
    assert text.token_limit({**data, "retry": 1, "max_tokens": 10}) == prompt + 10
    assert text.token_limit({"model": "gpt-4o-mini"}) == 0  # invalid input: no call will be made
    # A structured retry re-sends the reply and a complaint: more than attempts × one call.
    structured = AIStructuredResponseGeneratorBlock()
    shaped = {"prompt": "Describe Paris", "expected_format": {"city": "The city"}, "model": "gpt-4o", "max_tokens": 100}
    one = structured.token_limit({**shaped, "retry": 1})
    assert structured.token_limit({**shaped, "retry": 3}) > 3 * one
    # The summarizer grows with its text.
    summarizer = AITextSummarizerBlock()
    short, long = summarizer.token_limit({"text": "word " * 10}), summarizer.token_limit({"text": "word " * 20_000})
    assert 0 < short < long
    # The user's own key: no TOKEN cost applies, so no limit and no reservation.
    own = {**data, "credentials": USER_CREDENTIALS}
    assert prepaid_token_limit(text, own) is None and cost_before_run(text, own) == 0
    assert prepaid_token_limit(text, {**data, "credentials": {}}) == text.token_limit(data)


def test_after_run_costs_by_type() -> None:
    block = _Priced()
    assert cost_after_run(block, {"model": "slow"}, seconds=1.5, tokens=5000) == 5  # SECOND ignores tokens
    assert cost_after_run(block, {"model": "flat"}, seconds=9, tokens=5000) == 0  # RUN was charged before
    assert cost_after_run(block, {"model": "other"}, seconds=9, tokens=5000) == 0  # no matching cost
    assert BlockCostType.TOKEN.value == "token"
    assert {"cost_amount": 2, "cost_filter": {"model": "small"}, "cost_type": "token"} in block.to_dict()["costs"]


def _stored(provider: str = "openai") -> dict[str, Any]:
    from stratus.integrations.credentials import CreateAPIKeyCredentials, create_credentials

    meta = create_credentials("u1", provider, CreateAPIKeyCredentials(api_key=f"sk-{provider}", title="My key"))
    return {"id": meta.id, "provider": provider, "type": "api_key", "title": "My key"}


def test_llm_token_costs_apply_to_platform_key_runs_only(aws) -> None:
    block, meta = AITextGeneratorBlock(), RunContext("u1")
    tokens = 2500
    platform = cost_input(meta, block, {"model": "gpt-4o-mini"})
    assert platform["credentials"] == {}
    assert cost_after_run(block, platform, 0, tokens) == 3 * MODEL_TOKEN_COSTS["gpt-4o-mini"]
    assert cost_after_run(block, cost_input(meta, block, {"model": "o1"}), 0, tokens) == 15
    stored = _stored()
    own = cost_input(meta, block, {"model": "gpt-4o-mini", "credentials": stored})
    assert cost_after_run(block, own, 0, tokens) == 0  # the user's own key: the provider bills them
    assigned = RunContext("u1", credentials_inputs={"openai_api_key_credentials": stored})
    assert cost_after_run(block, cost_input(assigned, block, {"model": "gpt-4o-mini"}), 0, tokens) == 0
    assert cost_after_run(block, cost_input(meta, block, {"model": "my-local-model"}), 0, tokens) == 0
    # Claude on the platform key: the table price (claude-sonnet-4-5 output $15 / 1M tokens: 2 / 1,000)
    claude = cost_input(meta, block, {"model": "claude-sonnet-4-5-20250929"})
    assert cost_after_run(block, claude, 0, tokens) == 5  # 2.5 thousand tokens at 2 credits


def test_unusable_credentials_are_platform_key_runs(aws) -> None:
    """Credentials the user does not have (an import's reference to its author's account),
    AutoGPT's system credentials, or another provider's, count as none: the run is the
    platform's and is charged."""
    block, meta = AITextGeneratorBlock(), RunContext("u1")
    openai_key = _stored("openai")
    for credentials in (
        USER_CREDENTIALS,  # not stored
        {"id": "24e5d942-d9e3-4798-8151-90143ee55629", "provider": "anthropic", "type": "api_key"},  # AutoGPT's
        openai_key,  # the user's, but OpenAI's: never sent to Anthropic
    ):
        priced = cost_input(meta, block, {"model": "claude-sonnet-4-5-20250929", "credentials": credentials})
        assert priced["credentials"] == {}
        assert cost_after_run(block, priced, 0, 1000) == 2


def test_effective_credentials_order(aws) -> None:
    block = AITextGeneratorBlock()
    own, other = _stored(), _stored()
    meta = RunContext("u1", credentials_inputs={"openai_api_key_credentials": other})
    # AutoGPT's order: the execution's credentials_inputs (its input mask) win over the node's own
    assert effective_credentials(meta, block, {"credentials": own}) == other
    assert effective_credentials(RunContext("u1"), block, {"credentials": own}) == own
    assert effective_credentials(meta, block, {"credentials": {}}) == other  # the execution's, for its provider
    claude = {"credentials": {}, "model": "claude-sonnet-4-5-20250929"}
    assert effective_credentials(meta, block, claude) is None  # another provider's input: the platform key
    assert effective_credentials(RunContext("u1"), block, {}) is None  # the platform key


def test_usage_recorder_sums_calls() -> None:
    usage = UsageRecorder()
    assert usage.stats() is None
    usage(10, 5)
    usage(7, 0)
    assert usage.total_tokens == 22
    assert usage.stats() == {"input_token_count": 17, "output_token_count": 5, "llm_call_count": 2}
