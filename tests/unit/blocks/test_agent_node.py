"""The MAG agent node's tool loop against the loopback model (FakeOpenAI) and MCP server."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest

from localcloud.fake_openai import FakeOpenAI
from localcloud.mcp_server import McpServerHandle, start_mcp_server
from stratus.blocks.ai.agent_node import MAG_AGENT_BLOCK_ID, MagAgentNodeBlock, run_agent
from stratus.blocks.registry import get_block
from stratus.blocks.testing import run_block
from stratus.errors import NotFound
from stratus.executions.block_services import UserMcpRegistry, UserModelConfigs
from stratus.executions.models import RunContext
from stratus.executions.node_runner import block_kwargs
from stratus.mag.models import McpServerConfig, ModelConfig
from stratus.mcp.client import McpToolbox
from tests.conftest import allowed_egress


@pytest.fixture(scope="module")
def mcp() -> Iterator[McpServerHandle]:
    handle = start_mcp_server()
    with allowed_egress(handle.base_url):
        yield handle
    handle.stop()


def model(fake: FakeOpenAI, **parameters: Any) -> ModelConfig:
    return ModelConfig(name="fake", base_url=fake.url, api_key="sk-test", model="fake-model", **parameters)


def agent(
    fake: FakeOpenAI,
    prompt: str,
    servers: list[McpServerConfig] | None = None,
    targets: tuple = (),
    max_iterations: int = 10,
    output_enabled: bool = True,
):
    usage: list[tuple[int, int]] = []

    async def go():
        if not servers:
            return await run_agent(
                model(fake),
                None,
                "Be brief.",
                prompt,
                list(targets),
                max_iterations,
                output_enabled,
                lambda p, c: usage.append((p, c)),
            )
        async with McpToolbox(servers) as toolbox:
            return await run_agent(
                model(fake),
                toolbox,
                "Be brief.",
                prompt,
                list(targets),
                max_iterations,
                output_enabled,
                lambda p, c: usage.append((p, c)),
            )

    fake.reset()
    return asyncio.run(go()), usage


def test_the_block_is_registered_in_the_ai_group():
    block = get_block(MAG_AGENT_BLOCK_ID)
    assert isinstance(block, MagAgentNodeBlock) and block.group == "ai" and not block.runs_inline
    assert {"output", "handoff", "tool_results"} <= block.output_schema.field_names()


def test_a_reply_without_tool_calls_is_the_output(fake):
    result, usage = agent(fake, "hello there")
    assert result.output == "Echo: hello there" and result.handoff is None and result.tool_results == []
    assert len(usage) == 1 and usage[0][1] == 3
    assert "tools" not in fake.requests[0]  # no tools offered, none sent


def test_mcp_tool_calls_run_in_parallel_and_feed_back(fake, mcp):
    server = McpServerConfig(url=mcp.streamable_http_url, transportType="streamable_http")
    prompt = 'Compute.\nCALL_TOOL add {"a": 2, "b": 3}\nCALL_TOOL lookup_fact {"topic": "nowhere"}'
    result, usage = agent(fake, prompt, [server])
    assert [r["tool_name"] for r in result.tool_results] == ["add", "lookup_fact"]
    assert result.tool_results[0] == {"tool_name": "add", "arguments": {"a": 2, "b": 3}, "result": "5"}
    assert "error" in result.tool_results[1]  # a tool error goes back to the model, the node goes on
    assert result.output.startswith("Tool results: 5 | Error: ")
    assert len(usage) == 2
    second = fake.requests[1]["messages"]
    assert [m["role"] for m in second] == ["system", "user", "assistant", "tool", "tool"]
    assert {t["function"]["name"] for t in fake.requests[0]["tools"]} >= {"add", "lookup_fact"}


def test_a_tool_timeout_goes_back_to_the_model(fake, mcp):
    server = McpServerConfig(url=mcp.streamable_http_url, transportType="streamable_http", timeout=0.5)
    result, _ = agent(fake, 'Wait.\nCALL_TOOL slow {"seconds": 3}', [server])
    assert result.tool_results[0]["tool_name"] == "slow" and "error" in result.tool_results[0]
    assert result.output.startswith("Tool results: Error: ")  # the node completes; the model saw the error


def test_output_disabled_gives_the_joined_tool_results(fake, mcp):
    server = McpServerConfig(url=mcp.sse_url, transportType="sse")
    result, _ = agent(
        fake, 'CALL_TOOL echo {"text": "one"}\nCALL_TOOL add {"a": 1, "b": 1}', [server], output_enabled=False
    )
    assert result.output == "one\n\n2"


def test_a_transfer_tool_ends_the_node_with_a_handoff(fake):
    result, usage = agent(fake, "Review this.\nHANDOFF writer", targets=("writer", "editor"))
    assert result.handoff == "writer" and len(usage) == 1
    tools = [t["function"]["name"] for t in fake.requests[0]["tools"]]
    assert tools == ["transfer_to_writer", "transfer_to_editor"]
    assert result.output == "Echo: Review this.\nHANDOFF writer"
    # not offered, not called
    result, _ = agent(fake, "Review this.\nHANDOFF writer", targets=())
    assert result.handoff is None


def test_max_iterations_bounds_the_loop(fake, mcp):
    server = McpServerConfig(url=mcp.streamable_http_url, transportType="streamable_http")
    result, usage = agent(fake, 'CALL_TOOL echo {"text": "x"}', [server], max_iterations=1)
    assert len(usage) == 1 and len(result.tool_results) == 1


def test_bad_tool_arguments_are_reported_to_the_model(fake, mcp):
    server = McpServerConfig(url=mcp.streamable_http_url, transportType="streamable_http")
    result, _ = agent(fake, 'CALL_TOOL add {"a": 1, oops}', [server])
    assert "Invalid arguments" in result.tool_results[0]["error"]
    assert json.loads(json.dumps(result.tool_results))  # storable as JSON


class FakeModelConfigs:
    """A `stratus.blocks.services.ModelConfigs` over a dict (the node runner's reads the users table)."""

    def __init__(self, configs: dict[str, ModelConfig]) -> None:
        self.configs = configs

    def get(self, name: str) -> ModelConfig:
        if name not in self.configs:
            raise NotFound(f"Model config {name!r} not found.")
        return self.configs[name]


class FakeMcpRegistry:
    def __init__(self, servers: dict[str, McpServerConfig]) -> None:
        self.registry = servers
        self.reads = 0

    def servers(self) -> dict[str, McpServerConfig]:
        self.reads += 1
        return self.registry


def run_node_block(fake: FakeOpenAI, data: dict[str, Any], servers: dict[str, McpServerConfig] | None = None):
    block = get_block(MAG_AGENT_BLOCK_ID)
    registry = FakeMcpRegistry(servers or {})
    fake.reset()
    outputs = run_block(
        block,
        {"node_name": "n1", "model_name": "fake", **data},
        user_id="alice",
        model_configs=FakeModelConfigs({"fake": model(fake)}),
        mcp_registry=registry,
    )
    return dict(outputs), registry


def test_the_block_gets_its_model_and_servers_from_its_run_services(fake, mcp):
    server = McpServerConfig(url=mcp.streamable_http_url, transportType="streamable_http")
    outputs, registry = run_node_block(
        fake, {"user_prompt": 'CALL_TOOL add {"a": 2, "b": 3}', "mcp_servers": ["calc"]}, {"calc": server}
    )
    assert outputs["tool_results"] == [{"tool_name": "add", "arguments": {"a": 2, "b": 3}, "result": "5"}]
    assert registry.reads == 1 and fake.requests[0]["model"] == "fake-model"
    # no servers asked for: the registry is not read
    outputs, registry = run_node_block(fake, {"user_prompt": "hi"})
    assert outputs["output"] == "Echo: hi" and registry.reads == 0


def test_an_unknown_model_or_server_fails_the_node(fake):
    with pytest.raises(NotFound, match="nope"):
        run_node_block(fake, {"model_name": "nope", "user_prompt": "hi"})
    with pytest.raises(ValueError, match=r"\['missing'\] are not configured"):
        run_node_block(fake, {"user_prompt": "hi", "mcp_servers": ["missing"]})


def test_the_node_runner_binds_the_services_to_the_runs_user():
    block = get_block(MAG_AGENT_BLOCK_ID)
    kwargs = block_kwargs(RunContext("alice", graph_exec_id="exec-1"), "node-1", block, {})
    assert kwargs["model_configs"] == UserModelConfigs("alice")
    assert kwargs["mcp_registry"] == UserMcpRegistry("alice")
