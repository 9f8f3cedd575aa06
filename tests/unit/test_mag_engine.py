"""The MAG engine: levels, placeholders and the replayable planner (handoffs, subgraphs)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from stratus.engine import mag
from stratus.engine.mag import NodeRun, PlannedRun, levels, node_prompts, plan, render
from stratus.mag.models import GraphConfig


def graph(*nodes: dict, end_template: str | None = None, name: str = "g") -> GraphConfig:
    return GraphConfig(name=name, nodes=[{"model_name": "m", **node} for node in nodes], end_template=end_template)


def run_all(
    config: GraphConfig,
    start: str,
    agent: Callable[[PlannedRun], NodeRun],
    subgraphs: dict | None = None,
    max_runs: int = mag.MAX_NODE_RUNS,
) -> tuple[mag.Plan, list[NodeRun]]:
    """Drive the planner to the end; every step replays the whole history (as the orchestrator does)."""
    history: list[NodeRun] = []
    for _ in range(1000):
        step = plan(config, subgraphs or {}, start, history, max_runs)
        if step.done:
            return step, history
        history.extend(agent(run) for run in step.batch)
    raise AssertionError("the planner never finished")


def echo(run: PlannedRun) -> NodeRun:
    return NodeRun(run.name, output=f"{run.name}({run.user_prompt})")


# --- levels -------------------------------------------------------------------------------
def test_levels_follow_input_nodes():
    config = graph(
        {"name": "a", "input_nodes": ["start"]},
        {"name": "b", "input_nodes": ["start"]},
        {"name": "c", "input_nodes": ["a", "b"]},
        {"name": "d", "input_nodes": ["c", "a"]},
    )
    assert levels(config) == {"a": 0, "b": 0, "c": 1, "d": 2}


def test_output_nodes_without_handoffs_make_dependencies():
    config = graph(
        {"name": "a", "input_nodes": ["start"], "output_nodes": ["b"]},
        {"name": "b"},
        {"name": "c", "output_nodes": ["end"], "input_nodes": ["b"]},
    )
    assert levels(config) == {"a": 0, "b": 1, "c": 2}


def test_output_nodes_of_a_handoff_node_and_mutual_pointers_do_not():
    config = graph(
        {"name": "writer", "input_nodes": ["start"], "output_nodes": ["critic"]},
        {"name": "critic", "input_nodes": ["writer"], "output_nodes": ["writer", "end"], "handoffs": 2},
        {"name": "x", "output_nodes": ["y"]},
        {"name": "y", "output_nodes": ["x"]},
    )
    assert levels(config) == {"writer": 0, "critic": 1, "x": 0, "y": 0}


def test_a_dependency_cycle_is_broken_in_config_order():
    config = graph({"name": "a", "input_nodes": ["start", "b"]}, {"name": "b", "input_nodes": ["a"]})
    assert levels(config) == {"a": 0, "b": 1}


# --- placeholders --------------------------------------------------------------------------
def test_placeholders_render_latest_last_n_all_and_start():
    outputs = {"a": ["one", "two", "three"], "b": []}
    assert render("{{a}}|{{ a:2 }}|{{a:all}}|{{b}}|{{start}}|{{nobody}}", outputs, "go") == (
        "three|two\n\n---\n\nthree|one\n\n---\n\ntwo\n\n---\n\nthree||go|{{nobody}}"
    )
    assert render("{{a:0}}", outputs, "") == ""


def test_unreferenced_input_nodes_are_appended_to_the_user_prompt():
    node = graph(
        {
            "name": "c",
            "input_nodes": ["start", "a", "b"],
            "user_prompt": "Use {{a}}.",
            "system_prompt": "You are {{b}}",
        },
        {"name": "a"},
        {"name": "b"},
    ).node("c")
    system, user = node_prompts(node, {"a": ["A1"], "b": ["B1"], "c": []}, "the task")
    assert system == "You are B1"
    assert user == "Use A1.\n\nthe task"  # start appended; a and b are named by placeholders
    node = graph({"name": "c", "input_nodes": ["a"]}, {"name": "a"}).node("c")
    assert node_prompts(node, {"a": []}, "x") == ("", "")  # a node that has not run adds nothing


# --- the planner ---------------------------------------------------------------------------
def test_levels_run_in_batches_and_the_chain_groups_them():
    config = graph(
        {"name": "a", "input_nodes": ["start"]},
        {"name": "b", "input_nodes": ["start"]},
        {"name": "c", "input_nodes": ["a", "b"], "user_prompt": "{{a}} + {{b}}"},
    )
    first = plan(config, {}, "hi", [])
    assert [run.name for run in first.batch] == ["a", "b"] and not first.done
    assert first.batch[0].run_input() == {
        "node_name": "a",
        "level": 0,
        "model_name": "m",
        "system_prompt": "",
        "user_prompt": "hi",
        "mcp_servers": [],
        "handoff_targets": [],
        "max_iterations": 50,
        "output_enabled": True,
    }
    result, history = run_all(config, "hi", echo)
    assert result.execution_chain == [["a", "b"], ["c"]]
    assert result.final_result == "c(a(hi) + b(hi))" and result.error is None
    assert plan(config, {}, "hi", history[:2]).batch[0].user_prompt == "a(hi) + b(hi)"  # replay is pure


def test_a_handoff_loop_is_bounded_by_handoffs():
    config = graph(
        {"name": "writer", "input_nodes": ["start"], "output_nodes": ["critic"], "user_prompt": "{{start}} {{critic}}"},
        {"name": "critic", "input_nodes": ["writer"], "output_nodes": ["writer", "end"], "handoffs": 2},
    )
    offered = []

    def agent(run: PlannedRun) -> NodeRun:
        offered.append((run.name, run.handoff_targets))
        target = run.handoff_targets[0] if run.handoff_targets else None  # always hand off when offered
        return NodeRun(run.name, output=f"{run.name}#{len(offered)}", handoff=target)

    result, history = run_all(config, "draft", agent)
    assert result.execution_chain == [["writer"], ["critic"]] * 3
    assert offered == [
        ("writer", ()),
        ("critic", ("writer",)),
        ("writer", ()),
        ("critic", ("writer",)),
        ("writer", ()),
        ("critic", ()),
    ]
    assert result.final_result == "critic#6"
    # the writer sees the critic's latest output
    assert plan(config, {}, "draft", history[:2]).batch[0].user_prompt == "draft critic#2"


def test_a_handoff_jumps_and_continues_with_the_levels_after_the_target():
    config = graph(
        {"name": "router", "input_nodes": ["start"], "output_nodes": ["left", "right"], "handoffs": 1},
        {"name": "left", "input_nodes": ["router"]},
        {"name": "right", "input_nodes": ["router"]},
        {"name": "after", "input_nodes": ["router"], "user_prompt": "{{left}}/{{right}}"},
        {"name": "last", "input_nodes": ["after"]},
    )
    assert levels(config) == {"router": 0, "left": 1, "right": 1, "after": 1, "last": 2}

    def agent(run: PlannedRun) -> NodeRun:
        return NodeRun(run.name, output=run.name, handoff="right" if run.name == "router" else None)

    result, _ = run_all(config, "go", agent)
    assert result.execution_chain == [["router"], ["right"], ["last"]]


def test_a_handoff_to_a_target_not_offered_is_ignored():
    config = graph({"name": "a", "input_nodes": ["start"]}, {"name": "b", "input_nodes": ["a"]})
    result, _ = run_all(config, "go", lambda run: NodeRun(run.name, output=run.name, handoff="a"))
    assert result.execution_chain == [["a"], ["b"]]


def test_subgraph_runs_inside_with_start_and_end():
    inner = graph(
        {"name": "x", "input_nodes": ["start"]},
        {"name": "y", "input_nodes": ["x"]},
        end_template="inner[{{y}}]",
        name="inner",
    )
    outer = graph(
        {"name": "pre", "input_nodes": ["start"]},
        {"name": "sub", "is_subgraph": True, "subgraph_name": "inner", "model_name": None, "input_nodes": ["pre"]},
        {"name": "side", "input_nodes": ["pre"]},
        {"name": "post", "input_nodes": ["sub", "side"], "user_prompt": "{{sub}} & {{side}}"},
        end_template="{{post}} / {{start}}",
    )
    result, history = run_all(outer, "task", echo, {"inner": inner})
    assert result.execution_chain == [["pre"], ["sub/x", "side"], ["sub/y"], ["post"]]
    assert [run.name for run in history] == ["pre", "sub/x", "side", "sub/y", "post"]
    assert history[1].output == "sub/x(pre(task))"  # inside, start is the subgraph node's input
    assert result.final_result == "post(inner[sub/y(sub/x(pre(task)))] & side(pre(task))) / task"


def test_a_missing_subgraph_ends_the_run_with_an_error():
    outer = graph({"name": "sub", "is_subgraph": True, "subgraph_name": "gone", "model_name": None})
    result = plan(outer, {}, "x", [])
    assert result.done and "gone" in result.error and result.final_result is None


def test_end_template_else_the_last_nodes_output():
    config = graph({"name": "a", "input_nodes": ["start"]}, {"name": "b", "input_nodes": ["a"]})
    assert run_all(config, "s", echo)[0].final_result == "b(a(s))"
    templated = graph(
        {"name": "a", "input_nodes": ["start"]},
        {"name": "b", "input_nodes": ["a"]},
        end_template="A={{a}} B={{b:all}} S={{start}}",
    )
    assert run_all(templated, "s", echo)[0].final_result == "A=a(s) B=b(a(s)) S=s"
    assert plan(graph(), {}, "s", []) == mag.Plan(done=True, final_result="")


def test_a_failed_node_stops_the_run():
    config = graph({"name": "a", "input_nodes": ["start"]}, {"name": "b", "input_nodes": ["a"]})
    result = plan(config, {}, "s", [NodeRun("a", status="FAILED", error="model down")])
    assert result.done and result.error == "Node a failed: model down" and result.execution_chain == [["a"]]


def test_the_number_of_node_runs_is_bounded():
    config = graph(
        {"name": "a", "input_nodes": ["start"], "output_nodes": ["b"]},
        {"name": "b", "input_nodes": ["a"], "output_nodes": ["a"], "handoffs": 100},
    )
    result, history = run_all(
        config, "s", lambda run: NodeRun(run.name, handoff=(run.handoff_targets or [None])[0]), max_runs=7
    )
    assert len(history) == 7 and result.done and "limit is 7" in result.error


def test_a_history_that_does_not_fit_the_plan_is_an_error():
    config = graph({"name": "a", "input_nodes": ["start"]})
    assert "do not match" in plan(config, {}, "s", [NodeRun("zzz")]).error
    assert "do not belong" in plan(config, {}, "s", [NodeRun("a"), NodeRun("a")]).error


@pytest.mark.parametrize("name", ["writer", "a b", "ünïcode/x"])
def test_handoff_tool_names_are_valid_openai_names(name):
    import re

    assert re.fullmatch(r"[A-Za-z0-9_-]{1,64}", mag.handoff_tool_name(name))
