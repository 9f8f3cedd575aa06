"""SmartDecisionMakerBlock: its tools' signatures, the conversation bookkeeping, retries on bad
tool calls, readiness, and the engine's routing of its tool pins (own small graphs; the model
is the loopback fake or a scripted reply)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from localcloud.fake_openai import FakeOpenAI
from stratus.blocks.ai import model_client
from stratus.blocks.ai.smart_decision import (
    SMART_DECISION_MAKER_ID,
    SmartDecisionMakerBlock,
    cleanup,
    pending_tool_calls,
    tool_response,
    tool_signatures,
)
from stratus.blocks.dynamic_pins import base_name, fires, parse_execution_output
from stratus.blocks.services import EXECUTION_GRAPH, GraphInfo
from stratus.blocks.testing import run_block
from stratus.graphs.models import Graph, Link, Node
from tests.conftest import allowed_egress

CALCULATOR = "b1ab9b19-67a6-406d-abf5-2dba76d00c79"
TEXT_REPLACE = "7e7c87ab-3469-4bcc-9abe-67705091b713"
STORE_VALUE = "1ff065e9-88e8-4358-9d82-8dc91f622ba9"
AGENT_EXECUTOR = "e189baac-8c20-45a1-94a7-55177ea42565"
CREATE_DICT_LIKE = "db7d8f02-2f44-4c55-ab7a-eae0941f0c30"  # FillTextTemplateBlock: a dict input `values`
BLOCK = SmartDecisionMakerBlock()


@dataclass
class FakeGraphView:
    """An ExecutionGraph over an in-memory graph."""

    graph_: Graph
    node_id: str = "sdm"
    infos: dict[tuple[str, int], GraphInfo] = field(default_factory=dict)

    def graph(self) -> Graph:
        return self.graph_

    def graph_info(self, graph_id: str, version: int) -> GraphInfo | None:
        return self.infos.get((graph_id, version))


def tool_link(sink: str, pin: str, source_name: str = "tools") -> Link:
    return Link(source_id="sdm", sink_id=sink, source_name=source_name, sink_name=pin)


def two_tool_graph() -> Graph:
    nodes = [
        Node(id="sdm", block_id=SMART_DECISION_MAKER_ID),
        Node(id="calc", block_id=CALCULATOR),
        Node(id="replace", block_id=TEXT_REPLACE, input_default={"old": "x"}),
    ]
    links = [
        tool_link("calc", "a"),
        tool_link("calc", "b"),
        tool_link("calc", "operation"),
        tool_link("replace", "text"),
        tool_link("replace", "new"),
        Link(source_id="calc", sink_id="sdm", source_name="result", sink_name="last_tool_output"),
        Link(source_id="replace", sink_id="sdm", source_name="output", sink_name="last_tool_output"),
        Link(source_id="sdm", sink_id="sdm", source_name="conversations", sink_name="conversation_history"),
    ]
    return Graph(id="g", nodes=nodes, links=links)


# --- function signatures ----------------------------------------------------------------------
def test_block_tool_signatures_name_parameters_required_and_sink():
    tools = tool_signatures(two_tool_graph(), "sdm", lambda *_: None)
    assert [t["function"]["name"] for t in tools] == ["calculatorblock", "textreplaceblock"]
    calc = tools[0]["function"]
    assert calc["description"] == "Performs a mathematical operation on two numbers."
    params = calc["parameters"]
    assert set(params["properties"]) == {"a", "b", "operation"}
    assert params["required"] == ["a", "b", "operation"] and params["additionalProperties"] is False
    # The enum of `operation` is inlined from the block schema's $defs.
    assert params["properties"]["operation"]["enum"] == ["Add", "Subtract", "Multiply", "Divide", "Power"]
    assert params["properties"]["a"]["type"] == "number"
    assert calc["_sink_node_id"] == "calc" and calc["_field_mapping"] == {"a": "a", "b": "b", "operation": "operation"}
    assert "_hardcoded_defaults" not in calc  # internal: dropped once names are unique


def test_agent_executor_tool_signature_uses_the_sub_graph_metadata():
    schema = {"type": "object", "properties": {"topic": {"description": "What to write about", "default": "cats"}}}
    graph = Graph(
        id="g",
        nodes=[
            Node(id="sdm", block_id=SMART_DECISION_MAKER_ID),
            Node(
                id="agent",
                block_id=AGENT_EXECUTOR,
                input_default={"graph_id": "child", "graph_version": 2, "input_schema": schema, "user_id": ""},
            ),
        ],
        links=[tool_link("agent", "topic"), tool_link("agent", "Style Name")],
    )
    info = {("child", 2): GraphInfo(name="Blog Writer (v2)", description="Writes a blog post")}
    [tool] = tool_signatures(graph, "sdm", lambda gid, v: info.get((gid, v)))
    function = tool["function"]
    assert function["name"] == "blog_writer__v2_" and function["description"] == "Writes a blog post"
    assert function["parameters"]["strict"] is True and function["parameters"]["additionalProperties"] is False
    assert function["parameters"]["properties"]["topic"] == {
        "type": "string",
        "description": "What to write about",
        "default": '"cats"',
    }
    assert function["parameters"]["properties"]["style_name"]["description"] == "The Style Name of the tool"
    assert function["_field_mapping"]["style_name"] == "Style Name"
    with pytest.raises(ValueError, match="Sink graph metadata not found: child 2"):
        tool_signatures(graph, "sdm", lambda *_: None)


def test_duplicate_tool_names_get_suffixes_and_their_fixed_inputs():
    graph = Graph(
        id="g",
        nodes=[
            Node(id="sdm", block_id=SMART_DECISION_MAKER_ID),
            Node(id="r1", block_id=TEXT_REPLACE, input_default={"old": "a", "new": "b"}),
            Node(id="r2", block_id=TEXT_REPLACE, input_default={"old": "c", "new": "d"}),
            Node(id="named", block_id=STORE_VALUE, metadata={"customized_name": "Remember This!"}),
        ],
        links=[tool_link("r1", "text"), tool_link("r2", "text"), tool_link("named", "input")],
    )
    tools = [t["function"] for t in tool_signatures(graph, "sdm", lambda *_: None)]
    assert [t["name"] for t in tools] == ["textreplaceblock_1", "textreplaceblock_2", "remember_this_"]
    assert tools[0]["description"].endswith('[Pre-configured: old="a", new="b"]')
    assert tools[2]["parameters"]["properties"]["input"]["description"] == (
        "Trigger the block to produce the output. The value is only used when `data` is None."
    )


def test_dynamic_pins_become_string_parameters_and_old_style_links_count():
    graph = Graph(
        id="g",
        nodes=[Node(id="sdm", block_id=SMART_DECISION_MAKER_ID), Node(id="fill", block_id=CREATE_DICT_LIKE)],
        links=[
            tool_link("fill", "values_#_name", "tools_^_filltexttemplateblock_~_values_#_name"),
            tool_link("fill", "format", "tools_^_filltexttemplateblock_~_format"),
        ],
    )
    [tool] = tool_signatures(graph, "sdm", lambda *_: None)
    props = tool["function"]["parameters"]["properties"]
    assert props["values___name"] == {
        "type": "string",
        "description": "Dictionary field 'name' for base field 'values' (values['name'])",
    }
    assert tool["function"]["_field_mapping"]["values___name"] == "values_#_name"


def test_no_tools_is_an_error():
    graph = Graph(id="g", nodes=[Node(id="sdm", block_id=SMART_DECISION_MAKER_ID)], links=[])
    with pytest.raises(ValueError, match="There is no next node to execute."):
        tool_signatures(graph, "sdm", lambda *_: None)


def test_cleanup():
    assert cleanup("My Tool (v2)!") == "my_tool__v2__"
    assert base_name("tools_^_node_~_field") == "tools" and base_name("tools") == "tools"


# --- conversation bookkeeping -------------------------------------------------------------------
def test_pending_tool_calls_in_openai_and_anthropic_shapes():
    history = [
        {"role": "user", "content": "go"},
        {"role": "assistant", "content": None, "tool_calls": [{"id": "call_1"}, {"id": "call_2"}]},
        {"role": "tool", "tool_call_id": "call_1", "content": "1"},
        {"role": "assistant", "content": [{"type": "text", "text": "hm"}, {"type": "tool_use", "id": "toolu_9"}]},
    ]
    assert pending_tool_calls(history) == {"call_2": 1, "toolu_9": 1}
    history.append(tool_response("toolu_9", {"x": 1}))
    assert history[-1] == {
        "role": "user",
        "type": "message",
        "content": [{"tool_use_id": "toolu_9", "type": "tool_result", "content": '{"x": 1}'}],
    }
    assert pending_tool_calls(history) == {"call_2": 1}
    assert tool_response("call_2", "ok") == {"role": "tool", "tool_call_id": "call_2", "content": "ok"}


def test_readiness_overrides():
    schema = SmartDecisionMakerBlock.Input
    links = [
        Link(source_id="x", sink_id="sdm", source_name="result", sink_name="last_tool_output"),
        Link(source_id="sdm", sink_id="sdm", source_name="conversations", sink_name="conversation_history"),
        Link(source_id="i", sink_id="sdm", source_name="result", sink_name="prompt", is_static=True),
    ]
    assert schema.get_missing_links({"prompt": "p"}, links) == set()
    assert schema.get_missing_links({}, links) == {"prompt"}
    with pytest.raises(ValueError, match="connect both inputs together"):
        schema.get_missing_links({}, links[:1])
    with pytest.raises(ValueError, match="static"):
        schema.get_missing_links({}, [links[0].model_copy(update={"is_static": True}), links[1]])
    asked = [{"role": "assistant", "tool_calls": [{"id": "call_1"}]}]
    assert schema.get_missing_input({"prompt": "p", "conversation_history": [], "last_tool_output": None}) == set()
    assert schema.get_missing_input({"prompt": "p", "conversation_history": asked, "last_tool_output": None}) == {
        "last_tool_output"
    }
    assert schema.get_missing_input({"prompt": "p", "conversation_history": [], "last_tool_output": 3}) == {
        "conversation_history"
    }
    assert schema.get_missing_input({"prompt": "p", "conversation_history": asked, "last_tool_output": 3}) == set()
    assert schema.get_missing_input({"conversation_history": []}) == {"prompt"}


# --- routing of tool pins -----------------------------------------------------------------------
def test_tool_pins_route_to_their_node_and_pin_only():
    value = parse_execution_output("tools_^_calc_~_a", 5, "tools", "calc", "a")
    assert value == 5
    assert not fires(parse_execution_output("tools_^_calc_~_a", 5, "tools", "calc", "b"))
    assert not fires(parse_execution_output("tools_^_calc_~_a", 5, "tools", "other", "a"))
    # An older export's link names the tool, not the node: routing still goes by node and pin.
    assert parse_execution_output("tools_^_calc_~_a", 5, "tools_^_calculatorblock_~_a", "calc", "a") == 5
    # A None argument (the model left it out) is not delivered, as AutoGPT's executor drops it.
    assert not fires(parse_execution_output("tools_^_calc_~_a", None, "tools", "calc", "a"))
    # Other pins of the block are unaffected.
    assert parse_execution_output("finished", "done", "finished") == "done"
    assert not fires(parse_execution_output("tools_^_calc_~_a", 5, "finished", "out", "value"))


def test_engine_delivers_each_argument_to_its_tool_node():
    from stratus.engine import dataflow

    state = dataflow.EngineState("exec", two_tool_graph())
    sdm = state._new_exec(state.nodes["sdm"], {})
    touched = dataflow.complete(
        state,
        sdm,
        [
            ("tool_functions", "[]"),
            ("tools_^_calc_~_a", 2),
            ("tools_^_calc_~_b", 3),
            ("tools_^_calc_~_operation", "Add"),
            ("conversations", [{"role": "assistant", "tool_calls": [{"id": "call_1"}]}]),
        ],
    )
    by_node = {e.node_id: e for e in touched}
    assert by_node["calc"].input_data == {"a": 2, "b": 3, "operation": "Add"}
    assert by_node["calc"].status is dataflow.Status.QUEUED
    assert "replace" not in by_node  # the other tool gets nothing
    assert by_node["sdm"].input_data == {
        "conversation_history": [{"role": "assistant", "tool_calls": [{"id": "call_1"}]}]
    }


# --- runs ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def server() -> Iterator[FakeOpenAI]:
    fake = FakeOpenAI().start()
    with allowed_egress(fake.url):
        yield fake
    fake.stop()


@pytest.fixture
def fake(server: FakeOpenAI) -> FakeOpenAI:
    server.reset()
    return server


def run_sdm(
    fake: FakeOpenAI, inputs: dict[str, Any], graph: Graph | None = None, **extra: Any
) -> list[tuple[str, Any]]:
    data = {"credentials": BLOCK.test_input["credentials"], "model": "gpt-4o-mini", **inputs}  # type: ignore[index]
    view = FakeGraphView(graph or two_tool_graph())
    return run_block(BLOCK, data, llm_base_url=fake.url, llm_api_key="test", **{EXECUTION_GRAPH: view}, **extra)


def test_autogpt_self_test_input_finishes_without_a_tool_call(fake):
    graph = Graph(
        id="g",
        nodes=[Node(id="sdm", block_id=SMART_DECISION_MAKER_ID), Node(id="keep", block_id=STORE_VALUE)],
        links=[tool_link("keep", "input")],
    )
    results = run_sdm(fake, dict(BLOCK.test_input), graph)  # type: ignore[arg-type]
    assert [name for name, _ in results] == ["tool_functions", "finished"]
    assert results[1][1] == "Echo: [Main Objective Prompt]: Hello, World!"
    [request] = fake.requests
    assert [m["role"] for m in request["messages"]] == ["system", "user"]
    assert request["messages"][0]["content"].startswith("[Main Objective Prompt]: Thinking carefully")
    assert request["tools"][0]["function"]["name"] == "storevalueblock"
    assert "_sink_node_id" not in request["tools"][0]["function"]  # internal keys stay home
    assert request["parallel_tool_calls"] is False


def test_a_tool_call_yields_its_arguments_then_the_conversation(fake):
    prompt = 'Add two numbers.\nCALL_TOOL calculatorblock {"a": 2, "b": 3, "operation": "Add"}'
    results = run_sdm(fake, {"prompt": prompt})
    names = [name for name, _ in results]
    assert names == [
        "tool_functions",
        "tools_^_calc_~_a",
        "tools_^_calc_~_b",
        "tools_^_calc_~_operation",
        "conversations",
    ]
    assert dict(results)["tools_^_calc_~_a"] == 2
    conversation = dict(results)["conversations"]
    assert conversation[-1]["role"] == "assistant" and conversation[-1]["tool_calls"][0]["function"]["name"] == (
        "calculatorblock"
    )
    # The next run: the tool's output answers the call, the model finishes.
    results = run_sdm(fake, {"prompt": prompt, "conversation_history": conversation, "last_tool_output": 5})
    assert [name for name, _ in results] == ["tool_functions", "finished"]
    assert dict(results)["finished"] == "Tool results: 5"
    sent = fake.requests[-1]["messages"]
    assert sent[-1] == {"role": "tool", "tool_call_id": conversation[-1]["tool_calls"][0]["id"], "content": "5"}
    assert sum(1 for m in sent if m["role"] == "system") == 1  # the objective is not repeated


def test_multiple_tool_calls_wait_for_every_output(fake):
    prompt = (
        'Do both.\nCALL_TOOL calculatorblock {"a": 1, "b": 1, "operation": "Add"}\n'
        'CALL_TOOL textreplaceblock {"text": "xyz", "new": "A"}'
    )
    single = run_sdm(fake, {"prompt": prompt})
    assert [n for n, _ in single if n.startswith("tools_^_")] == [
        "tools_^_calc_~_a",
        "tools_^_calc_~_b",
        "tools_^_calc_~_operation",
    ]  # parallel_tool_calls false: one call
    results = run_sdm(fake, {"prompt": prompt, "multiple_tool_calls": True})
    outputs = dict(results)
    assert outputs["tools_^_replace_~_text"] == "xyz" and outputs["tools_^_replace_~_new"] == "A"
    assert "Only provide EXACTLY" not in json.dumps(fake.requests[-1]["messages"])
    conversation = outputs["conversations"]
    # First output: answers the first call, the second is still open: no model call.
    before = len(fake.requests)
    first = run_sdm(
        fake,
        {"prompt": prompt, "multiple_tool_calls": True, "conversation_history": conversation, "last_tool_output": 2},
    )
    assert [n for n, _ in first] == ["tool_functions", "conversations"] and len(fake.requests) == before
    second = run_sdm(
        fake,
        {
            "prompt": prompt,
            "multiple_tool_calls": True,
            "conversation_history": dict(first)["conversations"],
            "last_tool_output": "Ayz",
        },
    )
    assert dict(second)["finished"] == "Tool results: 2 | Ayz"


def test_an_output_without_a_call_is_added_as_a_user_message(fake):
    results = run_sdm(
        fake,
        {
            "prompt": "Go",
            "conversation_history": [{"role": "user", "content": "earlier"}],
            "last_tool_output": {"v": 1},
        },
    )
    assert dict(results)["finished"] == "Echo: [Main Objective Prompt]: Go"
    assert {"role": "user", "content": 'Last tool output: {"v": 1}'} in fake.requests[-1]["messages"]


def test_a_call_waiting_for_its_output_fails_the_run(fake):
    history = [{"role": "assistant", "content": None, "tool_calls": [{"id": "call_7"}]}]
    with pytest.raises(ValueError, match="Tool call requires an output for"):
        run_sdm(fake, {"prompt": "Go", "conversation_history": history})


def test_outside_a_graph_and_agent_mode_are_clear_errors(fake):
    data = {"prompt": "p", "credentials": BLOCK.test_input["credentials"]}  # type: ignore[index]
    with pytest.raises(ValueError, match="only inside a graph execution"):
        run_block(BLOCK, data)
    with pytest.raises(ValueError, match="Agent mode"):
        run_sdm(fake, {"prompt": "p", "agent_mode_max_iterations": 3})


def test_usage_is_recorded_and_the_token_limit_caps_the_call(fake):
    calls: list[tuple[int, int]] = []
    run_sdm(
        fake,
        {"prompt": "Hi"},
        record_usage=lambda p, c: calls.append((p, c)),
        token_limit=BLOCK.token_limit({"prompt": "Hi", "credentials": {}, "max_tokens": 50}),
    )
    assert len(calls) == 1 and calls[0][1] > 0
    assert fake.requests[-1]["max_tokens"] == 16_384  # the model's output limit fits the reservation
    limit = BLOCK.token_limit({"prompt": "Hi", "credentials": {}, "max_tokens": 50, "retry": 2})
    assert limit and limit < BLOCK.token_limit({"prompt": "Hi", "credentials": {}, "retry": 2})  # type: ignore[operator]


# --- retries on bad tool calls (AutoGPT's parameter validation test, with scripted replies) --------
def scripted(monkeypatch: pytest.MonkeyPatch, replies: list[model_client.LLMResponse]) -> list[list[dict[str, Any]]]:
    sent: list[list[dict[str, Any]]] = []

    async def llm_call(credentials: Any, llm_model: Any, prompt: list[dict[str, Any]], max_tokens: Any, **params: Any):
        sent.append(list(prompt))
        return replies[min(len(sent) - 1, len(replies) - 1)]

    monkeypatch.setattr(model_client, "llm_call", llm_call)
    return sent


def reply_calling(arguments: dict[str, Any], name: str = "calculatorblock") -> model_client.LLMResponse:
    call = model_client.ToolContentBlock(
        id="call_1", type="function", function=model_client.ToolCall(name=name, arguments=json.dumps(arguments))
    )
    return model_client.LLMResponse(
        raw_response={"role": "assistant", "content": None},
        prompt=[],
        response="",
        tool_calls=[call],
        prompt_tokens=0,
        completion_tokens=0,
    )


def test_unknown_parameter_is_retried_then_fails(monkeypatch):
    sent = scripted(monkeypatch, [reply_calling({"a": 1, "b": 2, "operation": "Add", "maximum": 3})])
    with pytest.raises(ValueError) as error:
        run_block(BLOCK, {"prompt": "p", "retry": 2}, **{EXECUTION_GRAPH: FakeGraphView(two_tool_graph())})
    assert "Tool call 'calculatorblock' has parameter errors" in str(error.value)
    assert "Unknown parameters: ['maximum']" in str(error.value)
    assert len(sent) == 2 and sent[1][-1]["content"].startswith("Your tool call had errors.")


def test_missing_required_parameter_fails_and_a_corrected_call_succeeds(monkeypatch):
    scripted(monkeypatch, [reply_calling({"a": 1})])
    with pytest.raises(ValueError, match=r"Missing required parameters: \['b', 'operation'\]"):
        run_block(BLOCK, {"prompt": "p"}, **{EXECUTION_GRAPH: FakeGraphView(two_tool_graph())})
    sent = scripted(monkeypatch, [reply_calling({"a": 1}), reply_calling({"a": 1, "b": 2, "operation": "Add"})])
    outputs = dict(run_block(BLOCK, {"prompt": "p"}, **{EXECUTION_GRAPH: FakeGraphView(two_tool_graph())}))
    assert outputs["tools_^_calc_~_b"] == 2 and len(sent) == 2


def test_optional_parameters_left_out_are_yielded_as_none(monkeypatch):
    graph = two_tool_graph()
    graph.links.append(tool_link("calc", "round_result"))
    scripted(monkeypatch, [reply_calling({"a": 1, "b": 2, "operation": "Add"})])
    outputs = dict(run_block(BLOCK, {"prompt": "p"}, **{EXECUTION_GRAPH: FakeGraphView(graph)}))
    assert outputs["tools_^_calc_~_round_result"] is None


def test_a_misnamed_call_of_the_only_tool_is_that_tool(monkeypatch):
    graph = Graph(
        id="g",
        nodes=[Node(id="sdm", block_id=SMART_DECISION_MAKER_ID), Node(id="keep", block_id=STORE_VALUE)],
        links=[tool_link("keep", "input")],
    )
    scripted(monkeypatch, [reply_calling({"input": "v"}, name="store")])
    outputs = dict(run_block(BLOCK, {"prompt": "p"}, **{EXECUTION_GRAPH: FakeGraphView(graph)}))
    assert outputs["tools_^_keep_~_input"] == "v"
