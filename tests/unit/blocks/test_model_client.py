"""llm_call against the loopback model server over HTTP, in both wire formats: Anthropic's
Messages API through the `anthropic` SDK, the OpenAI-compatible providers through `openai`;
the provider chosen from the model name by AutoGPT's table."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest

from localcloud.fake_openai import FakeOpenAI
from stratus.blocks.ai import providers as p
from stratus.blocks.ai.llm import AITextGeneratorBlock
from stratus.blocks.ai.model_client import LlmCallError, LlmCredentials, llm_call, output_budget
from stratus.blocks.testing import run_block
from tests.conftest import allowed_egress

TOOL = {
    "type": "function",
    "function": {
        "name": "add",
        "description": "Adds two numbers.",
        "parameters": {"type": "object", "properties": {"a": {"type": "number"}, "b": {"type": "number"}}},
    },
}


@pytest.fixture(scope="module")
def server() -> Iterator[FakeOpenAI]:
    fake = FakeOpenAI().start()
    with allowed_egress(fake.url):
        yield fake
    fake.stop()


@pytest.fixture
def fake(server: FakeOpenAI, monkeypatch: pytest.MonkeyPatch) -> FakeOpenAI:
    server.reset()
    for provider in p.LLM_PROVIDERS:
        monkeypatch.setenv(f"{provider.upper()}_BASE_URL", server.root_url if provider == p.ANTHROPIC else server.url)
    return server


def call(model: str, prompt: list[dict[str, Any]], **kwargs: Any) -> Any:
    credentials = LlmCredentials(api_key=kwargs.pop("api_key", "sk-test"), provider=kwargs.pop("provider", None))
    return asyncio.run(llm_call(credentials, model, prompt, kwargs.pop("max_tokens", None), **kwargs))


def test_the_model_name_picks_the_provider() -> None:
    assert p.provider_of("claude-sonnet-4-5-20250929") == p.ANTHROPIC
    assert p.provider_of("anthropic/claude-sonnet-4-6") == p.ANTHROPIC  # AutoGPT's prefixed alias
    assert p.provider_of("meta-llama/llama-4-scout") == p.OPEN_ROUTER
    assert p.provider_of("llama-3.3-70b-versatile") == p.GROQ
    assert p.provider_of("llama3.2") == p.OLLAMA
    assert p.provider_of("Llama-3.3-70B-Instruct") == p.LLAMA_API
    assert p.provider_of("Qwen/Qwen2.5-72B-Instruct-Turbo") == p.AIML_API
    assert p.provider_of("v0-1.5-md") == p.V0
    assert p.provider_of("claude-3-5-sonnet-latest") == p.ANTHROPIC  # retired by AutoGPT, still routed
    assert p.provider_of("llama3-70b-8192") == p.GROQ
    assert p.provider_of("claude-next-unknown") == p.ANTHROPIC
    assert p.provider_of("my-vllm-model") == p.OPENAI  # any OpenAI-compatible deployment
    assert len(p.LlmModel) == 108 and p.discriminator_mapping()["gpt-4o"] == p.OPENAI


def test_claude_goes_through_the_messages_api_with_the_system_prompt_apart(fake: FakeOpenAI) -> None:
    reply = call(
        "claude-sonnet-4-5-20250929",
        [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hello"}],
        max_tokens=50,
    )
    assert reply.response == "Echo: Hello" and reply.tool_calls is None
    assert reply.prompt_tokens == 3 and reply.completion_tokens == 2
    [sent] = fake.calls
    assert sent["api"] == "messages" and sent["api_key"] == "sk-test"
    assert sent["body"]["system"] == [{"type": "text", "text": "Be brief.", "cache_control": {"type": "ephemeral"}}]
    assert sent["body"]["messages"] == [{"role": "user", "content": "Hello"}]
    assert sent["body"]["max_tokens"] == 50


def test_claude_tool_calls_come_back_in_openais_shape_and_the_history_converts(fake: FakeOpenAI) -> None:
    prompt = [{"role": "user", "content": 'Add them.\nCALL_TOOL add {"a": 2, "b": 3}'}]
    reply = call("claude-haiku-4-5-20251001", prompt, tools=[TOOL])
    [tool_call] = reply.tool_calls
    assert tool_call.type == "function" and tool_call.id.startswith("toolu_")
    assert tool_call.function.name == "add" and json.loads(tool_call.function.arguments) == {"a": 2, "b": 3}
    sent = fake.calls[-1]["body"]
    assert sent["tools"][0]["name"] == "add" and sent["tools"][0]["input_schema"]["properties"]["a"]
    # The OpenAI-shaped history of that call (assistant tool_calls, a tool message) becomes
    # tool_use / tool_result blocks.
    history = prompt + [
        {"role": "assistant", "content": None, "tool_calls": [tool_call.model_dump()]},
        {"role": "tool", "tool_call_id": tool_call.id, "content": "5"},
    ]
    answer = call("claude-haiku-4-5-20251001", history, tools=[TOOL])
    assert answer.response == "Tool results: 5" and answer.tool_calls is None
    messages = fake.calls[-1]["body"]["messages"]
    assert messages[1]["content"][-1] == {
        "type": "tool_use",
        "id": tool_call.id,
        "name": "add",
        "input": {"a": 2, "b": 3},
    }
    assert messages[2] == {
        "role": "user",
        "content": [{"type": "tool_result", "tool_use_id": tool_call.id, "content": "5"}],
    }


@pytest.mark.parametrize("model", ["meta-llama/llama-4-scout", "llama-3.3-70b-versatile", "v0-1.5-md", "llama3.2"])
def test_openai_compatible_providers_go_through_chat_completions(fake: FakeOpenAI, model: str) -> None:
    reply = call(model, [{"role": "user", "content": "Hi"}], max_tokens=20)
    assert reply.response == "Echo: Hi"
    assert fake.calls[-1]["api"] == "chat" and fake.requests[-1]["model"] == model


def test_provider_rules_as_autogpt(fake: FakeOpenAI) -> None:
    with pytest.raises(LlmCallError, match="Groq does not support tools"):
        call("llama-3.3-70b-versatile", [{"role": "user", "content": "x"}], tools=[TOOL])
    with pytest.raises(LlmCallError, match="cannot be used for model"):  # a key goes to its own provider only
        call("claude-sonnet-4-5-20250929", [{"role": "user", "content": "x"}], provider=p.OPENAI)
    with pytest.raises(LlmCallError, match="No API key for the LLM provider 'anthropic'"):
        call("claude-sonnet-4-5-20250929", [{"role": "user", "content": "x"}], api_key=None)
    call("gpt-4o", [{"role": "user", "content": "x"}], force_json_output=True)
    assert fake.requests[-1]["response_format"] == {"type": "json_object"}
    assert len(fake.calls) == 1  # only the OpenAI call was sent: the refused ones never left
    assert output_budget("claude-3-haiku-20240307", [], None) == 4_096  # the model's max output
    assert output_budget("claude-3-haiku-20240307", [], 100) == 100
    assert output_budget("my-vllm-model", [], None) is None  # the endpoint's own default


def test_an_llm_block_runs_a_claude_model_against_the_messages_api(fake: FakeOpenAI) -> None:
    out = dict(
        run_block(
            AITextGeneratorBlock(),
            {"prompt": "Hello {{name}}", "prompt_values": {"name": "Ada"}, "model": "claude-sonnet-4-5-20250929"},
            llm_api_key="sk-ant",
            llm_provider=p.ANTHROPIC,
        )
    )
    assert out["response"] == "Echo: Hello Ada"
    assert [(c["api"], c["api_key"]) for c in fake.calls] == [("messages", "sk-ant")]
