"""AI (LLM) blocks against the loopback fake OpenAI server: no network, deterministic replies."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from localcloud.fake_openai import FakeOpenAI
from stratus.blocks.ai.llm import (
    AIConditionBlock,
    AIConversationBlock,
    AIListGeneratorBlock,
    AIStructuredResponseGeneratorBlock,
    AITextGeneratorBlock,
    AITextSummarizerBlock,
)
from stratus.blocks.sdk import BlockCategory, BlockCostType
from stratus.blocks.testing import run_block

CREDENTIALS = {
    "id": "769f6af7-820b-4d5d-9b7a-ab82bbc165f",
    "provider": "openai",
    "type": "api_key",
    "title": "Test key",
}


class Usage:
    def __init__(self) -> None:
        self.calls: list[tuple[int, int]] = []

    def __call__(self, prompt_tokens: int, completion_tokens: int) -> None:
        self.calls.append((prompt_tokens, completion_tokens))


def run(fake: FakeOpenAI, block: Any, inputs: dict[str, Any], usage: Usage | None = None) -> list[tuple[str, Any]]:
    extra = {"record_usage": usage} if usage is not None else {}
    return run_block(block, {"credentials": CREDENTIALS, **inputs}, llm_base_url=fake.url, llm_api_key="test", **extra)


def outputs(results: list[tuple[str, Any]]) -> dict[str, Any]:
    return dict(results)


# --- block definitions -------------------------------------------------------------------
@pytest.mark.parametrize(
    "cls, block_id, pins",
    [
        (AITextGeneratorBlock, "1f292d4a-41a4-4977-9684-7c8d560b9f91", {"response", "prompt"}),
        (AIStructuredResponseGeneratorBlock, "ed55ac19-356e-4243-a6cb-bc599e9b716f", {"response", "prompt"}),
        (AITextSummarizerBlock, "a0a69be1-4528-491c-a85a-a4ab6873e3f0", {"summary", "prompt"}),
        (AIConversationBlock, "32a87eab-381e-4dd4-bdb8-4c47151be35a", {"response", "prompt"}),
        (AIListGeneratorBlock, "9c0b0450-d199-458b-a731-072189dd6593", {"generated_list", "list_item", "prompt"}),
    ],
)
def test_ids_pins_group_and_costs(cls: Any, block_id: str, pins: set[str]) -> None:
    block = cls()
    assert block.id == block_id
    assert block.name == cls.__name__
    assert pins | {"error"} == block.output_schema.field_names()
    assert {"model", "credentials"} <= block.input_schema.field_names()
    assert BlockCategory.AI in block.categories
    assert block.group == "ai" and block.runs_inline is False
    assert block.costs and all(
        c.cost_type == BlockCostType.TOKEN and set(c.cost_filter) == {"model", "credentials"} for c in block.costs
    )
    block.to_dict()  # the schema serializes


def test_common_llm_pins() -> None:
    for cls in (AITextGeneratorBlock, AIStructuredResponseGeneratorBlock):
        assert {"sys_prompt", "prompt", "prompt_values", "retry", "max_tokens"} <= cls.Input.field_names()
    assert {
        "expected_format",
        "list_result",
        "force_json_output",
        "conversation_history",
    } <= AIStructuredResponseGeneratorBlock.Input.field_names()
    assert {"text", "focus", "style", "chunk_overlap"} <= AITextSummarizerBlock.Input.field_names()
    assert {"messages", "prompt"} <= AIConversationBlock.Input.field_names()
    assert {"focus", "source_data", "max_retries"} <= AIListGeneratorBlock.Input.field_names()


# --- the fake server ---------------------------------------------------------------------
def test_fake_server_models_and_completion(fake: FakeOpenAI) -> None:
    models = httpx.get(f"{fake.url}/models").json()
    assert "gpt-4o" in [m["id"] for m in models["data"]]
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": "one two three"}]}
    first = httpx.post(f"{fake.url}/chat/completions", json=body).json()
    second = httpx.post(f"{fake.url}/chat/completions", json=body).json()
    assert first["choices"][0]["message"]["content"] == "Echo: one two three"
    assert first["choices"][0]["message"] == second["choices"][0]["message"]
    assert first["model"] == "gpt-4o" and first["id"].startswith("chatcmpl-") and first["id"] != second["id"]
    assert first["usage"] == {"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7}
    json_reply = httpx.post(
        f"{fake.url}/chat/completions", json={**body, "response_format": {"type": "json_object"}}
    ).json()
    assert json.loads(json_reply["choices"][0]["message"]["content"]) == {"response": "response: one two three"}
    listed = httpx.post(
        f"{fake.url}/chat/completions",
        json={
            "model": "gpt-4o",
            "messages": [
                {"role": "system", "content": "Answer with a Python list of strings."},
                {"role": "user", "content": "<focus>planet</focus>"},
            ],
        },
    ).json()
    assert listed["choices"][0]["message"]["content"] == "['planet 1', 'planet 2', 'planet 3']"
    failing = httpx.post(f"{fake.url}/chat/completions", json=body, headers={"X-Fake-Status": "503"})
    assert failing.status_code == 503 and "error" in failing.json()


def test_fake_server_max_tokens_truncates(fake: FakeOpenAI) -> None:
    reply = httpx.post(
        f"{fake.url}/chat/completions",
        json={"model": "gpt-4o", "max_tokens": 2, "messages": [{"role": "user", "content": "a b c d e"}]},
    ).json()
    assert reply["choices"][0]["message"]["content"] == "Echo: a"
    assert reply["choices"][0]["finish_reason"] == "length"


# --- AITextGenerator ------------------------------------------------------------------------
def test_text_generator_renders_prompt_values_and_reports_usage(fake: FakeOpenAI) -> None:
    usage = Usage()
    result = run(
        fake,
        AITextGeneratorBlock(),
        {
            "prompt": "Write about {{topic}} for {{ who | upper }}",
            "sys_prompt": "You are {{role}}.",
            "prompt_values": {"topic": "clouds", "who": "kids", "role": "a poet"},
        },
        usage,
    )
    assert [name for name, _ in result] == ["response", "prompt"]
    out = outputs(result)
    assert out["response"] == "Echo: Write about clouds for KIDS"
    assert out["prompt"] == [
        {"role": "system", "content": "You are a poet."},
        {"role": "user", "content": "Write about clouds for KIDS"},
    ]
    assert usage.calls == [(9, 6)]  # word counts: 4 + 5 in, "Echo: …" 6 out
    assert fake.requests[-1]["model"] == "gpt-4o"


def test_text_generator_without_values_keeps_braces(fake: FakeOpenAI) -> None:
    out = outputs(run(fake, AITextGeneratorBlock(), {"prompt": "keep {{this}}"}))
    assert out["response"] == "Echo: keep {{this}}"


def test_text_generator_template_error(fake: FakeOpenAI) -> None:
    out = outputs(run(fake, AITextGeneratorBlock(), {"prompt": "{{ x ", "prompt_values": {"x": 1}}))
    assert "Prompt template error" in out["error"]
    assert fake.requests == []


def test_text_generator_retries_after_500(fake: FakeOpenAI) -> None:
    usage = Usage()
    out = outputs(run(fake, AITextGeneratorBlock(), {"prompt": "hello", "model": "fail-once"}, usage))
    assert out["response"] == "Echo: hello"
    assert len(fake.requests) == 2
    assert len(usage.calls) == 1  # the failed call returned no usage


def test_text_generator_gives_up_after_retry_count(fake: FakeOpenAI) -> None:
    out = outputs(run(fake, AITextGeneratorBlock(), {"prompt": "hello", "model": "fail-always", "retry": 2}))
    assert "500" in out["error"] and "response" not in out
    assert len(fake.requests) == 2


def test_client_errors_are_not_retried(fake: FakeOpenAI) -> None:
    fake.fail_next(1, status=401)
    out = outputs(run(fake, AITextGeneratorBlock(), {"prompt": "hello", "retry": 3}))
    assert "401" in out["error"]
    assert len(fake.requests) == 1


def test_rate_limit_is_retried(fake: FakeOpenAI) -> None:
    fake.fail_next(2, status=429)
    out = outputs(run(fake, AITextGeneratorBlock(), {"prompt": "hello", "retry": 3}))
    assert out["response"] == "Echo: hello"
    assert len(fake.requests) == 3


def test_missing_api_key_is_an_error(fake: FakeOpenAI, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    out = outputs(run_block(AITextGeneratorBlock(), {"prompt": "x"}, llm_base_url=fake.url))
    assert "No API key" in out["error"]


def test_env_fallback_for_endpoint(fake: FakeOpenAI, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", fake.url)
    monkeypatch.setenv("OPENAI_API_KEY", "env-key")
    out = outputs(run_block(AITextGeneratorBlock(), {"prompt": "from env"}))
    assert out["response"] == "Echo: from env"


# --- AIStructuredResponseGenerator ----------------------------------------------------------
def test_structured_response_has_exactly_the_expected_keys(fake: FakeOpenAI) -> None:
    usage = Usage()
    out = outputs(
        run(
            fake,
            AIStructuredResponseGeneratorBlock(),
            {
                "prompt": "Describe {{city}}",
                "prompt_values": {"city": "Paris"},
                "expected_format": {"name": "the city name", "country": "its country"},
            },
            usage,
        )
    )
    assert out["response"] == {"name": "name: Describe Paris", "country": "country: Describe Paris"}
    assert out["prompt"][-1] == {"role": "user", "content": "Describe Paris"}
    assert '"country": "its country"' in out["prompt"][0]["content"]
    assert len(usage.calls) == 1


def test_structured_response_retries_on_wrong_keys(fake: FakeOpenAI) -> None:
    usage = Usage()
    out = outputs(
        run(
            fake,
            AIStructuredResponseGeneratorBlock(),
            {"prompt": "Go", "model": "wrong-keys-once", "expected_format": {"a": "x"}},
            usage,
        )
    )
    assert out["response"] == {"a": "a: Go"}
    assert len(fake.requests) == 2 and len(usage.calls) == 2  # both attempts cost tokens
    retry_messages = fake.requests[1]["messages"]
    assert retry_messages[-2] == {"role": "assistant", "content": '{"unexpected": "value"}'}
    assert "missing keys ['a']" in retry_messages[-1]["content"]


def test_structured_response_retries_on_unparseable_reply(fake: FakeOpenAI) -> None:
    out = outputs(
        run(
            fake,
            AIStructuredResponseGeneratorBlock(),
            {"prompt": "Go", "model": "bad-json-once", "expected_format": {"a": "x"}},
        )
    )
    assert out["response"] == {"a": "a: Go"}
    assert len(fake.requests) == 2


def test_structured_response_errors_after_retries(fake: FakeOpenAI) -> None:
    out = outputs(
        run(
            fake,
            AIStructuredResponseGeneratorBlock(),
            {"prompt": "Go", "model": "wrong-keys-always", "expected_format": {"a": "x"}, "retry": 2},
        )
    )
    assert "response" not in out
    assert "Invalid response after 2 attempt(s)" in out["error"] and "unexpected keys" in out["error"]
    assert len(fake.requests) == 2


def test_structured_response_list_result_and_json_mode(fake: FakeOpenAI) -> None:
    out = outputs(
        run(
            fake,
            AIStructuredResponseGeneratorBlock(),
            {"prompt": "Go", "expected_format": {"a": "x"}, "list_result": True, "force_json_output": True},
        )
    )
    assert out["response"] == [{"a": "a: Go"}]
    assert fake.requests[-1]["response_format"] == {"type": "json_object"}


def test_structured_response_without_format_wraps_text(fake: FakeOpenAI) -> None:
    out = outputs(
        run(
            fake,
            AIStructuredResponseGeneratorBlock(),
            {"prompt": "Go", "expected_format": {}, "conversation_history": [{"role": "user", "content": "earlier"}]},
        )
    )
    assert out["response"] == {"response": "Echo: Go"}
    assert out["prompt"][0] == {"role": "user", "content": "earlier"}


# --- AITextSummarizer -----------------------------------------------------------------------
def test_summarizer_single_chunk(fake: FakeOpenAI) -> None:
    usage = Usage()
    out = outputs(
        run(fake, AITextSummarizerBlock(), {"text": "The quick brown fox jumps.", "style": "detailed"}, usage)
    )
    assert out["summary"].startswith("Summary:")
    assert len(fake.requests) == 2  # one chunk summary + the final summary
    assert "in a detailed form" in fake.requests[0]["messages"][-1]["content"]
    assert '"final_summary"' in out["prompt"][0]["content"]
    assert len(usage.calls) == 2


def test_summarizer_chunks_long_text() -> None:
    chunks = AITextSummarizerBlock.split_text(" ".join(str(n) for n in range(50)), 20, 5)
    assert [c.split()[0] for c in chunks] == ["0", "15", "30"]
    assert chunks[-1].split()[-1] == "49"
    assert all(len(c.split()) <= 20 for c in chunks)


def test_summarizer_many_chunks(fake: FakeOpenAI) -> None:
    out = outputs(run(fake, AITextSummarizerBlock(), {"text": "word " * 200, "max_tokens": 60, "chunk_overlap": 0}))
    assert out["summary"].startswith("Summary:")
    assert len(fake.requests) == 5  # four chunks, then the final summary


# --- AIConversation -------------------------------------------------------------------------
def test_conversation(fake: FakeOpenAI) -> None:
    messages = [
        {"role": "system", "content": "You are helpful."},
        {"role": "user", "content": "Who won in 2020?"},
        {"role": "assistant", "content": "The Dodgers."},
        {"role": "user", "content": "Where was it played?"},
    ]
    out = outputs(run(fake, AIConversationBlock(), {"messages": messages}))
    assert out["response"] == "Echo: Where was it played?"
    assert out["prompt"] == messages
    out = outputs(run(fake, AIConversationBlock(), {"messages": messages, "prompt": "And then?"}))
    assert out["response"] == "Echo: And then?"


def test_conversation_needs_messages_or_prompt(fake: FakeOpenAI) -> None:
    out = outputs(run(fake, AIConversationBlock(), {"messages": []}))
    assert "no messages and no prompt" in out["error"]


# --- AIListGenerator ------------------------------------------------------------------------
def test_list_generator_yields_each_item(fake: FakeOpenAI) -> None:
    usage = Usage()
    result = run(
        fake,
        AIListGeneratorBlock(),
        {"focus": "planets", "source_data": "Zylora Prime glows. Kharon-9 is a desert -- Oceara is water."},
        usage,
    )
    assert [name for name, _ in result] == ["generated_list", "prompt"] + ["list_item"] * 3
    out = outputs(result)
    assert out["generated_list"] == ["Zylora Prime glows", "Kharon-9 is a desert", "Oceara is water"]
    assert [value for name, value in result if name == "list_item"] == out["generated_list"]
    assert len(usage.calls) == 1


def test_list_generator_focus_only_and_retry(fake: FakeOpenAI) -> None:
    result = run(fake, AIListGeneratorBlock(), {"focus": "idea", "model": "wrong-keys-once"})
    assert outputs(result)["generated_list"] == ["idea 1", "idea 2", "idea 3"]
    assert len(fake.requests) == 2


def test_list_generator_accepts_python_list_literal() -> None:
    assert AIListGeneratorBlock._extract(["a", "b"]) == (["a", "b"], None)
    from stratus.blocks.ai.llm import _parse_structured

    assert _parse_structured("Here: ['Mars', 'Venus']") == ["Mars", "Venus"]
    assert _parse_structured('```json\n{"list": ["x"]}\n```') == {"list": ["x"]}


def test_list_generator_errors_after_max_retries(fake: FakeOpenAI) -> None:
    out = outputs(run(fake, AIListGeneratorBlock(), {"focus": "x", "model": "wrong-keys-always", "max_retries": 2}))
    assert "list" in out["error"] and "generated_list" not in out
    assert len(fake.requests) == 2


# --- the blocks' own test_input / test_output, against the fake server ---------------------
@pytest.mark.parametrize(
    "cls",
    [
        AITextGeneratorBlock,
        AIStructuredResponseGeneratorBlock,
        AITextSummarizerBlock,
        AIConversationBlock,
        AIListGeneratorBlock,
        AIConditionBlock,
    ],
    ids=lambda cls: cls.__name__,
)
def test_llm_block_self_test(fake: FakeOpenAI, cls: Any) -> None:
    from tests.unit.test_block_self_tests import _matches

    block, usage = cls(), Usage()
    produced = run(fake, block, block.test_input, usage)
    assert len(produced) == len(block.test_output), produced
    for (name, value), (want_name, want_value) in zip(produced, block.test_output):
        assert name == want_name and _matches(want_value, value), ((name, value), (want_name, want_value))
    assert usage.calls and all(prompt > 0 and completion > 0 for prompt, completion in usage.calls)


def test_ai_condition_routes_yes_and_no_and_fails_on_an_unclear_answer(fake: FakeOpenAI) -> None:
    block = AIConditionBlock()
    assert block.id == "553ec5b8-6c45-4299-8d75-b394d05f72ff"
    assert {"result", "yes_output", "no_output", "error"} == block.output_schema.field_names()
    assert BlockCategory.LOGIC in block.categories and block.group == "ai"
    # No yes/no values: the input value passes through on the chosen pin.
    assert run(fake, block, {"input_value": "no", "condition": "is positive"}) == [
        ("result", False),
        ("no_output", "no"),
    ]
    request = fake.requests[-1]
    assert request["max_tokens"] == 16 and request["messages"][1]["content"].startswith("Input value: no\n")
    assert run(fake, block, {"input_value": 7, "condition": "is a number", "yes_value": "yes!"}) == [
        ("result", True),
        ("yes_output", "yes!"),
    ]
    assert block.token_limit({"input_value": 7, "condition": "c"}) > 16


def test_boolean_parsing_as_autogpt() -> None:
    from stratus.blocks.ai.llm import parse_boolean_response

    assert parse_boolean_response(" TRUE ") == (True, None)
    assert parse_boolean_response("Yes, it is.") == (True, None)
    assert parse_boolean_response("0") == (False, None)
    assert parse_boolean_response("untrue") == (False, "Unclear AI response: 'untrue'")
    assert parse_boolean_response("true or false")[1] is not None
