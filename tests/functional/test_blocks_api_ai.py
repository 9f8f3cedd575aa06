"""One-off runs of AI blocks through the blocks API: GraphsFunction invokes BlockAiFunction
(moto's Lambda invoke routed to the handlers in-process), the LLM block calls a loopback
FakeOpenAI; credentials, TOKEN charges and the API's 4xx / 402 as for in-process blocks."""

from __future__ import annotations

import math

from stratus.blocks.registry import get_block
from stratus.blocks.sdk import BlockCost
from tests.functional.test_ai_executions import ai_api  # noqa: F401 - the fixture
from tests.functional.test_blocks_api import _key
from tests.functional.test_state_machine import sfn_api  # noqa: F401 - the fixture

TEXT_GENERATOR = "1f292d4a-41a4-4977-9684-7c8d560b9f91"
PATH = f"/api/blocks/{TEXT_GENERATOR}/execute"
PROMPT = {"prompt": "Hello {{name}}", "prompt_values": {"name": "Ada"}, "model": "gpt-4o-mini"}


def _usage(api, user: str = "alice") -> list[dict]:
    _, history = api.request("GET", "/api/credits/transactions", user=user)
    return [tx for tx in history["transactions"] if tx["transaction_type"] == "USAGE"]


def _refunds(api, user: str = "alice") -> list[dict]:
    _, history = api.request("GET", "/api/credits/transactions", user=user)
    return [tx for tx in history["transactions"] if tx["transaction_type"] == "REFUND"]


def _ai_runs(api) -> int:
    return sum(1 for name, _, _ in api.runner.invocations if name == "BlockAiFunction")


def _reservation(data: dict) -> int:
    """What the block's token limit costs at gpt-4o-mini's 1 credit per 1,000 tokens."""
    return math.ceil(get_block(TEXT_GENERATOR).token_limit(data) / 1000)


def test_an_llm_block_runs_in_the_ai_lambda_on_the_platform_key_with_a_token_charge(ai_api, model_server):
    status, outputs = ai_api.request(
        "POST", PATH, user="alice", json_body=PROMPT, headers={"idempotency-key": "one-off-1"}
    )
    assert status == 200, outputs
    assert outputs == {"response": ["Echo: Hello Ada"], "prompt": [[{"role": "user", "content": "Hello Ada"}]]}
    assert _ai_runs(ai_api) == 1 and len(model_server.requests) == 1
    # Prepaid: the token limit's cost is reserved before the run, the unused part refunded after it.
    [reserved] = _usage(ai_api)
    [refund] = _refunds(ai_api)
    assert reserved["amount"] == -_reservation(PROMPT) and reserved["metadata"]["block_id"] == TEXT_GENERATOR
    assert refund["transaction_key"] == reserved["transaction_key"] + "#settle"
    assert refund["metadata"]["tokens"] > 0 and refund["amount"] == _reservation(PROMPT) - 1
    # The call was capped to what was reserved.
    assert model_server.requests[0]["max_tokens"] <= get_block(TEXT_GENERATOR).token_limit(PROMPT)
    # A retried request replays the first result: no run, no charge.
    status, again = ai_api.request(
        "POST", PATH, user="alice", json_body=PROMPT, headers={"idempotency-key": "one-off-1"}
    )
    assert status == 200 and again == outputs
    assert _ai_runs(ai_api) == 1 and len(model_server.requests) == 1 and len(_usage(ai_api)) == 1
    assert ai_api.request("GET", "/api/credits", user="alice") == (200, {"credits": 999})


def test_the_users_own_credentials_are_used_free_of_token_charges(ai_api, model_server):
    status, stored = ai_api.request(
        "POST",
        "/api/integrations/openai/credentials",
        user="alice",
        json_body={"api_key": "sk-alice-0123", "title": "Alice's key"},
    )
    assert status == 201, stored
    credentials = {"id": stored["id"], "provider": "openai", "type": "api_key", "title": stored["title"]}
    status, outputs = ai_api.request("POST", PATH, user="alice", json_body={**PROMPT, "credentials": credentials})
    assert status == 200 and outputs["response"] == ["Echo: Hello Ada"]
    assert len(model_server.requests) == 1 and _usage(ai_api) == []


def test_another_users_credentials_are_404_and_nothing_runs_or_is_charged(ai_api, model_server):
    ai_api.request("POST", "/api/auth/user", user="bob")
    _, bobs = ai_api.request(
        "POST",
        "/api/integrations/openai/credentials",
        user="bob",
        json_body={"api_key": "sk-bob-0000", "title": "Bob's key"},
    )
    body = {**PROMPT, "credentials": {"id": bobs["id"], "provider": "openai", "type": "api_key"}}
    status, error = ai_api.request("POST", PATH, user="alice", json_body=body)
    assert status == 404 and "cannot be used" in error["detail"]
    status, error = ai_api.request(
        "POST",
        f"/external-api/v1/blocks/{TEXT_GENERATOR}/execute",
        json_body=body,
        headers={"x-api-key": _key(ai_api, "alice", ["EXECUTE_BLOCK"])},
    )
    assert status == 404
    assert model_server.requests == [] and _usage(ai_api) == []


def test_bad_input_is_422_before_the_ai_lambda_is_invoked(ai_api, model_server):
    status, error = ai_api.request("POST", PATH, user="alice", json_body={"model": "gpt-4o-mini"})
    assert status == 422 and "prompt" in error["detail"]["errors"]
    assert _ai_runs(ai_api) == 0 and model_server.requests == [] and _usage(ai_api) == []


def test_a_before_run_cost_the_balance_cannot_pay_is_402_from_the_ai_lambda(ai_api, model_server, monkeypatch):
    monkeypatch.setattr(type(get_block(TEXT_GENERATOR)), "costs", [BlockCost(cost_amount=5000)])
    status, error = ai_api.request("POST", PATH, user="alice", json_body=PROMPT)
    assert status == 402 and "Insufficient balance" in error["detail"]
    assert _ai_runs(ai_api) == 1 and model_server.requests == []
    assert ai_api.request("GET", "/api/credits", user="alice") == (200, {"credits": 1000})
