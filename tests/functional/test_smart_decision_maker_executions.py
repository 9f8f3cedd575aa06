"""A SmartDecisionMaker agent in real executions: the graph-execution ASL on moto's interpreter,
the SmartDecisionMaker in BlockAiFunction against a loopback FakeOpenAI, its tools (a Calculator
and a TextReplace node) run by the engine, their outputs fed back through last_tool_output and
the conversation through its own conversations → conversation_history link."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from localcloud.fake_openai import FakeOpenAI
from tests.conftest import allowed_egress
from tests.functional.test_state_machine import _wait, sfn_api  # noqa: F401 - the fixture

SDM = "3b191d9f-356f-482d-8238-ba04b6d18381"
CALCULATOR = "b1ab9b19-67a6-406d-abf5-2dba76d00c79"
TEXT_REPLACE = "7e7c87ab-3469-4bcc-9abe-67705091b713"
AGENT_INPUT = "c0a8e994-ebf1-4a9c-a4d8-89d09c86741b"
AGENT_OUTPUT = "363ae599-353e-4804-937e-b2ee3cef3da4"
TWO_TOOLS_IN_TURN = (
    "Compute 2 + 3, then write the answer into the sentence.\n"
    'CALL_TOOL calculatorblock {"a": 2, "b": 3, "operation": "Add"}\n'
    "THEN\n"
    'CALL_TOOL textreplaceblock {"text": "The answer is N", "new": "five"}'
)
TWO_TOOLS_AT_ONCE = (
    "Do both at once.\n"
    'CALL_TOOL calculatorblock {"a": 6, "b": 7, "operation": "Multiply"}\n'
    'CALL_TOOL textreplaceblock {"text": "N apples", "new": "two"}'
)


def agent_graph(multiple_tool_calls: bool = False, model: str = "gpt-4o-mini") -> dict[str, Any]:
    """Our own small agent: a task input, the decision maker with two tools, an output."""

    def link(source: str, source_name: str, sink: str, sink_name: str) -> dict[str, Any]:
        return {"source_id": source, "source_name": source_name, "sink_id": sink, "sink_name": sink_name}

    return {
        "name": "Two-tool agent",
        "description": "Calculates, then writes.",
        "nodes": [
            {"id": "task", "block_id": AGENT_INPUT, "input_default": {"name": "task"}},
            {
                "id": "sdm",
                "block_id": SDM,
                "input_default": {"model": model, "max_tokens": 200, "multiple_tool_calls": multiple_tool_calls},
            },
            {"id": "calc", "block_id": CALCULATOR, "input_default": {}},
            {"id": "replace", "block_id": TEXT_REPLACE, "input_default": {"old": "N"}},
            {"id": "answer", "block_id": AGENT_OUTPUT, "input_default": {"name": "answer"}},
        ],
        "links": [
            link("task", "result", "sdm", "prompt"),
            link("sdm", "tools_^_calculatorblock_~_a", "calc", "a"),
            link("sdm", "tools_^_calculatorblock_~_b", "calc", "b"),
            link("sdm", "tools_^_calculatorblock_~_operation", "calc", "operation"),
            link("sdm", "tools", "replace", "text"),
            link("sdm", "tools", "replace", "new"),
            link("calc", "result", "sdm", "last_tool_output"),
            link("replace", "output", "sdm", "last_tool_output"),
            link("sdm", "conversations", "sdm", "conversation_history"),
            link("sdm", "finished", "answer", "value"),
        ],
    }


@pytest.fixture(scope="module")
def model_server() -> Iterator[FakeOpenAI]:
    server = FakeOpenAI().start()
    with allowed_egress(server.url):
        yield server
    server.stop()


@pytest.fixture()
def api(sfn_api, model_server, monkeypatch):  # noqa: F811
    model_server.reset()
    monkeypatch.setenv("OPENAI_BASE_URL", model_server.url)
    monkeypatch.setenv("OPENAI_API_KEY", "platform-test-key")
    sfn_api.request("POST", "/api/auth/user", user="alice")
    return sfn_api


def run_agent(api, graph: dict[str, Any], task: str) -> dict[str, Any]:
    status, created = api.request("POST", "/api/graphs", user="alice", json_body={"graph": graph})
    assert status == 200, created
    status, execution = api.request(
        "POST", f"/api/graphs/{created['id']}/execute/1", user="alice", json_body={"inputs": {"task": task}}
    )
    assert status == 200, execution
    assert _wait(execution["id"], 60)["status"] == "SUCCEEDED"
    status, result = api.request("GET", f"/api/graphs/{created['id']}/executions/{execution['id']}", user="alice")
    assert status == 200
    result["block_of"] = {node["id"]: node["block_id"] for node in created["nodes"]}
    return result


def runs_of(result: dict[str, Any], block_id: str) -> list[dict[str, Any]]:
    return [n for n in result["node_executions"] if n["block_id"] == block_id]


def test_the_decision_maker_calls_two_tools_in_turn_then_finishes(api, model_server):
    result = run_agent(api, agent_graph(), TWO_TOOLS_IN_TURN)
    assert result["status"] == "COMPLETED", result
    assert result["outputs"]["answer"] == ["Tool results: The answer is five"]

    [calc] = runs_of(result, CALCULATOR)
    assert {k: calc["input_data"][k] for k in ("a", "b", "operation")} == {"a": 2, "b": 3, "operation": "Add"}
    assert calc["output_data"]["result"] == [5.0]
    [replace] = runs_of(result, TEXT_REPLACE)
    assert replace["input_data"]["text"] == "The answer is N" and replace["output_data"]["output"] == [
        "The answer is five"
    ]
    sdm_runs = runs_of(result, SDM)
    assert [r["status"] for r in sdm_runs] == ["COMPLETED"] * 3
    # Run 1 calls the calculator; run 2 gets its result and calls the text tool; run 3 finishes.
    assert [sorted(k for k in r["output_data"] if k.startswith("tools_^_")) for r in sdm_runs] == [
        [f"tools_^_{calc['node_id']}_~_{pin}" for pin in ("a", "b", "operation")],
        [f"tools_^_{replace['node_id']}_~_{pin}" for pin in ("new", "text")],
        [],
    ]
    assert sdm_runs[1]["input_data"]["last_tool_output"] == 5.0
    assert sdm_runs[2]["input_data"]["last_tool_output"] == "The answer is five"
    assert sdm_runs[2]["output_data"]["finished"] == ["Tool results: The answer is five"]

    # Three model calls, the conversation growing: the tool replies answer the calls' ids.
    assert len(model_server.requests) == 3
    last = model_server.requests[-1]["messages"]
    assert [m["role"] for m in last] == ["system", "user", "assistant", "tool", "assistant", "tool"]
    assert last[3]["tool_call_id"] == last[2]["tool_calls"][0]["id"]
    assert last[3]["content"] in ("5", "5.0")  # 5.0 comes back from DynamoDB as the number 5
    assert {t["function"]["name"] for t in model_server.requests[0]["tools"]} == {"calculatorblock", "textreplaceblock"}
    assert all(r["parallel_tool_calls"] is False for r in model_server.requests)

    # Priced by tokens like the other LLM blocks: one reservation and one settle per run.
    stats = [r["stats"] for r in sdm_runs]
    assert all(s and s["llm_call_count"] == 1 and s["input_token_count"] > 0 for s in stats), stats
    assert result["stats"]["llm_call_count"] == 3
    _, history = api.request("GET", "/api/credits/transactions", user="alice")
    keys = {tx["transaction_key"] for tx in history["transactions"]}
    assert all(r["node_exec_id"] in keys and f"{r['node_exec_id']}#settle" in keys for r in sdm_runs)
    assert result["stats"]["cost"] == 3  # 1 credit per 1,000 tokens, rounded up, per run
    _, balance = api.request("GET", "/api/credits", user="alice")
    assert balance["credits"] == 1000 - 3


def test_multiple_tool_calls_run_both_tools_and_answer_once_both_are_back(api, model_server):
    result = run_agent(api, agent_graph(multiple_tool_calls=True), TWO_TOOLS_AT_ONCE)
    assert result["status"] == "COMPLETED", result
    [calc], [replace] = runs_of(result, CALCULATOR), runs_of(result, TEXT_REPLACE)
    assert calc["output_data"]["result"] == [42.0] and replace["output_data"]["output"] == ["two apples"]
    sdm_runs = runs_of(result, SDM)
    assert len(sdm_runs) == 3 and all(r["status"] == "COMPLETED" for r in sdm_runs)
    # The first output answers one call; that run only passes the conversation on (no model call).
    assert len(model_server.requests) == 2
    assert "finished" not in sdm_runs[1]["output_data"] and "conversations" in sdm_runs[1]["output_data"]
    [answer] = result["outputs"]["answer"]
    assert answer.startswith("Tool results: ") and set(answer.removeprefix("Tool results: ").split(" | ")) == {
        "42",  # 42.0, read back from DynamoDB as the number 42
        "two apples",
    }
    assert model_server.requests[0]["parallel_tool_calls"] is True
    last = model_server.requests[-1]["messages"]
    assert [m["role"] for m in last][-3:] == ["assistant", "tool", "tool"]
    assert {m["tool_call_id"] for m in last[-2:]} == {c["id"] for c in last[-3]["tool_calls"]}


def test_the_decision_maker_on_claude_calls_two_tools_in_anthropic_format(api, model_server, monkeypatch):
    """The same agent with a Claude model: the calls go to Anthropic's Messages API (the
    `anthropic` SDK against the loopback server) with tools as Anthropic tools, the model's
    tool_use blocks become the tool nodes' inputs, and their outputs go back as tool_result
    blocks answering the tool_use ids."""
    monkeypatch.setenv("ANTHROPIC_BASE_URL", model_server.root_url)
    monkeypatch.setenv("ANTHROPIC_API_KEY", "platform-anthropic-key")
    result = run_agent(api, agent_graph(model="claude-sonnet-4-5-20250929"), TWO_TOOLS_IN_TURN)
    assert result["status"] == "COMPLETED", result
    assert result["outputs"]["answer"] == ["Tool results: The answer is five"]
    [calc], [replace] = runs_of(result, CALCULATOR), runs_of(result, TEXT_REPLACE)
    assert calc["output_data"]["result"] == [5.0] and replace["output_data"]["output"] == ["The answer is five"]
    assert [r["status"] for r in runs_of(result, SDM)] == ["COMPLETED"] * 3

    assert [(c["api"], c["api_key"]) for c in model_server.calls] == [("messages", "platform-anthropic-key")] * 3
    first, last = model_server.calls[0]["body"], model_server.calls[-1]["body"]
    assert {t["name"] for t in first["tools"]} == {"calculatorblock", "textreplaceblock"}
    assert all("input_schema" in t for t in first["tools"])
    assert first["tool_choice"] == {"type": "auto", "disable_parallel_tool_use": True}  # multiple_tool_calls off
    assert first["system"][0]["text"].startswith("[Main Objective Prompt]: ")
    roles = [m["role"] for m in last["messages"]]
    assert roles == ["user", "assistant", "user", "assistant", "user"]
    uses = [b for m in last["messages"] for b in m["content"] if isinstance(b, dict) and b["type"] == "tool_use"]
    results = [b for m in last["messages"] for b in m["content"] if isinstance(b, dict) and b["type"] == "tool_result"]
    assert [u["name"] for u in uses] == ["calculatorblock", "textreplaceblock"]
    assert all(u["id"].startswith("toolu_") for u in uses)
    assert [r["tool_use_id"] for r in results] == [u["id"] for u in uses]
    assert results[1]["content"] == "The answer is five"
    assert result["stats"]["cost"] >= 3  # the platform's Anthropic key: charged per run
