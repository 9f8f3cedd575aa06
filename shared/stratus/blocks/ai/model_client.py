"""Every model call: `llm_call` (the LLM blocks, the SmartDecisionMaker) and the SDK clients.

`llm_call` is AutoGPT's `llm_call` (blocks/llm.py) on our clients: the model's provider
(stratus.blocks.ai.providers) picks the wire protocol and endpoint.

* `anthropic`: the official `anthropic` SDK, Messages API. As AutoGPT: the system messages
  are joined with " " into `system` (left out when blank), only user and assistant messages are
  sent, consecutive string messages of one role are concatenated, OpenAI-format tools become
  Anthropic tools (`name`, `description`, `input_schema` {type object, properties, required}),
  and the reply's `tool_use` blocks come back as tool calls with JSON-string arguments; the
  response text is the first block's text (or the tool's name when the first block is a
  tool_use), `thinking` blocks are the reasoning; `parallel_tool_calls=False` is sent as
  `tool_choice {type: auto, disable_parallel_tool_use: true}` (AutoGPT sends none). Beyond
  AutoGPT, a conversation in OpenAI's
  tool-call shape (an assistant message with `tool_calls`, `tool` messages) is converted to
  `tool_use` / `tool_result` blocks, so a caller can keep one history for every provider.
* every other provider (openai, open_router, groq, llama_api, aiml_api, v0, ollama): the
  official `openai` SDK against the provider's OpenAI-compatible chat-completions endpoint,
  with AutoGPT's per-provider options (tools and `parallel_tool_calls` where AutoGPT sends
  them; `response_format` json_object for openai, groq and v0 when `force_json_output`; Groq
  and Ollama refuse tools, as in AutoGPT). Ollama is called at `http://<ollama_host>/v1`
  (its OpenAI-compatible API) instead of AutoGPT's ollama client; the default ollama_host means
  the platform's configured Ollama endpoint. OpenAI is called through chat completions (AutoGPT
  now uses its Responses API): any OpenAI-compatible deployment keeps working.

Tool calls are normalised to OpenAI's shape for every provider: `ToolContentBlock(id,
type="function", function=ToolCall(name, arguments=<JSON string>))` (AutoGPT keeps Anthropic's
"tool_use" as the type; the id is the provider's, which a tool result must quote).

Every SDK's HTTP client is `stratus.net.egress`'s: a base URL on a non-public address is
refused (unless allow-listed) and every connection goes to the address that was checked.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from stratus.blocks.ai import providers as p

DEFAULT_TIMEOUT_SECONDS = 120.0
# OpenAI's reasoning models take only max_completion_tokens (which covers their reasoning tokens).
_COMPLETION_TOKENS_MODELS = ("o1", "o3", "o4", "gpt-5")
_UNKNOWN_MODEL_OUTPUT = 2**15  # AutoGPT's max output of a model whose table entry has none


def openai_client(**kwargs: Any) -> Any:
    """`openai.AsyncOpenAI(**kwargs)` over the egress-guarded HTTP client."""
    import httpx2
    import openai  # lazily: only the ai block group ships it

    from stratus.net.egress import guarded_client

    return openai.AsyncOpenAI(**kwargs, http_client=guarded_client(httpx2, client_class=openai.DefaultAsyncHttpxClient))


def anthropic_client(**kwargs: Any) -> Any:
    """`anthropic.AsyncAnthropic(**kwargs)` over the egress-guarded HTTP client."""
    import anthropic  # lazily: only the ai block group ships it
    import httpx2

    from stratus.net.egress import guarded_client

    return anthropic.AsyncAnthropic(
        **kwargs, http_client=guarded_client(httpx2, client_class=anthropic.DefaultAsyncHttpxClient)
    )


# --- AutoGPT's types ------------------------------------------------------------------------
@dataclass(frozen=True)
class LlmCredentials:
    """What a call authenticates with (AutoGPT's APIKeyCredentials) and where it goes.

    `provider`: the key's provider (None: the model's). `base_url`: None is the provider's
    configured endpoint (stratus.config.PlatformLlmSettings), else its public one.
    """

    api_key: str | None
    provider: str | None = None
    base_url: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    timeout: float = DEFAULT_TIMEOUT_SECONDS

    @classmethod
    def from_block_kwargs(cls, kwargs: Mapping[str, Any]) -> LlmCredentials:
        """The credentials of a block run: what stratus.executions.node_runner resolved
        (`llm_api_key`, `llm_provider`, `llm_base_url`, `llm_headers`, `llm_timeout`)."""
        return cls(
            api_key=kwargs.get("llm_api_key"),
            provider=kwargs.get("llm_provider"),
            base_url=kwargs.get("llm_base_url"),
            headers=dict(kwargs.get("llm_headers") or {}),
            timeout=float(kwargs.get("llm_timeout") or DEFAULT_TIMEOUT_SECONDS),
        )


class ToolCall(BaseModel):
    name: str
    arguments: str  # a JSON object, as a string


class ToolContentBlock(BaseModel):
    id: str
    type: str
    function: ToolCall


class LLMResponse(BaseModel):
    raw_response: Any
    prompt: list[Any]
    response: str
    tool_calls: list[ToolContentBlock] | None
    prompt_tokens: int
    completion_tokens: int
    cache_read_tokens: int = 0
    cache_creation_tokens: int = 0
    reasoning: str | None = None
    provider_cost: float | None = None


class LlmCallError(ValueError):
    """A call that cannot be made (no key, another provider's key, tools a provider does not take)."""


class EmptyReply(LlmCallError):
    """The endpoint answered without a choice or content (worth a retry)."""

    retryable = True


# --- conversions ------------------------------------------------------------------------------
def convert_openai_tool_fmt_to_anthropic(openai_tools: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """OpenAI-format tools (`{"type": "function", "function": {...}}` or the bare function) as
    Anthropic tools; [] for none (the request then has no `tools`)."""
    converted: list[dict[str, Any]] = []
    for tool in openai_tools or []:
        function = tool["function"] if "function" in tool else tool
        parameters = function.get("parameters") or {}
        converted.append(
            {
                "name": function["name"],
                "description": function.get("description", ""),
                "input_schema": {
                    "type": "object",
                    "properties": parameters.get("properties", {}),
                    "required": parameters.get("required", []),
                },
            }
        )
    return converted


def _tool_result_block(message: Mapping[str, Any]) -> dict[str, Any]:
    content = message.get("content")
    return {
        "type": "tool_result",
        "tool_use_id": message.get("tool_call_id") or "",
        "content": content if isinstance(content, (str, list)) else json.dumps(content, default=str),
    }


def _tool_use_blocks(message: Mapping[str, Any]) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    content = message.get("content")
    if isinstance(content, str) and content:
        blocks.append({"type": "text", "text": content})
    elif isinstance(content, list):
        blocks.extend(content)
    for call in message.get("tool_calls") or []:
        function = call.get("function") or {}
        arguments = function.get("arguments")
        try:
            parsed = json.loads(arguments) if isinstance(arguments, str) and arguments else (arguments or {})
        except ValueError:
            parsed = {}
        blocks.append(
            {"type": "tool_use", "id": call.get("id") or "", "name": function.get("name") or "", "input": parsed}
        )
    return blocks


def anthropic_messages(prompt: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """(system prompt, messages) of a chat prompt for the Messages API, as AutoGPT builds them
    (see the module doc), with OpenAI-shaped tool calls and results converted."""
    system = " ".join(str(m["content"]) for m in prompt if m.get("role") == "system")
    messages: list[dict[str, Any]] = []
    last_role = None
    for message in prompt:
        role = message.get("role")
        content: Any
        if role == "tool":  # an OpenAI tool result: a user turn with a tool_result block
            role, content = "user", [_tool_result_block(message)]
        elif role == "assistant" and message.get("tool_calls"):
            content = _tool_use_blocks(message)
        elif role in ("user", "assistant"):
            content = message.get("content")
        else:
            continue
        if role == last_role and messages and isinstance(messages[-1]["content"], str) and isinstance(content, str):
            messages[-1]["content"] += content
        elif (
            role == last_role
            and messages
            and message.get("role") == "tool"
            and isinstance(messages[-1]["content"], list)
        ):  # results of one assistant turn's tool calls go in one user turn
            messages[-1]["content"].extend(content)
        else:
            messages.append({"role": role, "content": list(content) if isinstance(content, list) else content})
            last_role = role
    return system, messages


def _anthropic_tool_calls(content: list[Any]) -> list[ToolContentBlock] | None:
    calls = [
        ToolContentBlock(
            id=block.id, type="function", function=ToolCall(name=block.name, arguments=json.dumps(block.input))
        )
        for block in content
        if getattr(block, "type", None) == "tool_use"
    ]
    return calls or None


def _openai_tool_calls(message: Any) -> list[ToolContentBlock] | None:
    calls = [
        ToolContentBlock(
            id=call.id,
            type="function",
            function=ToolCall(name=call.function.name, arguments=call.function.arguments or "{}"),
        )
        for call in getattr(message, "tool_calls", None) or []
    ]
    return calls or None


def _openai_reasoning(response: Any) -> str | None:
    choice = response.choices[0]
    for holder in (choice, response, choice.message):
        value = getattr(holder, "reasoning", None)
        if value:
            return str(value)
    return None


# --- prompt budget ------------------------------------------------------------------------------
def estimate_tokens(prompt: list[dict[str, Any]]) -> int:
    """A prompt's tokens, estimated at 4 characters a token plus framing (AutoGPT counts them
    with tiktoken; this only sizes max_tokens and the compression)."""
    total = 0
    for message in prompt:
        content = message.get("content")
        text = content if isinstance(content, str) else json.dumps(content, default=str)
        total += len(text) // 4 + 4
    return total + 3


def compress_prompt(prompt: list[dict[str, Any]], target_tokens: int) -> list[dict[str, Any]]:
    """Truncation only, as AutoGPT's compress_context without a summarising client: drop the
    oldest messages other than system messages and the last one until the prompt fits, then
    shorten the longest string contents in the middle."""
    messages = [dict(m) for m in prompt]
    while estimate_tokens(messages) > target_tokens:
        droppable = [i for i, m in enumerate(messages[:-1]) if m.get("role") != "system"]
        if not droppable:
            break
        del messages[droppable[0]]
    while estimate_tokens(messages) > target_tokens:
        strings = [i for i, m in enumerate(messages) if isinstance(m.get("content"), str) and len(m["content"]) > 64]
        if not strings:
            break
        longest = max(strings, key=lambda i: len(messages[i]["content"]))
        text = messages[longest]["content"]
        excess = (estimate_tokens(messages) - target_tokens) * 4 + 32
        keep = max(32, len(text) - excess)
        messages[longest]["content"] = text[: keep // 2] + "\n…\n" + text[len(text) - keep // 2 :]
        if keep == 32:
            break
    return messages


def output_budget(model: str, prompt: list[dict[str, Any]], max_tokens: int | None) -> int | None:
    """AutoGPT's max_tokens of a call: the least of the room left in the context window, the
    model's max output and the caller's max_tokens (at least 1). A model the table does not
    know gets the caller's max_tokens as it is (None: the endpoint's default)."""
    entry = p.limits(model)
    if entry is None:
        return max_tokens if max_tokens and max_tokens > 0 else None
    model_max = entry.max_output_tokens or _UNKNOWN_MODEL_OUTPUT
    user_max = max_tokens if max_tokens and max_tokens > 0 else model_max
    available = max(entry.context_window - estimate_tokens(prompt), 0)
    return max(min(available, model_max, user_max), 1)


# --- endpoints ------------------------------------------------------------------------------------
def provider_base_url(provider: str, ollama_host: str | None = None) -> str:
    """Where a provider's calls go: for Ollama a node's own `ollama_host`, else the provider's
    configured base URL (stratus.config), else its public endpoint."""
    from stratus.config import PlatformLlmSettings, get_settings

    if provider == p.OLLAMA and ollama_host and ollama_host.strip() not in ("", p.DEFAULT_OLLAMA_HOST):
        host = ollama_host.strip().rstrip("/")
        return (host if "://" in host else f"http://{host}") + "/v1"
    return get_settings(PlatformLlmSettings).base_url(provider) or p.DEFAULT_BASE_URLS[provider]


def _platform_key(provider: str) -> str | None:
    """The platform's key of a provider given directly (`<P>_API_KEY`: local runs, tests); the
    executor resolves the SSM one (stratus.executions.node_runner)."""
    from stratus.config import PlatformLlmSettings, get_settings

    return get_settings(PlatformLlmSettings).api_key(provider)


def _parallel_tool_calls(model: str, parallel_tool_calls: bool | None) -> dict[str, Any]:
    if model.startswith("o") or parallel_tool_calls is None:
        return {}
    return {"parallel_tool_calls": parallel_tool_calls}


async def llm_call(
    credentials: LlmCredentials,
    llm_model: str | p.LlmModel,
    prompt: list[dict[str, Any]],
    max_tokens: int | None,
    force_json_output: bool = False,
    tools: list[dict[str, Any]] | None = None,
    ollama_host: str = p.DEFAULT_OLLAMA_HOST,
    parallel_tool_calls: bool | None = None,
    compress_prompt_to_fit: bool = True,
) -> LLMResponse:
    """One call of `llm_model` with a chat prompt (OpenAI-style message dicts); see the module
    doc for what each provider gets. Raises the SDK's errors (openai.APIStatusError,
    anthropic.APIStatusError, connection errors) and LlmCallError."""
    model = p.api_model_name(llm_model)
    entry = p.limits(llm_model)
    provider = p.provider_of(llm_model)
    if credentials.provider and credentials.provider != provider:
        raise LlmCallError(
            f"Credentials of provider {credentials.provider!r} cannot be used for model {model!r} "
            f"(provider {provider!r})."
        )
    if compress_prompt_to_fit and entry is not None:
        prompt = compress_prompt(prompt, entry.context_window // 2)
    prompt = [_without_surrogates(m) for m in prompt]
    budget = output_budget(model, prompt, max_tokens)
    api_key = credentials.api_key or _platform_key(provider) or ("ollama" if provider == p.OLLAMA else None)
    if not api_key:
        raise LlmCallError(f"No API key for the LLM provider {provider!r}: set the block's credentials.")
    base_url = credentials.base_url or provider_base_url(provider, ollama_host)
    headers = {**p.PROVIDER_HEADERS.get(provider, {}), **credentials.headers}
    if p.PROTOCOLS[provider] == p.ANTHROPIC_MESSAGES:
        return await _anthropic_call(
            api_key, base_url, headers, credentials.timeout, model, prompt, budget, tools, parallel_tool_calls
        )
    if tools and provider in (p.GROQ, p.OLLAMA):
        raise LlmCallError(f"{'Groq' if provider == p.GROQ else 'Ollama'} does not support tools.")
    params: dict[str, Any] = {"model": model, "messages": prompt}
    if budget:
        reasoning = provider == p.OPENAI and model.startswith(_COMPLETION_TOKENS_MODELS)
        params["max_completion_tokens" if reasoning else "max_tokens"] = budget
    if force_json_output and provider in (p.OPENAI, p.GROQ, p.V0):
        params["response_format"] = {"type": "json_object"}
    if tools and provider != p.AIML_API:  # AutoGPT sends AI/ML API no tools
        params["tools"] = tools
        params.update(_parallel_tool_calls(model, parallel_tool_calls))
    client = openai_client(
        api_key=api_key,
        base_url=base_url,
        max_retries=0,
        timeout=credentials.timeout,
        default_headers=headers or None,
    )
    async with client:
        response = await client.chat.completions.create(**params)
    if not response.choices:
        raise EmptyReply(f"The {provider} endpoint returned no choices")
    message = response.choices[0].message
    usage = getattr(response, "usage", None)
    return LLMResponse(
        raw_response=message,
        prompt=prompt,
        response=message.content or "",
        tool_calls=_openai_tool_calls(message),
        prompt_tokens=int(getattr(usage, "prompt_tokens", 0) or 0),
        completion_tokens=int(getattr(usage, "completion_tokens", 0) or 0),
        reasoning=_openai_reasoning(response),
    )


async def _anthropic_call(
    api_key: str,
    base_url: str,
    headers: dict[str, str],
    timeout: float,
    model: str,
    prompt: list[dict[str, Any]],
    budget: int | None,
    tools: list[dict[str, Any]] | None,
    parallel_tool_calls: bool | None = None,
) -> LLMResponse:
    system, messages = anthropic_messages(prompt)
    params: dict[str, Any] = {"model": model, "messages": messages, "max_tokens": budget or 4096}
    anthropic_tools = convert_openai_tool_fmt_to_anthropic(tools)
    if anthropic_tools:
        # As AutoGPT: the tool definitions and the system prompt are cached prefixes.
        anthropic_tools[-1] = {**anthropic_tools[-1], "cache_control": {"type": "ephemeral"}}
        params["tools"] = anthropic_tools
        if parallel_tool_calls is False:  # Anthropic's way to say one tool call at most
            params["tool_choice"] = {"type": "auto", "disable_parallel_tool_use": True}
    if system.strip():  # Anthropic refuses empty text blocks
        params["system"] = [{"type": "text", "text": system, "cache_control": {"type": "ephemeral"}}]
    client = anthropic_client(
        api_key=api_key, base_url=base_url, max_retries=0, timeout=timeout, default_headers=headers or None
    )
    async with client:
        response = await client.messages.create(**params)
    if not response.content:
        raise EmptyReply("No content returned from Anthropic.")
    first = response.content[0]
    reasoning = next((b.thinking for b in response.content if getattr(b, "type", None) == "thinking"), None)
    usage = response.usage
    return LLMResponse(
        raw_response=response,
        prompt=prompt,
        response=first.name if getattr(first, "type", None) == "tool_use" else getattr(first, "text", ""),
        tool_calls=_anthropic_tool_calls(response.content),
        prompt_tokens=int(usage.input_tokens or 0),
        completion_tokens=int(usage.output_tokens or 0),
        cache_read_tokens=int(getattr(usage, "cache_read_input_tokens", None) or 0),
        cache_creation_tokens=int(getattr(usage, "cache_creation_input_tokens", None) or 0),
        reasoning=reasoning,
    )


def _without_surrogates(message: dict[str, Any]) -> dict[str, Any]:
    """Unpaired surrogates replaced, so the request body encodes (as AutoGPT sanitises)."""
    content = message.get("content")
    if isinstance(content, str):
        try:
            content.encode("utf-8")
        except UnicodeEncodeError:
            return {**message, "content": content.encode("utf-8", "surrogatepass").decode("utf-8", "replace")}
    return message
