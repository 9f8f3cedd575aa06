"""The pure engine: AutoGPT's executor semantics, ported from its executor test cases."""

from __future__ import annotations

import asyncio
import itertools
import json
from pathlib import Path

from stratus.blocks.registry import get_block
from stratus.engine import dataflow
from stratus.engine.models import ExecutionStatus as S
from stratus.executions.node_runner import run_node
from stratus.graphs.models import Graph, Link, Node

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
CALC = "b1ab9b19-67a6-406d-abf5-2dba76d00c79"
OUT = "363ae599-353e-4804-937e-b2ee3cef3da4"
INP = "c0a8e994-ebf1-4a9c-a4d8-89d09c86741b"
STORE = "1ff065e9-88e8-4358-9d82-8dc91f622ba9"
STEP = "f66a3543-28d3-4ab5-8945-9b336371e2ce"
FILL = "db7d8f02-2f44-4c55-ab7a-eae0941f0c30"


def run_graph(graph: Graph, inputs: dict) -> dataflow.EngineState:
    """Drive the engine to the end, running every queued node in order."""
    counter = itertools.count()
    state = dataflow.EngineState("gexec", graph, new_id=lambda: f"ne{next(counter)}")
    dataflow.start(state, inputs)
    while state.queued():
        node_exec = state.queued()[0]
        dataflow.mark_running(state, node_exec)
        block = get_block(node_exec.block_id)
        outputs, failed = asyncio.run(run_node(block, dataflow.run_input(state, node_exec)))
        dataflow.complete(state, node_exec, outputs, failed)
    return state


def node(node_id, block_id, **defaults):
    return Node(id=node_id, block_id=block_id, input_default=defaults)


def link(source, source_name, sink, sink_name, static=False):
    return Link(source_id=source, source_name=source_name, sink_id=sink, sink_name=sink_name, is_static=static)


def test_calculator_example_gives_autogpt_result():
    graph = Graph.model_validate(json.loads((EXAMPLES / "calculator.json").read_text()))
    state = run_graph(graph, {"a": 2, "b": 3})
    assert dataflow.graph_outputs(state) == {"result": [50.0]}
    assert state.is_finished()
    assert all(e.status is S.COMPLETED for e in state.node_execs.values())


def test_list_fan_out_runs_the_template_once_per_item():
    graph = Graph.model_validate(json.loads((EXAMPLES / "list_fanout.json").read_text()))
    state = run_graph(graph, {"items": ["apple", "pear", "fig"]})
    assert dataflow.graph_outputs(state) == {"lines": ["Item 0: apple", "Item 1: pear", "Item 2: fig"]}


def test_condition_branch_routes_only_the_taken_side():
    graph = Graph.model_validate(json.loads((EXAMPLES / "condition_branch.json").read_text()))
    assert dataflow.graph_outputs(run_graph(graph, {"score": 75})) == {"verdict": ["pass"], "passed": [True]}
    assert dataflow.graph_outputs(run_graph(graph, {"score": 10})) == {"verdict": ["fail"], "passed": [False]}


def test_input_pin_always_waited():
    """A default in input_default does not satisfy a linked pin (AutoGPT's test_input_pin_always_waited)."""
    graph = Graph(
        nodes=[
            node("in", INP, name="x"),
            node("calc", CALC, operation="Add", a=100, b=1),
            node("out", OUT, name="sum"),
        ],
        links=[link("in", "result", "calc", "a"), link("calc", "result", "out", "value")],
    )
    state = run_graph(graph, {"x": None})  # the input yields nothing when its value is None
    assert dataflow.graph_outputs(state) == {}
    calc_runs = [e for e in state.node_execs.values() if e.node_id == "calc"]
    assert calc_runs == []  # no value arrived, so the linked pin was never satisfied
    state = run_graph(graph, {"x": 5})
    assert dataflow.graph_outputs(state) == {"sum": [6.0]}


def test_static_input_link_fills_every_run():
    """AutoGPT's test_static_input_link_on_graph: a static value serves every later run."""
    graph = Graph(
        nodes=[
            node("items", INP, name="items"),
            node("step", STEP),
            node("store", STORE, input=10),
            node("calc", CALC, operation="Multiply"),
            node("out", OUT, name="products"),
        ],
        links=[
            link("items", "result", "step", "items"),
            link("step", "item", "calc", "a"),
            link("store", "output", "calc", "b", static=True),
            link("calc", "result", "out", "value"),
        ],
    )
    state = run_graph(graph, {"items": [1, 2, 3, 4]})
    assert dataflow.graph_outputs(state) == {"products": [10.0, 20.0, 30.0, 40.0]}


def test_static_value_arriving_late_completes_waiting_runs():
    graph = Graph(
        nodes=[node("calc", CALC, operation="Add"), node("out", OUT, name="o")],
        links=[link("calc", "result", "out", "value")],
    )
    state = dataflow.EngineState(
        "g",
        Graph(
            nodes=[node("src", STEP), node("store", STORE), node("calc", CALC, operation="Add")],
            links=[link("src", "item", "calc", "a"), link("store", "output", "calc", "b", static=True)],
        ),
        new_id=iter(f"n{i}" for i in range(100)).__next__,
    )
    dataflow.route(state, "src", "item", 1)
    dataflow.route(state, "src", "item", 2)
    waiting = state.by_status(S.INCOMPLETE)
    assert [e.input_data for e in waiting] == [{"a": 1}, {"a": 2}]
    dataflow.route(state, "store", "output", 100)
    assert [e.input_data for e in state.queued()] == [{"a": 1, "b": 100}, {"a": 2, "b": 100}]
    del graph


def test_multiple_yields_give_one_run_each_and_values_are_never_overwritten():
    """Each yield goes to the oldest incomplete run lacking that pin, else a new run."""
    state = dataflow.EngineState(
        "g",
        Graph(
            nodes=[node("a", STEP), node("b", STEP), node("calc", CALC, operation="Add")],
            links=[link("a", "item", "calc", "a"), link("b", "item", "calc", "b")],
        ),
        new_id=iter(f"n{i}" for i in range(100)).__next__,
    )
    for value in (1, 2, 3):
        dataflow.route(state, "a", "item", value)
    dataflow.route(state, "b", "item", 10)
    dataflow.route(state, "b", "item", 20)
    assert [e.input_data for e in state.queued()] == [{"a": 1, "b": 10}, {"a": 2, "b": 20}]
    assert [e.input_data for e in state.by_status(S.INCOMPLETE)] == [{"a": 3}]


def test_dynamic_pins_merge_and_extract():
    graph = Graph(
        nodes=[
            node("in", INP, name="pair"),
            node("fill", FILL, format="{{ first }}-{{ second }}"),
            node("out", OUT, name="joined"),
        ],
        links=[
            link("in", "result_$_0", "fill", "values_#_first"),
            link("in", "result_$_1", "fill", "values_#_second"),
            link("in", "result_$_7", "out", "value"),  # a missing path sends nothing
            link("fill", "output", "out", "value"),
        ],
    )
    state = run_graph(graph, {"pair": ["left", "right"]})
    assert dataflow.graph_outputs(state) == {"joined": ["left-right"]}


def test_error_pin_is_routed_and_the_node_fails():
    graph = Graph(
        nodes=[
            node("calc", CALC, operation="Modulo of nothing", a=1, b=2),
            node("out", OUT, name="problem"),
        ],
        links=[link("calc", "error", "out", "value")],
    )
    state = run_graph(graph, {})
    calc = next(e for e in state.node_execs.values() if e.node_id == "calc")
    assert calc.status is S.FAILED
    assert dataflow.graph_outputs(state)["problem"][0] == calc.output_data["error"][0]


def test_terminate_stops_everything_not_finished():
    state = dataflow.EngineState(
        "g", Graph(nodes=[node("a", CALC, operation="Add", a=1, b=2), node("b", CALC, operation="Add", a=1, b=2)])
    )
    dataflow.start(state, {})
    assert len(state.queued()) == 2
    dataflow.terminate(state)
    assert state.is_finished() and {e.status for e in state.node_execs.values()} == {S.TERMINATED}


def test_note_blocks_never_run():
    note = "cc10ff7b-7753-4ff2-9af6-9399b1a7eddc"
    state = dataflow.EngineState("g", Graph(nodes=[node("n", note, text="hello")]))
    assert dataflow.start(state, {}) == [] and state.is_finished()
