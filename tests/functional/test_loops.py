"""Graphs that loop, through the orchestrator's steps on moto: saved as sent, run with AutoGPT's
semantics, bounded by the node-run budget (MaxNodeRunsPerExecution), and kept inside Step
Functions' history budget by continue-as-new (moto cannot run a state machine that starts
itself, so its continue-as-new is driven here as the ASL's ContinueAsNew state would)."""

from __future__ import annotations

import pytest

from localcloud.bench_executions import accumulator_graph  # the graph `make bench` runs 1,000 times
from stratus.db import executions_table as repository
from stratus.executions import block_runner, launcher, orchestrator
from tests.functional.test_orchestrator import CALC, OUT, WEB, items, plenty_of_time, upload, user  # noqa: F401
from tests.graph_dicts import link_dict as _link
from tests.graph_dicts import node_dict as _node

INP = "c0a8e994-ebf1-4a9c-a4d8-89d09c86741b"
STEP = "f66a3543-28d3-4ab5-8945-9b336371e2ce"
ADD_TO_LIST = "aeb08fc1-2fc1-4141-bc8e-f758f183a822"
CONDITION = "715696a0-e1da-45c8-b209-c2fa9c3b0be6"


def ping_pong_graph() -> dict:
    """Two Calculators adding 1 and feeding each other (a seed gives the first a): a loop with
    no way out."""
    return {
        "name": "forever",
        "nodes": [
            _node("seed", CALC, operation="Add", a=0, b=0),
            _node("ping", CALC, operation="Add", b=1),
            _node("pong", CALC, operation="Add", b=1),
        ],
        "links": [
            _link("seed", "result", "ping", "a"),
            _link("ping", "result", "pong", "a"),
            _link("pong", "result", "ping", "a"),
        ],
    }


def drive(graph_exec_id: str, remaining_ms=plenty_of_time) -> list[dict]:
    """The state machine: Start, then Map + Advance until done (ContinueAsNew: a new execution
    whose Start resumes from the stored nodes), then Finalize."""
    step = orchestrator.start_step(graph_exec_id, remaining_ms)
    steps = [step]
    while not step["done"]:
        if step["continue_as_new"]:
            step = orchestrator.start_step(graph_exec_id, remaining_ms)  # the new execution's history starts at 0
        else:
            results = [block_runner.run(item["graph_exec_id"], item["node_exec_id"]) for item in step["batch"]]
            step = orchestrator.advance_step(graph_exec_id, results, remaining_ms, step["history"])
        steps.append(step)
    orchestrator.finalize_step(graph_exec_id)
    return steps


def node_items(graph_exec_id: str) -> list[dict]:
    return [i for i in items(graph_exec_id) if i["SK"].startswith("NODE#")]


def test_an_accumulator_loop_runs_to_completion(user):
    graph_id = upload(user, accumulator_graph())
    execution = launcher.start_execution(user, graph_id, 1, {"items": ["a", "b", "c", "d"], "count": 4})
    steps = drive(execution.id)
    assert len(steps) == 1  # core blocks: the whole loop ran inline, in the Start step
    meta = repository.get_meta(execution.id)
    assert meta["status"] == "COMPLETED", meta
    assert meta["outputs"] == {"all": [["a", "b", "c", "d"]]}
    lists = sorted(i["status"] for i in node_items(execution.id) if i["block_id"] == ADD_TO_LIST)
    assert lists == ["COMPLETED"] * 5 + ["INCOMPLETE"]  # the empty list, four turns, one left waiting


def test_a_loop_that_never_ends_fails_on_the_node_run_budget(user, monkeypatch):
    monkeypatch.setenv("MAX_NODE_RUNS_PER_EXECUTION", "25")
    execution = launcher.start_execution(user, upload(user, ping_pong_graph()), 1, {})
    drive(execution.id)
    meta = repository.get_meta(execution.id)
    assert meta["status"] == "FAILED"
    assert meta["stats"]["error"] == orchestrator.budget_error(25)
    assert "25 node runs" in meta["stats"]["error"] and "MaxNodeRunsPerExecution" in meta["stats"]["error"]
    nodes = node_items(execution.id)
    assert sum(1 for i in nodes if i["status"] == "COMPLETED") == 25 == meta["stats"]["node_exec_count"]
    assert {i["status"] for i in nodes} == {"COMPLETED", "TERMINATED"}  # the 26th never ran


def test_the_budget_counts_runs_across_steps_and_lambda_run_blocks(user, echo_server, monkeypatch):
    """A loop through a block Lambda (a web request each turn): every turn is a step of its own,
    and the count survives them (it is rebuilt from the stored nodes)."""
    monkeypatch.setenv("MAX_NODE_RUNS_PER_EXECUTION", "7")
    graph = {
        "name": "web loop",
        "nodes": [
            _node("seed", CALC, operation="Add", a=0, b=1),
            _node("web", WEB, url=f"{echo_server}/again", method="POST", body={"n": 0}),
            _node("again", CALC, operation="Add", b=1),
        ],
        "links": [
            _link("seed", "result", "web", "body_#_n"),
            _link("web", "response_#_echo_#_n", "again", "a"),
            _link("again", "result", "web", "body_#_n"),
        ],
    }
    execution = launcher.start_execution(user, upload(user, graph), 1, {})
    steps = drive(execution.id)
    assert len(steps) > 3
    meta = repository.get_meta(execution.id)
    assert meta["status"] == "FAILED" and meta["stats"]["error"] == orchestrator.budget_error(7)
    assert meta["stats"]["node_exec_count"] == 7


def test_a_long_loop_continues_as_new_under_names_that_never_repeat(user, monkeypatch):
    """Out of time every few nodes (an Advance each time) and a tiny history budget: the loop
    continues as new many times; each generation's name is new, and the result is whole."""
    monkeypatch.setattr(orchestrator, "HISTORY_BUDGET", 25)
    monkeypatch.setattr(orchestrator, "HISTORY_MARGIN", 0)
    calls = iter(range(1_000_000))
    remaining = lambda: 0 if next(calls) % 7 == 6 else 60_000  # noqa: E731
    items_in = list(range(40))
    execution = launcher.start_execution(
        user, upload(user, accumulator_graph()), 1, {"items": items_in, "count": len(items_in)}
    )
    steps = drive(execution.id, remaining)
    names = [s["next_name"] for s in steps if s["continue_as_new"]]
    assert len(names) >= 3
    # Every generation reaches the budget at the same history count: the node-run count in the
    # name keeps them apart (a name taken once cannot start another execution).
    assert len({name.rsplit("-", 1)[1] for name in names}) == 1
    assert len(set(names)) == len(names) and all(len(name) <= 80 for name in names)  # Step Functions' limit
    assert all(name.startswith(execution.id + "-") for name in names)
    meta = repository.get_meta(execution.id)
    assert meta["status"] == "COMPLETED" and meta["outputs"] == {"all": [items_in]}


@pytest.mark.parametrize("batch, expected", [(0, 7), (1, 7 + 4 + 9), (3, 7 + 4 + 27)])
def test_the_history_estimate_counts_each_event_the_loop_adds(batch, expected):
    """Route (Choice: 2) + Advance (Task: 5); a Map: 4, and per item 2 + HowToRun (2) + RunBlock (5)."""
    from stratus.engine.dataflow import EngineState
    from stratus.executions.state import Step
    from stratus.graphs.models import Graph

    state = EngineState("g" * 36, Graph())
    step = Step(meta=None, state=state, flow=None)  # type: ignore[arg-type]
    response = orchestrator._response(step, 100, batch=[{}] * batch)
    assert response["history"] == 100 + expected


def test_a_long_accumulator_completes_in_one_step_with_every_item(user):
    """AutoGPT's accumulator over 200 items, through the orchestrator on moto: one step (core
    blocks run inline), every node run counted, the list given out whole and in order. (The
    1,000-iteration run is `make bench`'s: on moto it takes over a minute, as each turn stores the
    list it received and the one it made, as AutoGPT stores every node execution's data.)"""
    iterations = 200
    items_in = [f"item-{index}" for index in range(iterations)]
    execution = launcher.start_execution(
        user, upload(user, accumulator_graph()), 1, {"items": items_in, "count": len(items_in)}
    )
    steps = drive(execution.id)
    assert len(steps) == 1
    meta = repository.get_meta(execution.id)
    assert meta["status"] == "COMPLETED", meta
    assert meta["outputs"] == {"all": [items_in]}
    # items, count, step, empty, last_key and out once; acc and is_last once per item.
    assert meta["stats"]["node_exec_count"] == 6 + 2 * iterations
    assert meta["stats"]["node_error_count"] == 0
