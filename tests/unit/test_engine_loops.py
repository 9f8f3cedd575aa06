"""Loops in the pure engine: AutoGPT graphs that feed a node's output back into itself or into an
earlier node, run with AutoGPT's readiness (each node execution waits for every linked pin,
unless its block says otherwise) and its input routing (a value goes to the oldest waiting
execution lacking that pin, else to a new one)."""

from __future__ import annotations

import time
from typing import Any

import pytest

from stratus.blocks import registry
from stratus.blocks.sdk import Block, BlockOutput, BlockSchema, BlockSchemaOutput
from stratus.engine import dataflow
from stratus.engine.models import ExecutionStatus as S
from stratus.graphs.models import Graph
from stratus.graphs.validation import validate_graph
from tests.unit.test_engine import CALC, INP, OUT, STEP, STORE, link, node, run_graph

ADD_TO_LIST = "aeb08fc1-2fc1-4141-bc8e-f758f183a822"
CONDITION = "715696a0-e1da-45c8-b209-c2fa9c3b0be6"


def runs_of(state: dataflow.EngineState, node_id: str) -> list:
    return [e for e in state.node_execs.values() if e.node_id == node_id]


def accumulator(*extra_nodes, extra_links=()) -> Graph:
    """items → StepThroughItems → AddToList.entry; AddToList.updated_list → its own list.
    The first list comes from an AddToList with nothing linked (AutoGPT's pattern: an empty
    "prerequisite" AddToList before the accumulator)."""
    return Graph(
        nodes=[
            node("items", INP, name="items"),
            node("step", STEP),
            node("empty", ADD_TO_LIST, list=[]),
            node("acc", ADD_TO_LIST),
            node("out", OUT, name="lists"),
            *extra_nodes,
        ],
        links=[
            link("items", "result", "step", "items", static=True),
            link("step", "item", "acc", "entry"),
            link("empty", "updated_list", "acc", "list"),
            link("acc", "updated_list", "acc", "list"),  # the loop
            link("acc", "updated_list", "out", "value"),
            *extra_links,
        ],
    )


def test_a_graph_that_loops_is_valid():
    validate_graph(accumulator(), for_run=True)  # no error: AutoGPT refuses no cycle


def test_an_accumulator_feeding_its_own_list_collects_every_item():
    state = run_graph(accumulator(), {"items": ["a", "b", "c"]})
    assert dataflow.graph_outputs(state) == {"lists": [["a"], ["a", "b"], ["a", "b", "c"]]}
    acc = runs_of(state, "acc")
    assert [e.status for e in acc] == [S.COMPLETED] * 3 + [S.INCOMPLETE]
    # The last list went round once more and waits for an entry that never comes, as in AutoGPT.
    assert acc[-1].input_data == {"list": ["a", "b", "c"]}
    assert state.is_finished()


def test_the_accumulator_does_not_depend_on_which_pin_arrives_first():
    """Items all arrive before the first list (StepThroughItems yields them in one run): each
    waits in its own execution and the list walks through them in order."""
    state = dataflow.EngineState("g", accumulator(), new_id=iter(f"n{i}" for i in range(100)).__next__)
    for item in (1, 2, 3):
        dataflow.route(state, "step", "item", item)
    assert [e.input_data for e in state.waiting("acc")] == [{"entry": 1}, {"entry": 2}, {"entry": 3}]
    dataflow.route(state, "empty", "updated_list", [])
    first = state.queued()
    assert [e.input_data for e in first] == [{"entry": 1, "list": []}]
    dataflow.mark_running(state, first[0])
    dataflow.complete(state, first[0], [("updated_list", [1])])
    # Its output fills the next waiting execution (the oldest lacking `list`), not a new one.
    assert [e.input_data for e in state.queued() if e.node_id == "acc"] == [{"entry": 2, "list": [1]}]
    assert [e.input_data for e in state.waiting("acc")] == [{"entry": 3}]


def counter(limit_static: bool = False) -> Graph:
    """A Calculator whose result feeds its own `a`; a Condition lets the loop go on (its
    yes_output, 1, is the next `b`) while the count is below the limit, and gives the count out
    of no_output once it is not."""
    limit = [node("limit", STORE, input=5)] if limit_static else []
    return Graph(
        nodes=[
            node("seed", INP, name="start"),
            node("calc", CALC, operation="Add"),
            node("cond", CONDITION, operator="<", yes_value=1, **({} if limit_static else {"value2": 5})),
            node("out", OUT, name="count"),
            *limit,
        ],
        links=[
            link("seed", "result", "calc", "a", static=True),
            link("seed", "result", "cond", "value1", static=True),
            link("calc", "result", "calc", "a"),  # the loop: the result is the next a
            link("calc", "result", "cond", "value1"),
            link("cond", "yes_output", "calc", "b"),
            link("cond", "no_output", "out", "value"),
            *([link("limit", "output", "cond", "value2", static=True)] if limit_static else []),
        ],
    )


def test_a_calculator_feeding_its_own_a_counts_until_the_condition_exits():
    state = run_graph(counter(), {"start": 0})
    assert dataflow.graph_outputs(state) == {"count": [5.0]}
    calc = runs_of(state, "calc")
    assert [e.output_data["result"] for e in calc if e.status is S.COMPLETED] == [[1.0], [2.0], [3.0], [4.0], [5.0]]
    assert [e.status for e in runs_of(state, "cond")] == [S.COMPLETED] * 6
    assert [e.status for e in calc][-1] is S.INCOMPLETE  # the last result waits for a b that never comes


def test_a_static_link_inside_a_loop_fills_every_iteration():
    """The limit comes over a static link (a StoreValue): every Condition run of the loop gets it."""
    state = run_graph(counter(limit_static=True), {"start": 2})
    assert dataflow.graph_outputs(state) == {"count": [5.0]}
    assert [e.input_data["value2"] for e in runs_of(state, "cond")] == [5] * 4


def test_a_two_node_ping_pong_loop():
    """A → B → A: a Calculator doubling and a Condition sending the value back while it is below 100."""
    graph = Graph(
        nodes=[
            node("seed", INP, name="x"),
            node("double", CALC, operation="Multiply", b=2),
            node("check", CONDITION, operator="<", value2=100),
            node("out", OUT, name="first_over_100"),
        ],
        links=[
            link("seed", "result", "double", "a", static=True),
            link("double", "result", "check", "value1"),
            link("check", "yes_output", "double", "a"),  # back to A
            link("check", "no_output", "out", "value"),
        ],
    )
    state = run_graph(graph, {"x": 3})
    doubled = [e.output_data["result"][0] for e in runs_of(state, "double")]
    assert doubled == [6.0, 12.0, 24.0, 48.0, 96.0, 192.0]
    assert dataflow.graph_outputs(state) == {"first_over_100": [100]}  # no_output: value2
    assert [e.output_data["result"] for e in runs_of(state, "check")] == [[True]] * 5 + [[False]]
    assert state.is_finished() and all(e.status is S.COMPLETED for e in state.node_execs.values())


def test_the_error_pin_works_inside_loops():
    """A failing node inside the loop's body: its error pin feeds a second accumulator loop,
    its results the first; the failed run stops nothing else."""
    graph = Graph(
        nodes=[
            node("items", INP, name="items"),
            node("step", STEP),
            node("times10", CALC, a=1, b=10),
            node("empty", ADD_TO_LIST, list=[]),
            node("acc", ADD_TO_LIST),
            node("errors_empty", ADD_TO_LIST, list=[]),
            node("errors", ADD_TO_LIST),
            node("out", OUT, name="products"),
            node("err_out", OUT, name="problems"),
        ],
        links=[
            link("items", "result", "step", "items", static=True),
            link("step", "item", "times10", "operation"),
            link("times10", "result", "acc", "entry"),
            link("empty", "updated_list", "acc", "list"),
            link("acc", "updated_list", "acc", "list"),
            link("acc", "updated_list", "out", "value"),
            link("times10", "error", "errors", "entry"),
            link("errors_empty", "updated_list", "errors", "list"),
            link("errors", "updated_list", "errors", "list"),
            link("errors", "updated_list", "err_out", "value"),
        ],
    )
    state = run_graph(graph, {"items": ["Multiply", "Nope", "Add", "Bad"]})
    outputs = dataflow.graph_outputs(state)
    assert outputs["products"] == [[10.0], [10.0, 11.0]]
    assert len(outputs["problems"]) == 2 and len(outputs["problems"][-1]) == 2
    assert all("operation" in problem for problem in outputs["problems"][-1])  # the pin that failed is named
    assert [e.status for e in runs_of(state, "times10")] == [S.COMPLETED, S.FAILED, S.COMPLETED, S.FAILED]


def test_fan_out_and_dynamic_pins_inside_a_loop():
    """The accumulator's list goes out through a dynamic pin (`updated_list_$_0`: its first
    element) and fans out to two sinks each turn."""
    graph = accumulator(
        node("first", OUT, name="first"),
        extra_links=[link("acc", "updated_list_$_0", "first", "value")],
    )
    state = run_graph(graph, {"items": ["x", "y"]})
    assert dataflow.graph_outputs(state) == {"lists": [["x"], ["x", "y"]], "first": ["x", "x"]}


# --- a block's own readiness rule ----------------------------------------------------------
class _EchoWithFeedback(Block):
    """Runs on a `prompt` without waiting for `feedback` (its loop-back pin), like AutoGPT's
    SmartDecisionMaker with conversation_history; once feedback is linked and arrives, it runs
    again with it, but never on `stop`."""

    id = "0f3c1b0e-7a4e-4a83-9c55-3a8f0a6b1e01"

    class Input(BlockSchema):
        prompt: str
        feedback: list = []

        @classmethod
        def get_missing_links(cls, data: Any, links: Any) -> set[str]:
            return super().get_missing_links(data, [lk for lk in links if lk.sink_name != "feedback"])

        @classmethod
        def get_missing_input(cls, data: Any) -> set[str]:
            if data.get("feedback") == ["stop"]:
                return {"feedback"}
            return super().get_missing_input(data)

    class Output(BlockSchemaOutput):
        said: list

    input_schema, output_schema = Input, Output

    async def run(self, input_data: Any, **kwargs: Any) -> BlockOutput:
        yield "said", [*input_data.feedback, input_data.prompt]


class _RefusesItsWiring(_EchoWithFeedback):
    id = "0f3c1b0e-7a4e-4a83-9c55-3a8f0a6b1e02"

    class Input(_EchoWithFeedback.Input):
        @classmethod
        def get_missing_links(cls, data: Any, links: Any) -> set[str]:
            raise ValueError("feedback must not be static")

    input_schema = Input


@pytest.fixture
def custom_blocks(monkeypatch):
    blocks = {block.id: block for block in (_EchoWithFeedback(), _RefusesItsWiring())}
    real = registry.get_block
    monkeypatch.setattr(registry, "get_block", lambda block_id: blocks.get(block_id) or real(block_id))
    monkeypatch.setattr(dataflow, "get_block", registry.get_block)
    monkeypatch.setattr("tests.unit.test_engine.get_block", registry.get_block)
    return blocks


def test_a_block_may_start_a_loop_without_its_loop_back_pin(custom_blocks):
    echo = _EchoWithFeedback.id
    graph = Graph(
        nodes=[node("p", INP, name="p"), node("echo", echo), node("out", OUT, name="said")],
        links=[
            link("p", "result", "echo", "prompt", static=True),
            link("echo", "said", "echo", "feedback"),  # the loop
            link("echo", "said", "out", "value"),
        ],
    )
    # It would go on forever (each run feeds the next): the orchestrator's node-run budget stops
    # such a loop. Here the engine is driven by hand: the input, then two runs of the block.
    state = dataflow.EngineState("g", graph, new_id=iter(f"n{i}" for i in range(100)).__next__)
    dataflow.start(state, {"p": "hi"})
    outputs = []
    for _ in range(3):
        node_exec = state.queued()[0]
        if node_exec.node_id == "p":
            dataflow.mark_running(state, node_exec)
            dataflow.complete(state, node_exec, [("result", "hi")])
            continue
        inputs = dataflow.run_input(state, node_exec)
        said = [*inputs.get("feedback", []), inputs["prompt"]]
        outputs.append(said)
        dataflow.mark_running(state, node_exec)
        dataflow.complete(state, node_exec, [("said", said)])
    assert outputs == [["hi"], ["hi", "hi"]]
    node_exec = next(e for e in state.queued() if e.node_id == "echo")
    dataflow.mark_running(state, node_exec)
    dataflow.complete(state, node_exec, [("said", ["stop"])])
    # get_missing_input keeps the execution fed ["stop"] waiting: the loop ends there.
    waiting = state.waiting("echo")
    assert [e.input_data for e in waiting] == [{"feedback": ["stop"], "prompt": "hi"}]
    assert not [e for e in state.queued() if e.node_id == "echo"]


def test_a_readiness_hook_that_raises_fails_the_execution_with_its_message(custom_blocks):
    graph = Graph(
        nodes=[node("p", INP, name="p"), node("bad", _RefusesItsWiring.id), node("out", OUT, name="o")],
        links=[link("p", "result", "bad", "prompt"), link("bad", "error", "out", "value")],
    )
    state = run_graph(graph, {"p": "hi"})
    bad = runs_of(state, "bad")
    assert [e.status for e in bad] == [S.FAILED]
    assert bad[0].output_data == {"error": ["_RefusesItsWiring: feedback must not be static"]}
    assert state.is_finished()


# --- long loops ----------------------------------------------------------------------------
def test_a_thousand_iteration_accumulator_does_linear_engine_work():
    items = list(range(1000))
    started = time.perf_counter()
    state = run_graph(accumulator(), {"items": items})
    elapsed = time.perf_counter() - started
    lists = dataflow.graph_outputs(state)["lists"]
    assert len(lists) == 1000 and lists[-1] == items
    # The index of waiting executions is consumed, not rescanned: each (node, pin) queue holds
    # only what still waits (here the one list that went round after the last item).
    assert sum(len(q) for q in state._lacking.values()) <= 2
    assert elapsed < 30, f"{elapsed:.1f} s for 2,002 node runs"
