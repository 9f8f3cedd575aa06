"""The agent node of a MAG (mcp-agent-graph) graph: one node run's model and tool loop.

The orchestrator plans node runs with stratus.engine.mag and gives this block a rendered run:
prompts, the node's model config name, its MCP server names and the handoff targets offered.
The block calls the model with the MCP tools of those servers plus one `transfer_to_<node>` tool
per handoff target, runs each reply's tool calls in parallel, feeds the results back, and stops
when a reply has no tool calls, a transfer tool was chosen, or `max_iterations` replies were
made. A tool error or timeout goes back to the model as the tool's result; it does not fail the node.

Model: the user's model config `model_name` (base_url, api_key, model and request parameters),
from the run's `model_configs`. MCP servers: the user's registry, the run's `mcp_registry`. Both
are run kwargs (stratus.blocks.services) that the node runner binds to the run's user, so this
block reads no store itself. Token usage goes to the executor's
`record_usage(prompt_tokens, completion_tokens)`.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import Any

from pydantic import Field

from stratus.blocks.sdk import Block, BlockCategory, BlockOutput, BlockSchema, BlockSchemaOutput
from stratus.blocks.services import MCP_REGISTRY, MODEL_CONFIGS, McpRegistry, ModelConfigs
from stratus.engine.mag import handoff_tool_name
from stratus.mag.models import MAG_AGENT_BLOCK_ID, McpServerConfig, ModelConfig
from stratus.net.egress import refusal

__all__ = ["MAG_AGENT_BLOCK_ID", "MagAgentNodeBlock", "run_agent"]
DEFAULT_TIMEOUT_SECONDS = 120.0
MODEL_RETRIES = 2  # the openai client's own retries of 429/5xx/connection errors


@dataclass
class AgentResult:
    output: str
    handoff: str | None
    tool_results: list[dict[str, Any]] = field(default_factory=list)


def _handoff_tool(target: str) -> dict[str, Any]:
    return {
        "type": "function",
        "function": {
            "name": handoff_tool_name(target),
            "description": f"Hand the task over to the agent node {target!r}; it continues from here.",
            "parameters": {"type": "object", "properties": {}},
        },
    }


def _assistant_message(message: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {"role": "assistant", "content": message.content or ""}
    if message.tool_calls:
        entry["tool_calls"] = [
            {
                "id": call.id,
                "type": "function",
                "function": {"name": call.function.name, "arguments": call.function.arguments},
            }
            for call in message.tool_calls
        ]
    return entry


async def run_agent(
    model: ModelConfig,
    toolbox: Any,
    system_prompt: str,
    user_prompt: str,
    handoff_targets: list[str],
    max_iterations: int,
    output_enabled: bool = True,
    record_usage: Callable[[int, int], Any] | None = None,
) -> AgentResult:
    """The tool loop. `toolbox`: an entered stratus.mcp.client.McpToolbox, or None."""
    from stratus.blocks.ai.model_client import openai_client

    handoffs = {handoff_tool_name(target): target for target in handoff_targets}
    tools = [*(toolbox.tools if toolbox else []), *(_handoff_tool(target) for target in handoff_targets)]
    messages: list[dict[str, Any]] = [{"role": "system", "content": system_prompt}] if system_prompt else []
    messages.append({"role": "user", "content": user_prompt})
    result = AgentResult(output="", handoff=None)
    last_text = ""
    client = openai_client(
        base_url=model.base_url,
        api_key=model.api_key or "none",
        max_retries=MODEL_RETRIES,
        timeout=model.timeout or DEFAULT_TIMEOUT_SECONDS,
    )
    async with client:
        for _ in range(max_iterations):
            try:
                completion = await client.chat.completions.create(
                    model=model.model, messages=messages, **({"tools": tools} if tools else {}), **model.parameters()
                )
            except Exception as exc:
                refused = refusal(exc)
                if refused is not None:
                    raise ValueError(f"Model {model.name!r}: {refused}") from None
                raise
            usage = getattr(completion, "usage", None)
            if usage is not None and record_usage is not None:
                record_usage(int(usage.prompt_tokens or 0), int(usage.completion_tokens or 0))
            if not completion.choices:
                raise ValueError("The model returned no choices")
            message = completion.choices[0].message
            last_text = message.content or last_text
            messages.append(_assistant_message(message))
            calls = list(message.tool_calls or [])
            if not calls:
                break
            chosen = next((handoffs[c.function.name] for c in calls if c.function.name in handoffs), None)
            answers = await asyncio.gather(*(_call_tool(toolbox, handoffs, chosen, call) for call in calls))
            for call, (answer, record) in zip(calls, answers):
                messages.append({"role": "tool", "tool_call_id": call.id, "content": answer})
                if record is not None:
                    result.tool_results.append(record)
            if chosen is not None:
                result.handoff = chosen  # the target continues: this node is done
                break
    if output_enabled:
        result.output = last_text
    else:
        result.output = "\n\n".join(str(r.get("result", r.get("error", ""))) for r in result.tool_results)
    return result


async def _call_tool(
    toolbox: Any, handoffs: dict[str, str], chosen: str | None, call: Any
) -> tuple[str, dict[str, Any] | None]:
    """(the tool message content, the tool_results entry or None for a transfer)."""
    name = call.function.name
    if name in handoffs:
        target = handoffs[name]
        return (f"Transferred to {target}." if target == chosen else f"Not transferred: {chosen} was chosen."), None
    try:
        arguments = json.loads(call.function.arguments or "{}")
        if not isinstance(arguments, dict):
            raise ValueError("the arguments must be a JSON object")
    except ValueError as exc:
        error = f"Invalid arguments for {name}: {exc}"
        return error, {"tool_name": name, "arguments": call.function.arguments, "error": error}
    if toolbox is None:
        error = f"Unknown tool {name!r}: this node has no MCP servers."
        return error, {"tool_name": name, "arguments": arguments, "error": error}
    from stratus.mcp.client import McpError

    try:
        text = await toolbox.call(name, arguments)
    except McpError as exc:  # a tool error or timeout: the model sees it and may try again
        return f"Error: {exc}", {"tool_name": name, "arguments": arguments, "error": str(exc)}
    return text, {"tool_name": name, "arguments": arguments, "result": text}


def resolve_mcp_servers(mcp_registry: McpRegistry, names: list[str]) -> dict[str, McpServerConfig]:
    """The node's servers from the user's registry (ValueError naming the missing ones)."""
    if not names:
        return {}
    registry = mcp_registry.servers()
    missing = [name for name in names if name not in registry]
    if missing:
        raise ValueError(f"MCP server(s) {missing} are not configured for this user.")
    return {name: registry[name] for name in names}


class MagAgentNodeBlock(Block):
    id = MAG_AGENT_BLOCK_ID
    description = (
        "An agent node of an MCP agent graph (MAG): calls its model with the node's prompts, the "
        "tools of its MCP servers and its handoff tools until the model stops calling tools."
    )
    categories = {BlockCategory.AGENT}
    group = "ai"
    runs_inline = False

    class Input(BlockSchema):
        node_name: str = Field(default="", description="The node's (qualified) name in its graph.")
        level: int = Field(default=0, description="The node's level in its graph.")
        model_name: str = Field(default="", description="The name of one of the user's model configs.")
        system_prompt: str = Field(default="", description="The system prompt, placeholders rendered.")
        user_prompt: str = Field(default="", description="The user prompt, placeholders rendered.")
        mcp_servers: list[str] = Field(default_factory=list, description="Names of the user's MCP servers.")
        handoff_targets: list[str] = Field(
            default_factory=list, description="Nodes offered as transfer_to_<node> tools."
        )
        max_iterations: int = Field(default=50, ge=1, le=200, description="The most model replies.")
        output_enabled: bool = Field(default=True, description="Output the last reply (else the tool results).")

    class Output(BlockSchemaOutput):
        output: str = Field(description="The node's output: its last reply (or its joined tool results).")
        handoff: str = Field(description="The node chosen with a transfer tool, when one was.")
        tool_results: list = Field(description="Each MCP tool call: tool_name, arguments, result or error.")

    input_schema, output_schema = Input, Output

    async def run(self, input_data: Input, **kwargs: Any) -> BlockOutput:
        model_configs: ModelConfigs = kwargs[MODEL_CONFIGS]
        mcp_registry: McpRegistry = kwargs[MCP_REGISTRY]
        if not input_data.model_name:
            yield "error", f"Node {input_data.node_name!r} has no model_name."
            return
        model = model_configs.get(input_data.model_name)
        servers = resolve_mcp_servers(mcp_registry, input_data.mcp_servers)
        async with AsyncExitStack() as stack:
            toolbox = None
            if servers:
                from stratus.mcp.client import McpToolbox

                toolbox = await stack.enter_async_context(McpToolbox(servers))
            result = await run_agent(
                model,
                toolbox,
                input_data.system_prompt,
                input_data.user_prompt,
                input_data.handoff_targets,
                input_data.max_iterations,
                input_data.output_enabled,
                kwargs.get("record_usage"),
            )
        yield "output", result.output
        if result.handoff:
            yield "handoff", result.handoff
        yield "tool_results", result.tool_results
