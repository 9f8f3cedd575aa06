"""AutoGPT's SmartDecisionMakerBlock (renamed OrchestratorBlock later, same id): a model picks
which of the graph's tools to call.

Its tools are the nodes linked from its `tools` pin (links leaving `tools` or, in older exports,
`tools_^_<tool>_~_<field>`), block nodes and AgentExecutor nodes. One run:

1. Builds one function signature per tool node, as AutoGPT does (`tool_signatures`): the name is
   the node's `customized_name` metadata, else the block's name (an AgentExecutor: the sub-graph's
   name), lowercased with every character outside `[a-zA-Z0-9_-]` made `_`; duplicates get `_1`,
   `_2`… (with the node's fixed inputs in the description); the parameters are the linked sink
   pins (a block's own field schemas; an AgentExecutor's inputs as strings); yields them as JSON
   on `tool_functions`.
2. Adds the tool's answer to the conversation: `last_tool_output` becomes the reply to the first
   tool call of `conversation_history` that has none (OpenAI `tool` message, or an Anthropic
   `tool_result` for `toolu_` ids); while calls are still unanswered it yields `conversations` and
   stops (the next tool's output arrives on a next run). An output with no call waiting is added as
   a user message.
3. Calls the model with the tools (`parallel_tool_calls` = `multiple_tool_calls`); a call of an
   unknown tool or with unknown / missing required arguments is sent back with the problems and
   retried, up to `retry` attempts, then the run fails with them.
4. No tool call: `finished` with the model's answer. Tool calls: each argument on
   `tools_^_<sink node id>_~_<sink pin>` (the engine routes it to that node's pin only: see
   stratus.blocks.dynamic_pins; a None argument is not delivered), then `conversations` with
   the model's reply appended.

Readiness (AutoGPT's `get_missing_links` / `get_missing_input`): `conversation_history` and
`last_tool_output` may be linked and still missing; the run waits for `last_tool_output` while
a tool call is unanswered, and for `conversation_history` when an output came without one.

Not ported: AutoGPT's agent mode (`agent_mode_max_iterations` ≠ 0: the block runs the tool
nodes itself) and its `extended_thinking` execution mode; such a node fails with a clear error.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from pydantic import Field

from stratus.blocks.ai.llm import (
    _LLM,
    DEFAULT_LLM_MODEL,
    LLM_COSTS,
    LLMError,
    _credentials_field,
    _describe,
    calls_token_limit,
    max_output_tokens,
    prompt_token_bound,
)
from stratus.blocks.ai.providers import DEFAULT_OLLAMA_HOST
from stratus.blocks.core.text import render_template
from stratus.blocks.dynamic_pins import base_name, is_dynamic, is_tool_pin, tool_output_pin
from stratus.blocks.registry import get_block
from stratus.blocks.sdk import Block, BlockCategory, BlockOutput, BlockSchema, BlockSchemaOutput, BlockType
from stratus.blocks.services import EXECUTION_GRAPH, GraphInfo

if TYPE_CHECKING:
    from collections.abc import Callable

    from stratus.blocks.ai.model_client import LLMResponse
    from stratus.blocks.services import ExecutionGraph
    from stratus.graphs.models import Graph, Link, Node

SMART_DECISION_MAKER_ID = "3b191d9f-356f-482d-8238-ba04b6d18381"
AGENT_EXECUTOR_ID = "e189baac-8c20-45a1-94a7-55177ea42565"
MAIN_OBJECTIVE_PREFIX = "[Main Objective Prompt]: "
DEFAULT_SYS_PROMPT = (
    "Thinking carefully step by step decide which function to call. "
    "Always choose a function call from the list of function signatures, "
    "and always provide the complete argument provided with the type "
    "matching the required jsonschema signature, no missing argument is allowed. "
    "If you have already completed the task objective, you can end the task "
    "by providing the end result of your work as a finish message. "
    "Function parameters that has no default value and not optional typed has to be provided. "
)
# Inputs never shown in a tool's description (AutoGPT's SENSITIVE_FIELD_NAMES, in spirit).
_SENSITIVE = {"credentials", "api_key", "password", "secret", "token", "access_token", "auth", "authorization"}
_NAME_LIMIT = 64
# A reservation cannot see the tools (they come from the graph at run time): it counts this
# many tokens for their signatures; a run whose signatures need more fails its token cap.
TOOLS_TOKEN_ALLOWANCE = 16_384
_COMPLAINT_BYTES = 1_024


# --- conversation history (OpenAI and Anthropic shapes) --------------------------------------
def _tool_requests(entry: Mapping[str, Any]) -> list[str]:
    """Ids of the tool calls an assistant entry makes (OpenAI `tool_calls`, Anthropic `tool_use`)."""
    if entry.get("type") == "function_call":  # OpenAI Responses API item
        return [entry["call_id"]] if entry.get("call_id") else []
    if entry.get("role") != "assistant":
        return []
    ids = [call["id"] for call in entry.get("tool_calls") or [] if isinstance(call, dict) and call.get("id")]
    content = entry.get("content")
    if isinstance(content, list):
        ids += [
            item["id"]
            for item in content
            if isinstance(item, dict) and item.get("type") == "tool_use" and item.get("id")
        ]
    return ids


def _tool_responses(entry: Mapping[str, Any]) -> list[str]:
    """Ids of the tool calls an entry answers (OpenAI `tool` message, Anthropic `tool_result`)."""
    if entry.get("type") == "function_call_output":
        return [str(entry["call_id"])] if entry.get("call_id") else []
    ids: list[str] = []
    if entry.get("role") == "tool" and entry.get("tool_call_id"):
        ids.append(str(entry["tool_call_id"]))
    content = entry.get("content")
    if entry.get("role") == "user" and isinstance(content, list):
        ids += [
            str(item["tool_use_id"])
            for item in content
            if isinstance(item, dict) and item.get("type") == "tool_result" and item.get("tool_use_id")
        ]
    return ids


def pending_tool_calls(history: Sequence[Any] | None) -> dict[str, int]:
    """Tool call ids of the history without a reply yet (in call order), with their count."""
    pending: Counter[str] = Counter()
    for entry in history or []:
        if not isinstance(entry, Mapping):
            continue
        for call_id in _tool_requests(entry):
            pending[call_id] += 1
        for call_id in _tool_responses(entry):
            pending[call_id] -= 1
    return {call_id: count for call_id, count in pending.items() if count > 0}


def tool_response(call_id: str, output: Any) -> dict[str, Any]:
    """The reply to a tool call: Anthropic's `tool_result` for its `toolu_` ids, else OpenAI's."""
    content = output if isinstance(output, str) else json.dumps(output, default=str)
    if call_id.startswith("toolu_"):
        return {
            "role": "user",
            "type": "message",
            "content": [{"tool_use_id": call_id, "type": "tool_result", "content": content}],
        }
    return {"role": "tool", "tool_call_id": call_id, "content": content}


# --- function signatures ----------------------------------------------------------------------
def cleanup(name: str) -> str:
    """AutoGPT's tool-name cleanup: lowercase, anything outside [a-zA-Z0-9_-] becomes `_`."""
    return re.sub(r"[^a-zA-Z0-9_-]", "_", name).lower()


def _resolve_refs(schema: Any, defs: Mapping[str, Any], depth: int = 0) -> Any:
    """A field schema with its `$ref`s to `$defs` inlined (a tool's parameters stand alone)."""
    if depth > 16:
        return schema
    if isinstance(schema, dict):
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            target = defs.get(ref.rsplit("/", 1)[-1], {})
            merged = {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
            return _resolve_refs(merged, defs, depth + 1)
        return {key: _resolve_refs(value, defs, depth + 1) for key, value in schema.items()}
    if isinstance(schema, list):
        return [_resolve_refs(item, defs, depth + 1) for item in schema]
    return schema


def _dynamic_description(pin: str) -> str:
    """AutoGPT's description of a dynamic pin (`values_#_name`, `items_$_0`, `obj_@_attr`)."""
    base = base_name(pin)
    for split, text in (
        ("_#_", "Dictionary field '{k}' for base field '{b}' ({b}['{k}'])"),
        ("_$_", "List item {k} for base field '{b}' ({b}[{k}])"),
    ):
        if split in pin:
            part = pin.split(split, 1)[1]
            key = part.split("_")[0] if "_" in part else part
            return text.format(k=key, b=base)
    if "_@_" in pin:
        attr = pin.split("_@_", 1)[1]
        return f"Object attribute '{attr}' for base field '{base}' ({base}.{attr})"
    return f"Value for {pin}"


def _fixed_inputs(node: Node, linked: set[str], also_hidden: set[str] = frozenset()) -> dict[str, Any]:  # type: ignore[assignment]
    return {
        key: value
        for key, value in node.input_default.items()
        if key not in linked and key not in also_hidden and not key.startswith("_") and key.lower() not in _SENSITIVE
    }


def block_function_signature(node: Node, links: Sequence[Link]) -> dict[str, Any]:
    """The tool of a block node: its linked pins, with the block's own field schemas."""
    block = get_block(node.block_id)
    if block is None:
        raise ValueError(f"Block {node.block_id} not found for tool node {node.id}")
    schema = block.input_schema.jsonschema()
    fields, defs = schema.get("properties", {}), schema.get("$defs", {})
    required = set(schema.get("required", []))
    properties: dict[str, Any] = {}
    mapping: dict[str, str] = {}
    needed: set[str] = set()
    for link in links:
        pin = link.sink_name
        clean = cleanup(pin)
        mapping[clean] = pin
        if is_dynamic(pin):
            properties[clean] = {"type": "string", "description": _dynamic_description(pin)}
        elif pin in fields:
            properties[clean] = _resolve_refs(fields[pin], defs)
        else:
            properties[clean] = {"type": "string", "description": f"Value for {pin}"}
        if base_name(pin) in required:
            needed.add(clean)
    name = node.metadata.get("customized_name") or block.name
    function = {
        "name": cleanup(str(name)),
        "description": block.description,
        "parameters": {
            "type": "object",
            "properties": properties,
            "additionalProperties": False,
            "required": sorted(needed),
        },
        "_field_mapping": mapping,
        "_sink_node_id": node.id,
        "_hardcoded_defaults": _fixed_inputs(node, {link.sink_name for link in links}),
    }
    return {"type": "function", "function": function}


def agent_function_signature(node: Node, links: Sequence[Link], info: GraphInfo | None) -> dict[str, Any]:
    """The tool of an AgentExecutor node: the sub-graph's name and description, its linked inputs
    as strings (described by the node's input_schema, with the input's default as JSON)."""
    graph_id, version = node.input_default.get("graph_id"), node.input_default.get("graph_version")
    if not graph_id or not version:
        raise ValueError("Graph ID or Graph Version not found in sink node.")
    if info is None:
        raise ValueError(f"Sink graph metadata not found: {graph_id} {version}")
    input_schema = node.input_default.get("input_schema") or {}
    schema_props = input_schema.get("properties", {}) if isinstance(input_schema, dict) else {}
    properties: dict[str, Any] = {}
    mapping: dict[str, str] = {}
    for link in links:
        prop = schema_props.get(link.sink_name, {}) if isinstance(schema_props, dict) else {}
        prop = prop if isinstance(prop, dict) else {}
        clean = cleanup(link.sink_name)
        mapping[clean] = link.sink_name
        properties[clean] = {
            "type": "string",
            "description": prop["description"] if "description" in prop else f"The {link.sink_name} of the tool",
            "default": json.dumps(prop.get("default")),
        }
    name = node.metadata.get("customized_name") or info.name
    function = {
        "name": cleanup(str(name)),
        "description": info.description,
        "parameters": {"type": "object", "properties": properties, "additionalProperties": False, "strict": True},
        "_field_mapping": mapping,
        "_sink_node_id": node.id,
        "_hardcoded_defaults": _fixed_inputs(
            node, {link.sink_name for link in links}, {"graph_id", "graph_version", "input_schema"}
        ),
    }
    return {"type": "function", "function": function}


def _disambiguate(tools: list[dict[str, Any]]) -> None:
    """Unique tool names (Anthropic requires them): duplicates get `_1`, `_2`… and their fixed
    inputs in the description. Drops the internal `_hardcoded_defaults`."""
    names = [tool["function"]["name"] for tool in tools]
    counts = Counter(names)
    taken = set(names)
    counters: dict[str, int] = {}
    for tool in tools:
        function = tool["function"]
        defaults = function.pop("_hardcoded_defaults", {})
        name = function["name"]
        if counts[name] < 2:
            continue
        counters[name] = counters.get(name, 0) + 1
        while True:
            suffix = f"_{counters[name]}"
            candidate = f"{name[: _NAME_LIMIT - len(suffix)]}{suffix}"
            if candidate not in taken:
                break
            counters[name] += 1
        function["name"] = candidate
        taken.add(candidate)
        if defaults:
            parts = []
            for key, value in defaults.items():
                rendered = json.dumps(value, default=str)
                parts.append(f"{key}={rendered[:80] + '...<truncated>' if len(rendered) > 100 else rendered}")
            function["description"] = f"{function.get('description') or ''} [Pre-configured: {', '.join(parts)}]"


def tool_signatures(
    graph: Graph, node_id: str, graph_info: Callable[[str, int], GraphInfo | None]
) -> list[dict[str, Any]]:
    """One signature per node linked from the node's tool pins, in link order (AutoGPT's
    `_create_tool_node_signatures`). Raises ValueError when there is none."""
    nodes = {node.id: node for node in graph.nodes}
    grouped: dict[str, list[Link]] = {}
    for link in graph.links:
        if link.source_id == node_id and is_tool_pin(link.source_name):
            grouped.setdefault(link.sink_id, []).append(link)
    if not grouped:
        raise ValueError("There is no next node to execute.")
    tools = []
    for sink_id, links in grouped.items():
        sink = nodes.get(sink_id)
        if sink is None:
            raise ValueError(f"Sink node not found: {sink_id}")
        if sink.block_id == AGENT_EXECUTOR_ID:
            info = None
            graph_id, version = sink.input_default.get("graph_id"), sink.input_default.get("graph_version")
            if graph_id and version:
                info = graph_info(str(graph_id), int(version))
            tools.append(agent_function_signature(sink, links, info))
        else:
            tools.append(block_function_signature(sink, links))
    _disambiguate(tools)
    return tools


def for_model(tools: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The signatures as sent to a model: without the internal `_…` keys."""
    return [
        {**tool, "function": {k: v for k, v in tool["function"].items() if not k.startswith("_")}} for tool in tools
    ]


# --- the model's reply --------------------------------------------------------------------------
def assistant_entry(reply: LLMResponse) -> dict[str, Any] | list[dict[str, Any]]:
    """The model's turn as kept in the conversation, in its provider's shape (AutoGPT keeps the
    raw response): Anthropic's `content` blocks (its `tool_use` ids answered by `tool_result`),
    else OpenAI's message with `tool_calls` (no response-only fields)."""
    raw = reply.raw_response
    content = getattr(raw, "content", None)
    if isinstance(content, list) and getattr(raw, "type", None) == "message":  # an Anthropic Message
        blocks = [block.model_dump(exclude_none=True) if hasattr(block, "model_dump") else block for block in content]
        return {"role": "assistant", "content": blocks}
    if isinstance(raw, (dict, list, str)) or raw is None:
        return _as_entry(raw if raw is not None else reply.response)
    entry: dict[str, Any] = {"role": "assistant", "content": reply.response or None}
    if reply.tool_calls:
        entry["tool_calls"] = [call.model_dump() for call in reply.tool_calls]
    return entry


def _as_entry(raw: Any) -> dict[str, Any] | list[dict[str, Any]]:
    if isinstance(raw, str):
        return {"role": "assistant", "content": raw}
    if isinstance(raw, dict):
        return raw
    if isinstance(raw, list):
        return [item for item in raw if isinstance(item, dict)] or [{"role": "assistant", "content": ""}]
    return {"role": "assistant", "content": str(raw) if raw is not None else ""}


def _has_tool_use(entry: dict[str, Any] | list[dict[str, Any]]) -> bool:
    if isinstance(entry, list):
        return any(item.get("type") == "function_call" for item in entry)
    content = entry.get("content")
    return isinstance(content, list) and any(isinstance(i, dict) and i.get("type") == "tool_use" for i in content)


def _find_tool(tools: list[dict[str, Any]], name: str) -> dict[str, Any] | None:
    found = next((tool for tool in tools if tool["function"]["name"] == name), None)
    if found is None and len(tools) == 1:
        return tools[0]  # a model that misspells the only tool still means it
    return found


def validate_tool_calls(reply: LLMResponse, tools: list[dict[str, Any]]) -> list[str]:
    """AutoGPT's checks of a reply's tool calls: known tool, JSON arguments, no unknown
    parameter, every required one. The problems, or []."""
    problems: list[str] = []
    for tool_call in reply.tool_calls or []:
        call = tool_call.function
        try:
            args = json.loads(call.arguments or "{}")
            if not isinstance(args, dict):
                raise ValueError("the arguments are not a JSON object")
        except ValueError as exc:
            problems.append(f"Tool call '{call.name}' has invalid JSON arguments: {exc}")
            continue
        tool = _find_tool(tools, call.name)
        if tool is None:
            problems.append(f"Tool call for '{call.name}' does not match any known tool definition.")
            continue
        parameters = tool["function"].get("parameters", {})
        expected = set(parameters.get("properties", {}))
        required = set(parameters.get("required", []))
        unexpected, missing = set(args) - expected, required - set(args)
        if unexpected or missing:
            message = f"Tool call '{call.name}' has parameter errors:"
            if unexpected:
                message += f" Unknown parameters: {sorted(unexpected)}."
            if missing:
                message += f" Missing required parameters: {sorted(missing)}."
            message += f" Expected parameters: {sorted(expected)}."
            if required:
                message += f" Required parameters: {sorted(required)}."
            problems.append(message)
    return problems


def _render(text: str, values: dict[str, Any]) -> str:
    return render_template(text, values) if values and text else text


class SmartDecisionMakerBlock(Block):
    id = SMART_DECISION_MAKER_ID
    description = "Uses AI to intelligently decide what tool to use."
    categories = {BlockCategory.AI}
    block_type = BlockType.AI
    group = "ai"
    runs_inline = False
    costs = LLM_COSTS

    class Input(BlockSchema):
        prompt: str = Field(
            description="The prompt to send to the language model.",
            json_schema_extra={"placeholder": "Enter your prompt here..."},
        )
        model: str = Field(
            default=DEFAULT_LLM_MODEL,
            title="LLM Model",
            description="The language model to use for answering the prompt.",
            json_schema_extra={"advanced": False, "llm_model": True},
        )
        credentials: dict[str, Any] = _credentials_field()
        multiple_tool_calls: bool = Field(
            default=False,
            title="Multiple Tool Calls",
            description="Whether to allow multiple tool calls in a single response.",
            json_schema_extra={"advanced": True},
        )
        sys_prompt: str = Field(
            default=DEFAULT_SYS_PROMPT,
            title="System Prompt",
            description="The system prompt to provide additional context to the model.",
        )
        conversation_history: list[dict[str, Any]] | None = Field(
            default_factory=list, description="The conversation history to provide context for the prompt."
        )
        last_tool_output: Any = Field(default=None, description="The output of the last tool that was called.")
        retry: int = Field(
            default=3,
            title="Retry Count",
            description="Number of times to retry the LLM call if the response does not match the expected format.",
        )
        prompt_values: dict[str, Any] = Field(
            default_factory=dict,
            json_schema_extra={"advanced": False},
            description="Values used to fill in the prompt. The values can be used in the prompt by putting them "
            "in a double curly braces, e.g. {{variable_name}}.",
        )
        max_tokens: int | None = Field(
            default=None,
            description="The maximum number of tokens to generate in the chat completion.",
            json_schema_extra={"advanced": True},
        )
        ollama_host: str = Field(
            default=DEFAULT_OLLAMA_HOST,
            description="Ollama host for local  models",
            json_schema_extra={"advanced": True},
        )
        agent_mode_max_iterations: int = Field(
            default=0,
            title="Agent Mode Max Iterations",
            description="0 = traditional mode (one model call; the tool calls are yielded for the graph to run). "
            "Agent mode (other values) is not supported.",
            json_schema_extra={"advanced": True},
        )
        conversation_compaction: bool = Field(
            default=True,
            title="Context window auto-compaction",
            description="Whether to shorten the conversation (oldest messages first) to fit the model's "
            "context window.",
        )

        @classmethod
        def get_missing_links(cls, data: Mapping[str, Any], links: Sequence[Any]) -> set[str]:
            # conversation_history and last_tool_output may stay missing: get_missing_input decides.
            missing = super().get_missing_links(
                data, [link for link in links if link.sink_name not in ("conversation_history", "last_tool_output")]
            )
            has_history = any(link.sink_name == "conversation_history" for link in links)
            if has_history and any(link.sink_name == "last_tool_output" and link.is_static for link in links):
                raise ValueError(
                    "Last Tool Output can't be connected to a static (dashed line) "
                    "link like the output of `StoreValue` or `AgentInput` block"
                )
            if has_history != any(link.sink_name == "last_tool_output" for link in links):
                raise ValueError(
                    "Last Tool Output is needed when Conversation History is used, "
                    "and vice versa. Please connect both inputs together."
                )
            return missing

        @classmethod
        def get_missing_input(cls, data: Mapping[str, Any]) -> set[str]:
            missing = super().get_missing_input(data)
            if missing:
                return missing
            pending = pending_tool_calls(data.get("conversation_history") or [])
            last_output = data.get("last_tool_output")
            if last_output is None and pending:
                return {"last_tool_output"}  # a tool call waits for its output
            if last_output is not None and not pending:
                return {"conversation_history"}  # an output waits for the conversation it answers
            return set()

    class Output(BlockSchemaOutput):
        error: str = Field(default="", description="Error message if the API call failed.")
        tools: Any = Field(default=None, description="The tools that are available to use.")
        finished: str = Field(default="", description="The finished message to display to the user.")
        conversations: list[Any] = Field(
            default_factory=list, description="The conversation history to provide context for the prompt."
        )

    input_schema, output_schema = Input, Output
    # AutoGPT's own self-test input (its test_output is empty: it checks nothing); the test in
    # tests/unit/blocks runs it in a one-tool graph against the loopback model server.
    test_input = {
        "prompt": "Hello, World!",
        "credentials": {
            "id": "769f6af7-820b-4d5d-9b7a-ab82bbc165f",
            "provider": "openai",
            "type": "api_key",
            "title": "Mock OpenAI API key",
        },
    }
    test_output = []

    # --- a run ---------------------------------------------------------------------------
    async def run(self, input_data: Input, **kwargs: Any) -> BlockOutput:
        if input_data.agent_mode_max_iterations != 0:
            raise ValueError(
                "Agent mode (agent_mode_max_iterations != 0) is not supported: set it to 0 and link "
                "the tools' outputs back to last_tool_output."
            )
        view: ExecutionGraph | None = kwargs.get(EXECUTION_GRAPH)
        if view is None:
            raise ValueError(
                "The Smart Decision Maker runs only inside a graph execution: its tools are its linked nodes."
            )
        tools = tool_signatures(view.graph(), view.node_id, view.graph_info)
        yield "tool_functions", json.dumps(tools)

        history = input_data.conversation_history or []
        prompt: list[dict[str, Any]] = [dict(entry) for entry in history if entry]
        pending = pending_tool_calls(history)
        last_output = input_data.last_tool_output
        if pending and last_output is None:
            raise ValueError(f"Tool call requires an output for {pending}")
        if pending and last_output is not None:
            prompt.append(tool_response(next(iter(pending)), last_output))
            if pending_tool_calls(prompt):  # other calls still wait for their outputs
                yield "conversations", prompt
                return
        elif last_output:
            # An output nothing asked for (AutoGPT logs this as an inconsistent history).
            prompt.append({"role": "user", "content": f"Last tool output: {json.dumps(last_output, default=str)}"})

        sys_prompt, user_prompt = input_data.sys_prompt, input_data.prompt
        if input_data.prompt_values:
            try:
                user_prompt = _render(user_prompt, input_data.prompt_values)
                sys_prompt = _render(sys_prompt, input_data.prompt_values)
            except ValueError as exc:
                raise ValueError(f"Prompt template error: {exc}") from exc
        if sys_prompt and not _has_objective(prompt, "system"):
            prompt.append({"role": "system", "content": MAIN_OBJECTIVE_PREFIX + sys_prompt})
        if user_prompt and not _has_objective(prompt, "user"):
            prompt.append({"role": "user", "content": MAIN_OBJECTIVE_PREFIX + user_prompt})

        reply = await self._call_with_retries(input_data, prompt, tools, kwargs)
        if not reply.tool_calls:
            yield "finished", reply.response
            return
        for tool_call in reply.tool_calls:
            call = tool_call.function
            tool = _find_tool(tools, call.name)
            if tool is None:
                continue  # validation let it through only when it names a known tool
            args = json.loads(call.arguments or "{}")
            mapping = tool["function"].get("_field_mapping", {})
            sink_node_id = tool["function"]["_sink_node_id"]
            for clean in tool["function"].get("parameters", {}).get("properties", {}):
                yield tool_output_pin(sink_node_id, mapping.get(clean, clean)), args.get(clean)
        entry = assistant_entry(reply)
        if reply.reasoning and not _has_tool_use(entry):
            prompt.append({"role": "assistant", "content": f"[Reasoning]: {reply.reasoning}"})
        if isinstance(entry, list):
            prompt.extend(entry)
        else:
            prompt.append(entry)
        yield "conversations", prompt

    async def _call_with_retries(
        self, input_data: Input, prompt: list[dict[str, Any]], tools: list[dict[str, Any]], kwargs: dict[str, Any]
    ) -> LLMResponse:
        current = list(prompt)
        problems: list[str] = []
        signatures = for_model(tools)
        llm = _LLM(kwargs, input_data.ollama_host)
        llm.compress_prompt_to_fit = input_data.conversation_compaction
        for _attempt in range(max(1, int(input_data.retry))):
            try:
                reply = await llm.call(
                    input_data.model,
                    current,
                    input_data.max_tokens,
                    tools=signatures,
                    parallel_tool_calls=input_data.multiple_tool_calls,
                    extra_prompt=signatures,
                )
            except LLMError:
                raise
            except Exception as exc:  # the SDKs' errors: AutoGPT's block fails with them
                raise LLMError(f"Error calling LLM: {_describe(exc)}") from None
            problems = validate_tool_calls(reply, tools) if reply.tool_calls else []
            if not problems:
                return reply
            current = current + [
                {
                    "role": "user",
                    "content": "Your tool call had errors. Please fix the following issues and try again:\n"
                    f"- {'; '.join(problems)}\n"
                    "\nPlease make sure to use the exact tool and parameter names as specified in the function schema.",
                }
            ]
        raise ValueError("; ".join(problems) or "Failed to get valid response after all retry attempts")

    # --- what a run may cost ----------------------------------------------------------------
    def token_limit(self, input_data: Any) -> int | None:
        try:
            inputs: Any = self.validate_input(input_data) if isinstance(input_data, dict) else input_data
        except ValueError:
            return 0
        texts: list[Any] = [entry for entry in inputs.conversation_history or [] if entry]
        texts += [inputs.last_tool_output, inputs.sys_prompt, inputs.prompt, json.dumps(inputs.prompt_values)]
        prompt = prompt_token_bound(texts) + TOOLS_TOKEN_ALLOWANCE
        return calls_token_limit(
            prompt,
            max_output_tokens(inputs.model, inputs.max_tokens),
            max(1, int(inputs.retry)),
            True,
            _COMPLAINT_BYTES,
        )


def _has_objective(prompt: list[dict[str, Any]], role: str) -> bool:
    return any(
        entry.get("role") == role
        and isinstance(entry.get("content"), str)
        and entry["content"].startswith(MAIN_OBJECTIVE_PREFIX)
        for entry in prompt
    )
