"""One chat call with tools, as the SmartDecisionMaker makes it: the reply in one shape whatever
the provider (OpenAI tool_calls; AutoGPT's llm_call's LLMResponse fields).

The endpoint, key, usage callback and prepaid token cap are the LLM blocks' (`llm_base_url`,
`llm_api_key`, `record_usage`, `token_limit` run kwargs, see stratus.blocks.ai.llm): the prompt
bound counts every message and the tool signatures, and `max_tokens` is capped to what is left.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class ToolCall:
    id: str
    name: str
    arguments: str  # JSON text, as the model wrote it


@dataclass
class ModelReply:
    """One model call's answer: AutoGPT's LLMResponse fields the SmartDecisionMaker reads."""

    response: str
    tool_calls: list[ToolCall] = field(default_factory=list)
    raw_response: Any = None  # the assistant entry kept in the conversation (a dict)
    reasoning: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0


async def call_with_tools(
    kwargs: dict[str, Any],
    *,
    model: str,
    messages: list[dict[str, Any]],
    tools: list[dict[str, Any]],
    max_tokens: int | None,
    parallel_tool_calls: bool,
) -> ModelReply:
    """Call the model once with the tools offered. Raises LLMError for a call that fails."""
    from stratus.blocks.ai.llm import _LLM, LLMError, _describe, max_output_tokens, prompt_token_bound
    from stratus.net.egress import refusal

    async with _LLM(kwargs) as llm:
        params: dict[str, Any] = {"model": model, "messages": messages}
        if tools:
            params["tools"] = tools
            params["parallel_tool_calls"] = parallel_tool_calls
        bound = 0
        if llm.token_limit is not None:
            bound = prompt_token_bound([*messages, tools])
            room = llm.token_limit - bound
            if room < 1:
                raise LLMError(f"The run's prepaid token limit ({llm.token_limit}) is used up.")
            max_tokens = min(max_output_tokens(model, max_tokens), room)
        if max_tokens:
            key = "max_completion_tokens" if model.startswith(("o1", "o3", "o4", "gpt-5")) else "max_tokens"
            params[key] = max_tokens
        try:
            completion = await llm.client().chat.completions.create(**params)
        except LLMError:
            raise
        except Exception as exc:
            refused = refusal(exc)
            raise LLMError(f"Error calling LLM: {refused or _describe(exc)}") from None
        usage = getattr(completion, "usage", None)
        prompt_tokens = int(getattr(usage, "prompt_tokens", 0) or 0)
        completion_tokens = int(getattr(usage, "completion_tokens", 0) or 0)
        if llm.record_usage is not None:
            llm.record_usage(prompt_tokens, completion_tokens)
        if not completion.choices:
            raise LLMError("Error calling LLM: the model returned no choices")
        message = completion.choices[0].message
        calls = [
            ToolCall(id=call.id, name=call.function.name, arguments=call.function.arguments or "{}")
            for call in message.tool_calls or []
            if getattr(call, "function", None) is not None
        ]
        raw: dict[str, Any] = {"role": "assistant", "content": message.content}
        if calls:  # what the next call sends back (no response-only fields)
            raw["tool_calls"] = [
                {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}} for c in calls
            ]
        return ModelReply(
            response=message.content or "",
            tool_calls=calls,
            raw_response=raw,
            reasoning=getattr(message, "reasoning", None),
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
        )
