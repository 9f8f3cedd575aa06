"""AutoGPT's LLM blocks (same ids, class names and pins) on every provider AutoGPT offers.

Each call goes through `stratus.blocks.ai.model_client.llm_call`: the model name picks the
provider by AutoGPT's model table (stratus.blocks.ai.providers: OpenAI, Anthropic, OpenRouter,
Groq, Ollama, Llama API, AI/ML API, v0; a name outside the table goes to the `openai`
endpoint, any OpenAI-compatible server) and so the wire protocol (Anthropic's Messages API
through the `anthropic` SDK, the others' OpenAI-compatible chat completions through `openai`)
and the endpoint (the provider's configured base URL, stratus.config.PlatformLlmSettings).
The executor passes the key of the model's provider as `llm_api_key` (the user's stored
credentials of that provider, else the platform's key of that provider; see
stratus.executions.node_runner), with `llm_provider`; `llm_base_url` overrides the endpoint.
Token usage of every model call (failed validations included: they cost tokens too) goes to
the executor through the `record_usage(prompt_tokens, completion_tokens)` keyword argument.

Retries are the blocks' own (`retry` / `max_retries` inputs): the clients are built with
`max_retries=0`. Transport errors, 429 and 5xx are retried; other 4xx (bad key, unknown
model) end the block at once. Structured output is parsed as JSON and must have exactly the
`expected_format` keys; a bad reply is sent back to the model with the complaint and retried.

Costs: TOKEN costs per model (credits per 1,000 tokens, from the table's prices) instead of
AutoGPT's flat per-run LLM_COST, so a long summary costs more than a one-line answer. Like
AutoGPT, only runs on the platform's key are charged. They are prepaid: `token_limit(input)`
bounds a run's tokens (every call's prompt, at most one token per UTF-8 byte, plus its
max_tokens, retries included); that much is reserved before the run, and the run gets it as
`token_limit` and caps each call's max_tokens so the recorded usage stays within it (see
stratus.executions.billing).

Differences from AutoGPT, on purpose: `model` is any model name string (a name outside the
table is an OpenAI-compatible deployment's model), and failures are yielded on the `error` pin.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Callable
from enum import Enum
from typing import Any, cast

from pydantic import Field

from stratus.blocks.ai import providers
from stratus.blocks.ai.providers import DEFAULT_OLLAMA_HOST
from stratus.blocks.core.text import render_template
from stratus.blocks.sdk import (
    Block,
    BlockCategory,
    BlockCost,
    BlockCostType,
    BlockOutput,
    BlockSchema,
    BlockSchemaOutput,
)
from stratus.net.egress import refusal

DEFAULT_LLM_MODEL = "gpt-4o"
DEFAULT_TIMEOUT_SECONDS = 120.0

# Credits (cents) per 1,000 tokens (prompt + completion), by model: AutoGPT's model table's
# output price, rounded up (stratus.blocks.ai.providers.token_rate). Charged after the run, and
# only when the platform's key ran it (the node had no usable credentials of its own), as
# AutoGPT charges only runs on its system keys. Models outside the table run free.
MODEL_TOKEN_COSTS: dict[str, int] = {model.value: providers.token_rate(model) for model in providers.LlmModel}
# Each model's most output tokens per call: the max_tokens of a call that sets none (as AutoGPT
# uses the model's max_output_tokens), and so the bound a reservation counts on.
MODEL_MAX_OUTPUT_TOKENS: dict[str, int] = {
    name: output for name, (_provider, _window, output) in providers.LEGACY_MODELS.items() if output
} | {model.value: model.max_output_tokens for model in providers.LlmModel if model.max_output_tokens}
DEFAULT_MAX_OUTPUT_TOKENS = 4_096
SUMMARY_MAX_TOKENS = 2_048  # per summary call: keeps a summarizer's reservation proportionate
# A chat prompt's tokens: at most one per UTF-8 byte of content (byte-level BPE), plus framing.
_TOKENS_PER_MESSAGE, _TOKENS_PER_PROMPT = 8, 16
_COMPLAINT_BYTES = 512  # a retry's complaint message, without the problem's key names
# OpenAI's reasoning models take only max_completion_tokens (which covers their reasoning tokens).
_COMPLETION_TOKENS_MODELS = ("o1", "o3", "o4", "gpt-5")
PLATFORM_KEY_FILTER: dict[str, Any] = {"id": None}  # effective credentials without an id
LLM_COSTS: list[BlockCost] = [
    BlockCost(
        cost_amount=amount,
        cost_filter={"model": model, "credentials": PLATFORM_KEY_FILTER},
        cost_type=BlockCostType.TOKEN,
    )
    for model, amount in MODEL_TOKEN_COSTS.items()
]

# 4xx statuses worth retrying; any other 4xx is the caller's problem (key, model, request).
_RETRYABLE_CLIENT_STATUSES = {408, 409, 429}
_MAX_SUMMARY_CHUNKS = 100
_MAX_SUMMARY_DEPTH = 3
_MAX_TEXT_LENGTH = 1_000_000

RETRY_COMPLAINT_PREFIX = "Your previous response"


class LLMError(RuntimeError):
    """An LLM call that failed for good (after retries, or not retryable)."""


def max_output_tokens(model: str, max_tokens: int | None) -> int:
    return (
        max_tokens if max_tokens and max_tokens > 0 else MODEL_MAX_OUTPUT_TOKENS.get(model, DEFAULT_MAX_OUTPUT_TOKENS)
    )


def prompt_token_bound(texts: list[Any]) -> int:
    """An upper bound of the prompt tokens of messages with these contents."""
    return sum(len(_text_of(t).encode()) + _TOKENS_PER_MESSAGE for t in texts) + _TOKENS_PER_PROMPT


def _text_of(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, default=str)


def calls_token_limit(prompt: int, output: int, attempts: int, resends_replies: bool, complaint: int = 0) -> int:
    """Tokens of up to `attempts` calls; a structured retry re-sends the reply and a complaint."""
    attempts = max(1, attempts)
    total = attempts * (prompt + output)
    if resends_replies:
        total += attempts * (attempts - 1) // 2 * (output + complaint + 2 * _TOKENS_PER_MESSAGE)
    return total


# --- schema helpers --------------------------------------------------------------------
def _model_field(description: str, advanced: bool = False) -> Any:
    return Field(
        default=DEFAULT_LLM_MODEL,
        title="LLM Model",
        description=description,
        json_schema_extra={"advanced": advanced, "llm_model": True},
    )


def _credentials_field() -> Any:
    """AutoGPT's AICredentialsField: one key of any LLM provider, discriminated by `model`."""
    return Field(
        default_factory=dict,
        description="API key for the LLM provider.",
        json_schema_extra=cast(
            "dict[str, Any]",
            {
                "credentials_provider": sorted(providers.LLM_PROVIDERS),
                "credentials_types": ["api_key"],
                "discriminator": "model",
                "discriminator_mapping": providers.discriminator_mapping(),
            },
        ),
    )


def _max_tokens_field() -> Any:
    return Field(
        default=None,
        description="The maximum number of tokens to generate in the chat completion.",
        json_schema_extra={"advanced": True},
    )


def _ollama_host_field() -> Any:
    return Field(
        default=DEFAULT_OLLAMA_HOST,
        description="Ollama host for local models",
        json_schema_extra={"advanced": True},
    )


def _prompt_values_field() -> Any:
    return Field(
        default_factory=dict,
        json_schema_extra={"advanced": False},
        description="Values used to fill in the prompt. The values can be used in the prompt by "
        "putting them in a double curly braces, e.g. {{variable_name}}.",
    )


def _retry_field() -> Any:
    return Field(
        default=3,
        title="Retry Count",
        description="Number of times to retry the LLM call if the response does not match the expected format.",
    )


# --- the model call --------------------------------------------------------------------
class _LLM:
    """One block run's model calls: credentials, usage callback, prepaid token cap."""

    def __init__(self, kwargs: dict[str, Any], ollama_host: str | None = None):
        from stratus.blocks.ai.model_client import LlmCredentials

        self.credentials = LlmCredentials.from_block_kwargs(kwargs)
        self.ollama_host = ollama_host or DEFAULT_OLLAMA_HOST
        self.compress_prompt_to_fit = True
        self.record_usage: Callable[[int, int], Any] | None = kwargs.get("record_usage")
        # The tokens this run was prepaid for (None: free, no cap); each call's max_tokens is capped
        # so that reported usage cannot pass it.
        self.token_limit: int | None = kwargs.get("token_limit")
        self.tokens_used = 0
        self.calls = 0

    async def __aenter__(self) -> _LLM:
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        return None

    async def call(
        self,
        model: str,
        messages: list[dict[str, Any]],
        max_tokens: int | None,
        *,
        json_mode: bool = False,
        tools: list[dict[str, Any]] | None = None,
        parallel_tool_calls: bool | None = None,
        extra_prompt: Any = None,
    ) -> Any:
        """One `llm_call` (stratus.blocks.ai.model_client): the provider comes from the model.
        Returns its LLMResponse; records the usage; raises LLMError when the call cannot be
        made at all (no key, endpoint refused, prepaid tokens used up), else the SDK's errors."""
        from stratus.blocks.ai.model_client import LlmCallError, llm_call

        prompt_bound = 0
        if self.token_limit is not None:
            # A message with more than a role and content (tool calls, tool results) counts whole.
            texts = [m if set(m) - {"role", "content"} else m.get("content") for m in messages]
            prompt_bound = prompt_token_bound(texts + ([extra_prompt] if extra_prompt is not None else []))
            room = self.token_limit - self.tokens_used - prompt_bound
            if room < 1:
                raise LLMError(f"The run's prepaid token limit ({self.token_limit}) is used up.")
            max_tokens = min(max_output_tokens(model, max_tokens), room)
        self.calls += 1
        try:
            response = await llm_call(
                self.credentials,
                model,
                messages,
                max_tokens,
                force_json_output=json_mode,
                tools=tools,
                ollama_host=self.ollama_host,
                parallel_tool_calls=parallel_tool_calls,
                compress_prompt_to_fit=self.compress_prompt_to_fit,
            )
        except LlmCallError as exc:
            if getattr(exc, "retryable", False):
                raise
            raise LLMError(f"Error calling LLM: {exc}") from None
        except Exception as exc:
            refused = refusal(exc)
            if refused is not None:  # not worth a retry: the endpoint is not one we may call
                raise LLMError(f"Error calling LLM: {refused}") from None
            raise
        if self.record_usage is not None:
            self.record_usage(response.prompt_tokens, response.completion_tokens)
        # Unreported usage counts as the call's whole bound, so the limit still holds.
        used = response.prompt_tokens + response.completion_tokens
        self.tokens_used += used if used else prompt_bound + (max_tokens or 0)
        return response

    async def complete(
        self, model: str, messages: list[dict[str, Any]], max_tokens: int | None, json_mode: bool = False
    ) -> str:
        response = await self.call(model, messages, max_tokens, json_mode=json_mode)
        return str(response.response)


def _is_retryable(exc: Exception) -> bool:
    """Transport errors, 408/409/429 and 5xx of either SDK, and empty replies."""
    import anthropic
    import openai

    if isinstance(exc, (openai.APIStatusError, anthropic.APIStatusError)):
        return exc.status_code >= 500 or exc.status_code in _RETRYABLE_CLIENT_STATUSES
    connection_errors = (
        openai.APIConnectionError,
        openai.APITimeoutError,
        anthropic.APIConnectionError,
        anthropic.APITimeoutError,
    )
    if isinstance(exc, connection_errors):
        return True
    return isinstance(exc, ValueError)  # empty replies and the like


def _describe(exc: Exception) -> str:
    status = getattr(exc, "status_code", None)
    return f"{type(exc).__name__}{f' ({status})' if status else ''}: {exc}"


# --- JSON replies ------------------------------------------------------------------------
def parse_json_reply(text: str) -> Any:
    """The JSON value in a model reply: bare, in a ``` fence, or the outermost {…}/[…] span."""
    stripped = text.strip()
    candidates = [stripped]
    fence = re.search(r"```(?:json)?\s*(.*?)```", stripped, re.S)
    if fence:
        candidates.append(fence.group(1).strip())
    for opener, closer in (("{", "}"), ("[", "]")):
        start, end = stripped.find(opener), stripped.rfind(closer)
        if 0 <= start < end:
            candidates.append(stripped[start : end + 1])
    for candidate in candidates:
        try:
            return json.loads(candidate)
        except ValueError:
            continue
    raise ValueError("the response contains no parseable JSON")


def _format_instructions(expected_format: dict[str, str], list_result: bool, force_json: bool) -> str:
    spec = json.dumps(expected_format, indent=2)
    if list_result:
        shape = (
            'a JSON object {"results": [...]} whose "results" is a JSON array of objects'
            if force_json
            else "a JSON array of objects"
        )
        head = f"Reply with {shape}, each object with exactly these keys (the values describe each key):"
    else:
        head = "Reply with a JSON object with exactly these keys (the values describe each key):"
    return (
        f"{head}\n{spec}\n"
        "Use an empty string for a value you cannot provide. Add no other keys. "
        "Reply with the JSON only, no prose and no code fences."
    )


def _check_keys(expected: dict[str, str]) -> Callable[[Any], str | None]:
    keys = set(expected)

    def check(value: Any) -> str | None:
        if not isinstance(value, dict):
            return f"expected a JSON object, got {type(value).__name__}"
        missing, extra = keys - set(value), set(value) - keys
        problems = []
        if missing:
            problems.append(f"missing keys {sorted(missing)}")
        if extra:
            problems.append(f"unexpected keys {sorted(extra)}")
        return "; ".join(problems) or None

    return check


async def generate(
    llm: _LLM,
    *,
    model: str,
    messages: list[dict[str, Any]],
    retry: int,
    max_tokens: int | None,
    extract: Callable[[Any], tuple[Any, str | None]] | None = None,
    force_json_output: bool = False,
) -> Any:
    """Call the model up to `retry` times until a valid reply; returns the value.

    Without `extract` the value is the reply text. With it, the reply is parsed as JSON and
    `extract(parsed)` gives `(value, problem)`; a problem is sent back to the model and the call
    retried. `messages` is extended in place with any retry exchange, so the caller can report
    the prompt as sent.
    """
    structured = extract is not None
    last_error = "the model was not called (retry < 1)"
    for attempt in range(max(1, retry)):
        try:
            reply = await llm.complete(model, messages, max_tokens, json_mode=structured and force_json_output)
        except LLMError:
            raise
        except Exception as exc:  # openai errors, empty replies
            last_error = f"Error calling LLM: {_describe(exc)}"
            if not _is_retryable(exc):
                raise LLMError(last_error) from exc
            continue
        if extract is None:  # not structured
            return reply
        try:
            parsed = _parse_structured(reply)
            value, problem = extract(parsed)
        except ValueError as exc:
            value, problem = None, str(exc)
        if problem is None:
            return value
        last_error = f"Invalid response after {attempt + 1} attempt(s): {problem}"
        messages.append({"role": "assistant", "content": reply})
        messages.append(
            {
                "role": "user",
                "content": (
                    f"{RETRY_COMPLAINT_PREFIX} did not match the expected format: {problem}. "
                    "Reply again with only the JSON in the expected format."
                ),
            }
        )
    raise LLMError(last_error)


def _parse_structured(reply: str) -> Any:
    try:
        return parse_json_reply(reply)
    except ValueError:
        # A Python literal (older list generators asked for `['a', 'b']`).
        start, end = reply.find("["), reply.rfind("]")
        if 0 <= start < end:
            try:
                return ast.literal_eval(reply[start : end + 1])
            except (ValueError, SyntaxError, MemoryError, RecursionError):
                pass
        raise


def _render(text: str, values: dict[str, Any]) -> str:
    # As in AutoGPT, templates are only rendered when there are values to fill in.
    return render_template(text, values) if values and text else text


class _LLMBlock(Block):
    categories = {BlockCategory.AI}
    group = "ai"
    runs_inline = False
    costs = LLM_COSTS

    def token_limit(self, input_data: Any) -> int | None:
        try:
            # The subclass's own Input (validate_input checks it against its input_schema).
            inputs: Any = self.validate_input(input_data) if isinstance(input_data, dict) else input_data
            texts, max_tokens, attempts, complaint = self._call_shape(inputs)
        except ValueError:  # invalid input or template: the run fails before any call
            return 0
        return calls_token_limit(
            prompt_token_bound(texts),
            max_output_tokens(inputs.model, max_tokens),
            attempts,
            complaint is not None,
            complaint or 0,
        )

    def _call_shape(self, inputs: Any) -> tuple[list[Any], int | None, int, int | None]:
        """(first call's message contents, max_tokens, attempts, complaint bytes or None when a
        retry does not re-send the reply)."""
        raise NotImplementedError


# --- blocks ------------------------------------------------------------------------------
class AIStructuredResponseGeneratorBlock(_LLMBlock):
    id = "ed55ac19-356e-4243-a6cb-bc599e9b716f"
    description = (
        "A block that generates structured JSON responses using a Large Language Model (LLM), "
        "with schema validation and format enforcement."
    )

    class Input(BlockSchema):
        prompt: str = Field(description="The prompt to send to the language model.")
        expected_format: dict[str, str] = Field(
            description="Expected format of the response: the keys are the expected fields of the response, "
            "the values describe each field."
        )
        list_result: bool = Field(
            default=False,
            title="List Result",
            description="Whether the response should be a list of objects in the expected format.",
        )
        model: str = _model_field("The language model to use for answering the prompt.")
        force_json_output: bool = Field(
            default=False,
            title="Restrict LLM to pure JSON output",
            description="Ask the endpoint for JSON-only output (response_format json_object).",
        )
        credentials: dict[str, Any] = _credentials_field()
        sys_prompt: str = Field(
            default="",
            title="System Prompt",
            description="The system prompt to provide additional context to the model.",
        )
        conversation_history: list[dict] | None = Field(
            default_factory=list, description="The conversation history to provide context for the prompt."
        )
        retry: int = _retry_field()
        prompt_values: dict[str, Any] = _prompt_values_field()
        max_tokens: int | None = _max_tokens_field()
        compress_prompt_to_fit: bool = Field(
            default=True,
            json_schema_extra={"advanced": True},
            description="Whether to compress the prompt to fit within the model's context window.",
        )
        ollama_host: str = _ollama_host_field()

    class Output(BlockSchemaOutput):
        response: dict[str, Any] | list[dict[str, Any]] = Field(
            description="The response object generated by the language model."
        )
        prompt: list = Field(description="The prompt sent to the language model.")

    input_schema, output_schema = Input, Output
    # Self-tests: replies of localcloud.fake_openai (tests/unit/blocks run them against it).
    test_input = {"prompt": "Describe Paris", "expected_format": {"city": "The city"}, "model": "gpt-4o-mini"}
    test_output = [("response", {"city": "city: Describe Paris"}), ("prompt", list)]

    async def run(self, input_data: Input, **kwargs: Any) -> BlockOutput:
        messages: list[dict[str, Any]] = [dict(m) for m in input_data.conversation_history or [] if m]
        try:
            prompt = _render(input_data.prompt, input_data.prompt_values)
            sys_prompt = _render(input_data.sys_prompt, input_data.prompt_values)
        except ValueError as exc:
            yield "error", f"Prompt template error: {exc}"
            return
        if sys_prompt:
            messages.append({"role": "system", "content": sys_prompt})
        expected = input_data.expected_format
        # The format instructions go after the system prompt, before the user's prompt.
        user_message = {"role": "user", "content": prompt} if prompt else None
        async with _LLM(kwargs, getattr(input_data, "ollama_host", None)) as llm:
            llm.compress_prompt_to_fit = input_data.compress_prompt_to_fit
            try:
                value = await _generate_with_prompt(
                    llm,
                    messages,
                    user_message,
                    model=input_data.model,
                    retry=input_data.retry,
                    max_tokens=input_data.max_tokens,
                    expected_format=expected,
                    list_result=input_data.list_result,
                    force_json_output=input_data.force_json_output,
                )
            except LLMError as exc:
                yield "error", str(exc)
                return
        yield "response", value if expected else {"response": value}
        yield "prompt", messages

    def _call_shape(self, inputs: Any) -> tuple[list[Any], int | None, int, int | None]:
        texts = [m.get("content") for m in inputs.conversation_history or [] if isinstance(m, dict)]
        texts += [_render(inputs.sys_prompt, inputs.prompt_values), _render(inputs.prompt, inputs.prompt_values)]
        expected = inputs.expected_format
        if expected:
            texts.append(_format_instructions(expected, inputs.list_result, inputs.force_json_output))
        complaint = _COMPLAINT_BYTES + 2 * len(json.dumps(expected).encode()) if expected else None
        return texts, inputs.max_tokens, inputs.retry, complaint


async def _generate_with_prompt(
    llm: _LLM, messages: list[dict[str, Any]], user_message: dict[str, Any] | None, **options: Any
) -> Any:
    """`generate`, with the format instructions placed before the final user message."""
    expected = options.pop("expected_format", None)
    list_result = options.pop("list_result", False)
    force_json = options.pop("force_json_output", False)
    if expected:
        messages.append({"role": "system", "content": _format_instructions(expected, list_result, force_json)})
    if user_message:
        messages.append(user_message)
    extract = None
    if expected:
        check = _check_keys(expected)

        def extract(parsed: Any) -> tuple[Any, str | None]:
            if list_result:
                if isinstance(parsed, dict) and isinstance(parsed.get("results"), list):
                    parsed = parsed["results"]
                if not isinstance(parsed, list):
                    return None, f"expected a JSON array of objects, got {type(parsed).__name__}"
                problems = [f"item {index}: {error}" for index, item in enumerate(parsed) if (error := check(item))]
                return parsed, "; ".join(problems) or None
            return parsed, check(parsed)

    return await generate(llm, messages=messages, extract=extract, force_json_output=force_json, **options)


class AITextGeneratorBlock(_LLMBlock):
    id = "1f292d4a-41a4-4977-9684-7c8d560b9f91"
    description = (
        "A block that produces text responses using a Large Language Model (LLM) based on "
        "customizable prompts and system instructions."
    )

    class Input(BlockSchema):
        prompt: str = Field(
            description="The prompt to send to the language model. Use {{key}} to fill in values from Prompt Values."
        )
        model: str = _model_field("The language model to use for answering the prompt.")
        credentials: dict[str, Any] = _credentials_field()
        sys_prompt: str = Field(
            default="",
            title="System Prompt",
            description="The system prompt to provide additional context to the model.",
        )
        retry: int = _retry_field()
        prompt_values: dict[str, Any] = _prompt_values_field()
        ollama_host: str = _ollama_host_field()
        max_tokens: int | None = _max_tokens_field()

    class Output(BlockSchemaOutput):
        response: str = Field(description="The response generated by the language model.")
        prompt: list = Field(description="The prompt sent to the language model.")

    input_schema, output_schema = Input, Output
    test_input = {"prompt": "Hello {{name}}", "prompt_values": {"name": "Ada"}, "model": "gpt-4o-mini"}
    test_output = [("response", "Echo: Hello Ada"), ("prompt", [{"role": "user", "content": "Hello Ada"}])]

    async def run(self, input_data: Input, **kwargs: Any) -> BlockOutput:
        try:
            prompt = _render(input_data.prompt, input_data.prompt_values)
            sys_prompt = _render(input_data.sys_prompt, input_data.prompt_values)
        except ValueError as exc:
            yield "error", f"Prompt template error: {exc}"
            return
        messages: list[dict[str, Any]] = []
        if sys_prompt:
            messages.append({"role": "system", "content": sys_prompt})
        if prompt:
            messages.append({"role": "user", "content": prompt})
        if not messages:
            yield "error", "Cannot call the LLM with an empty prompt."
            return
        async with _LLM(kwargs, getattr(input_data, "ollama_host", None)) as llm:
            try:
                text = await generate(
                    llm,
                    model=input_data.model,
                    messages=messages,
                    retry=input_data.retry,
                    max_tokens=input_data.max_tokens,
                )
            except LLMError as exc:
                yield "error", str(exc)
                return
        yield "response", text
        yield "prompt", messages

    def _call_shape(self, inputs: Any) -> tuple[list[Any], int | None, int, int | None]:
        texts = [_render(inputs.sys_prompt, inputs.prompt_values), _render(inputs.prompt, inputs.prompt_values)]
        return texts, inputs.max_tokens, inputs.retry, None


class SummaryStyle(str, Enum):
    CONCISE = "concise"
    DETAILED = "detailed"
    BULLET_POINTS = "bullet points"
    NUMBERED_LIST = "numbered list"


class AITextSummarizerBlock(_LLMBlock):
    id = "a0a69be1-4528-491c-a85a-a4ab6873e3f0"
    description = (
        "A block that summarizes long texts using a Large Language Model (LLM), with configurable "
        "focus topics and summary styles."
    )
    categories = {BlockCategory.AI, BlockCategory.TEXT}

    class Input(BlockSchema):
        text: str = Field(description="The text to summarize.")
        model: str = _model_field("The language model to use for summarizing the text.")
        focus: str = Field(
            default="general information", title="Focus", description="The topic to focus on in the summary"
        )
        style: SummaryStyle = Field(
            default=SummaryStyle.CONCISE, title="Summary Style", description="The style of the summary to generate."
        )
        credentials: dict[str, Any] = _credentials_field()
        max_tokens: int = Field(
            default=4096,
            ge=1,
            title="Max Tokens",
            description="The maximum number of tokens (words) per chunk of text.",
        )
        chunk_overlap: int = Field(
            default=100,
            ge=0,
            title="Chunk Overlap",
            description="The number of overlapping tokens between chunks to maintain context.",
        )
        ollama_host: str = _ollama_host_field()

    class Output(BlockSchemaOutput):
        summary: str = Field(description="The final summary of the text.")
        prompt: list = Field(description="The prompt sent to the language model.")

    input_schema, output_schema = Input, Output
    test_input = {"text": "The quick brown fox jumps over the lazy dog.", "model": "gpt-4o-mini"}
    test_output = [("summary", "Summary: Summary: The quick brown fox jumps over the lazy dog."), ("prompt", list)]

    @staticmethod
    def split_text(text: str, max_tokens: int, overlap: int) -> list[str]:
        """Word chunks of `max_tokens` words, each overlapping the previous by `overlap` words."""
        words = text[:_MAX_TEXT_LENGTH].split()
        size = max(1, max_tokens)
        step = max(1, size - min(overlap, size - 1))
        chunks = []
        for start in range(0, len(words), step):
            chunks.append(" ".join(words[start : start + size]))
            if start + size >= len(words) or len(chunks) >= _MAX_SUMMARY_CHUNKS:
                break
        return chunks

    async def run(self, input_data: Input, **kwargs: Any) -> BlockOutput:
        llm = _LLM(kwargs, getattr(input_data, "ollama_host", None))
        last_prompt: list[dict[str, Any]] = []
        style, focus = input_data.style.value, input_data.focus

        async def ask(prompt: str, key: str, description: str) -> str:
            nonlocal last_prompt
            messages: list[dict[str, Any]] = []
            value = await _generate_with_prompt(
                llm,
                messages,
                {"role": "user", "content": prompt},
                model=input_data.model,
                retry=3,
                max_tokens=SUMMARY_MAX_TOKENS,
                expected_format={key: description},
            )
            last_prompt = messages
            if not isinstance(value[key], str):
                raise LLMError(f"Expected a string {key}, got {type(value[key]).__name__}")
            return value[key]

        async with llm:  # closes the client however the run ends
            try:
                text = input_data.text
                for _depth in range(_MAX_SUMMARY_DEPTH):
                    summaries = []
                    for chunk in self.split_text(text, input_data.max_tokens, input_data.chunk_overlap):
                        summaries.append(
                            await ask(
                                f"Summarize the following text in a {style} form. Focus the summary on `{focus}` if "
                                f"present, otherwise give a general summary:\n\n```{chunk}```",
                                "summary",
                                "The summary of the given text.",
                            )
                        )
                    text = "\n\n".join(summaries)
                    if len(text.split()) <= input_data.max_tokens:
                        break
                final = await ask(
                    f"Give a final summary of these section summaries in a {style} form, focusing on `{focus}` if "
                    f"present:\n\n```{text}```\n\nRespond with the final_summary in the format specified.",
                    "final_summary",
                    "The final summary of all provided summaries.",
                )
            except LLMError as exc:
                yield "error", str(exc)
                return
        yield "summary", final
        yield "prompt", last_prompt

    _CALL_OVERHEAD = 1_024  # a summary call's prompt template and format instructions, in bytes

    def token_limit(self, input_data: Any) -> int | None:
        try:
            inputs = cast(
                AITextSummarizerBlock.Input,  # what validate_input makes of a dict: input_schema's instance
                self.validate_input(input_data) if isinstance(input_data, dict) else input_data,
            )
        except ValueError:
            return 0
        size, overlap, out = inputs.max_tokens, inputs.chunk_overlap, SUMMARY_MAX_TOKENS

        def calls(prompt: int, count: int) -> int:  # `count` structured calls of 3 attempts
            return count * calls_token_limit(prompt + self._CALL_OVERHEAD, out, 3, True, _COMPLAINT_BYTES)

        chunks = self.split_text(inputs.text, size, overlap)
        total = sum(calls(prompt_token_bound([chunk]), 1) for chunk in chunks)
        summary_tokens = len(chunks) * out  # what the next level (or the final call) reads
        for _depth in range(1, _MAX_SUMMARY_DEPTH):
            if summary_tokens <= size:  # a summary word is at least a token: the loop stops here
                break
            step = max(1, size - min(overlap, size - 1))
            count = min(_MAX_SUMMARY_CHUNKS, 1 + -(-(summary_tokens - size) // step))
            total += calls(2 * size, count)  # a chunk of `size` words of model output: ~2 tokens a word
            summary_tokens = count * out
        return total + calls(summary_tokens, 1)  # the final summary


class AIConversationBlock(_LLMBlock):
    id = "32a87eab-381e-4dd4-bdb8-4c47151be35a"
    description = (
        "A block that facilitates multi-turn conversations with a Large Language Model (LLM), "
        "maintaining context across message exchanges."
    )

    class Input(BlockSchema):
        prompt: str = Field(
            default="", description="The prompt to send to the language model.", json_schema_extra={"advanced": False}
        )
        messages: list[Any] = Field(description="List of messages in the conversation.")
        model: str = _model_field("The language model to use for the conversation.")
        credentials: dict[str, Any] = _credentials_field()
        max_tokens: int | None = _max_tokens_field()
        ollama_host: str = _ollama_host_field()

    class Output(BlockSchemaOutput):
        response: str = Field(description="The model's response to the conversation.")
        prompt: list = Field(description="The prompt sent to the language model.")

    input_schema, output_schema = Input, Output
    test_input = {"messages": [{"role": "user", "content": "Hi there"}], "model": "gpt-4o-mini"}
    test_output = [("response", "Echo: Hi there"), ("prompt", [{"role": "user", "content": "Hi there"}])]

    async def run(self, input_data: Input, **kwargs: Any) -> BlockOutput:
        messages = [dict(m) for m in input_data.messages or [] if isinstance(m, dict) and m]
        has_messages = any(isinstance(m.get("content"), str) and m["content"].strip() for m in messages)
        if input_data.prompt and input_data.prompt.strip():
            messages.append({"role": "user", "content": input_data.prompt})
        elif not has_messages:
            yield (
                "error",
                ("Cannot call LLM with no messages and no prompt. Provide at least one message or a non-empty prompt."),
            )
            return
        async with _LLM(kwargs, getattr(input_data, "ollama_host", None)) as llm:
            try:
                text = await generate(
                    llm, model=input_data.model, messages=messages, retry=3, max_tokens=input_data.max_tokens
                )
            except LLMError as exc:
                yield "error", str(exc)
                return
        yield "response", text
        yield "prompt", messages

    def _call_shape(self, inputs: Any) -> tuple[list[Any], int | None, int, int | None]:
        texts = [m.get("content") for m in inputs.messages or [] if isinstance(m, dict)] + [inputs.prompt]
        return texts, inputs.max_tokens, 3, None


class AIListGeneratorBlock(_LLMBlock):
    id = "9c0b0450-d199-458b-a731-072189dd6593"
    description = (
        "A block that creates lists of items based on prompts using a Large Language Model (LLM), "
        "with optional source data for context."
    )
    categories = {BlockCategory.AI, BlockCategory.TEXT}

    SYSTEM_PROMPT = (
        "You generate lists. Reply with a JSON object whose 'list' field is a JSON array of "
        'strings, for example {"list": ["first", "second"]}. The array holds only strings.'
    )

    class Input(BlockSchema):
        focus: str | None = Field(
            default=None, description="The focus of the list to generate.", json_schema_extra={"advanced": False}
        )
        source_data: str | None = Field(
            default=None, description="The data to generate the list from.", json_schema_extra={"advanced": False}
        )
        model: str = _model_field("The language model to use for generating the list.", advanced=True)
        credentials: dict[str, Any] = _credentials_field()
        max_retries: int = Field(
            default=3, ge=1, le=5, description="Maximum number of retries for generating a valid list."
        )
        force_json_output: bool = Field(
            default=False,
            title="Restrict LLM to pure JSON output",
            description="Ask the endpoint for JSON-only output (response_format json_object).",
        )
        max_tokens: int | None = _max_tokens_field()
        ollama_host: str = _ollama_host_field()

    class Output(BlockSchemaOutput):
        generated_list: list[str] = Field(description="The generated list.")
        list_item: str = Field(description="Each individual item in the list.")
        prompt: list = Field(description="The prompt sent to the language model.")

    input_schema, output_schema = Input, Output
    test_input = {"focus": "planets", "model": "gpt-4o-mini"}
    test_output = [
        ("generated_list", ["planets 1", "planets 2", "planets 3"]),
        ("prompt", list),
        ("list_item", "planets 1"),
        ("list_item", "planets 2"),
        ("list_item", "planets 3"),
    ]

    @staticmethod
    def build_prompt(focus: str | None, source_data: str | None) -> str:
        if focus:
            prompt = f"Generate a list with the following focus:\n<focus>{focus}</focus>"
        elif source_data:
            prompt = (
                "Extract the main items of the source data as a list (for a news page: the stories, "
                "not the links in the footer)."
            )
        else:
            prompt = "Generate a random list."
        if source_data:
            prompt += (
                f"\n\nGenerate the list from this source data:\n<source_data>{source_data}</source_data>"
                "\n\nDo not invent data that is not in the source data."
            )
        else:
            prompt += "\n\nInvent the data to generate the list from."
        return prompt

    @staticmethod
    def _extract(parsed: Any) -> tuple[Any, str | None]:
        items = parsed.get("list") if isinstance(parsed, dict) else parsed
        if not isinstance(items, list):
            return None, f"expected a JSON object with a 'list' array, got {type(parsed).__name__}"
        if not all(isinstance(item, (str, int, float)) and not isinstance(item, bool) for item in items):
            return None, "the list must hold only strings"
        return [str(item) for item in items], None

    async def run(self, input_data: Input, **kwargs: Any) -> BlockOutput:
        messages: list[dict[str, Any]] = [
            {"role": "system", "content": self.SYSTEM_PROMPT},
            {
                "role": "system",
                "content": _format_instructions(
                    {"list": "A JSON array containing the generated string values"}, False, False
                ),
            },
            {"role": "user", "content": self.build_prompt(input_data.focus, input_data.source_data)},
        ]
        async with _LLM(kwargs, getattr(input_data, "ollama_host", None)) as llm:
            try:
                items = await generate(
                    llm,
                    model=input_data.model,
                    messages=messages,
                    retry=input_data.max_retries,
                    max_tokens=input_data.max_tokens,
                    extract=self._extract,
                    force_json_output=input_data.force_json_output,
                )
            except LLMError as exc:
                yield "error", str(exc)
                return
        yield "generated_list", items
        yield "prompt", messages
        for item in items:
            yield "list_item", item

    def _call_shape(self, inputs: Any) -> tuple[list[Any], int | None, int, int | None]:
        texts = [
            self.SYSTEM_PROMPT,
            _format_instructions({"list": "A JSON array containing the generated string values"}, False, False),
            self.build_prompt(inputs.focus, inputs.source_data),
        ]
        return texts, inputs.max_tokens, inputs.max_retries, _COMPLAINT_BYTES


# --- AutoGPT's ai_condition.py -----------------------------------------------------------------
MIN_LLM_OUTPUT_TOKENS = 16  # a true/false answer fits; OpenAI-compatible APIs take no fewer


def parse_boolean_response(text: str) -> tuple[bool, str | None]:
    """(result, error): 'true'/'false', else one kind of yes/no word only; anything else is unclear."""
    cleaned = text.strip().lower()
    if cleaned in ("true", "false"):
        return cleaned == "true", None
    tokens = set(re.findall(r"\b(true|false|yes|no|1|0)\b", cleaned))
    if tokens in ({"true"}, {"yes"}, {"1"}):
        return True, None
    if tokens in ({"false"}, {"no"}, {"0"}):
        return False, None
    return False, f"Unclear AI response: '{text}'"


class AIConditionBlock(_LLMBlock):
    id = "553ec5b8-6c45-4299-8d75-b394d05f72ff"
    description = "Uses AI to evaluate natural language conditions and provide conditional outputs"
    categories = {BlockCategory.AI, BlockCategory.LOGIC}

    SYSTEM_PROMPT = (
        "You are an AI assistant that evaluates conditions based on input data. You must respond with only "
        "'true' or 'false' (lowercase) to indicate whether the given condition is met by the input value. Be "
        "accurate and consider the context and meaning of both the input and the condition."
    )

    class Input(BlockSchema):
        input_value: Any = Field(description="The input value to evaluate with the AI condition")
        condition: str = Field(description="A plaintext English description of the condition to evaluate")
        yes_value: Any = Field(
            default=None,
            description="(Optional) Value to output if the condition is true. "
            "If not provided, input_value will be used.",
        )
        no_value: Any = Field(
            default=None,
            description="(Optional) Value to output if the condition is false. "
            "If not provided, input_value will be used.",
        )
        model: str = _model_field("The language model to use for evaluating the condition.")
        credentials: dict[str, Any] = _credentials_field()

    class Output(BlockSchemaOutput):
        result: bool = Field(description="The result of the AI condition evaluation (True or False)")
        yes_output: Any = Field(description="The output value if the condition is true")
        no_output: Any = Field(description="The output value if the condition is false")

    input_schema, output_schema = Input, Output
    # AutoGPT mocks the model to answer "true"; localcloud.fake_openai answers true/false questions.
    test_input = {
        "input_value": "john@example.com",
        "condition": "the input is an email address",
        "yes_value": "Valid email",
        "no_value": "Not an email",
        "model": "gpt-4o-mini",
    }
    test_output = [("result", True), ("yes_output", "Valid email")]

    @classmethod
    def prompt(cls, input_value: Any, condition: str) -> list[dict[str, str]]:
        return [
            {"role": "system", "content": cls.SYSTEM_PROMPT},
            {
                "role": "user",
                "content": f"Input value: {input_value}\nCondition to evaluate: {condition}\n\n"
                "Does the input value satisfy the condition? Respond with only 'true' or 'false'.",
            },
        ]

    async def run(self, input_data: Input, **kwargs: Any) -> BlockOutput:
        yes_value = input_data.yes_value if input_data.yes_value is not None else input_data.input_value
        no_value = input_data.no_value if input_data.no_value is not None else input_data.input_value
        messages = self.prompt(input_data.input_value, input_data.condition)
        async with _LLM(kwargs, getattr(input_data, "ollama_host", None)) as llm:
            try:
                reply = await generate(
                    llm, model=input_data.model, messages=messages, retry=1, max_tokens=MIN_LLM_OUTPUT_TOKENS
                )
            except LLMError as exc:
                yield "error", str(exc)
                return
        result, error = parse_boolean_response(reply)
        if error:  # AutoGPT's yielded error ends the block there
            yield "error", error
            return
        yield "result", result
        if result:
            yield "yes_output", yes_value
        else:
            yield "no_output", no_value

    def _call_shape(self, inputs: Any) -> tuple[list[Any], int | None, int, int | None]:
        texts = [m["content"] for m in self.prompt(inputs.input_value, inputs.condition)]
        return texts, MIN_LLM_OUTPUT_TOKENS, 1, None
