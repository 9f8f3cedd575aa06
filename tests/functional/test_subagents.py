"""Sub-agents on the real ASL (moto's interpreter, in-process Lambdas): the AgentExecutor
starts a child execution and the parent's state machine waits on a task token that the
child's finalizer completes."""

from __future__ import annotations

import time

import pytest

from stratus.db.executions_table import executions_table, meta_key
from stratus.executions.ids import child_execution_id
from stratus.executions.subagents import MAX_DEPTH
from tests.functional.test_state_machine import _wait, sfn_api  # noqa: F401 - the fixture
from tests.graph_dicts import agent_node_dict as _agent_node

AGENT = "e189baac-8c20-45a1-94a7-55177ea42565"
INPUT = "c0a8e994-ebf1-4a9c-a4d8-89d09c86741b"
OUTPUT = "363ae599-353e-4804-937e-b2ee3cef3da4"
TEMPLATE = "db7d8f02-2f44-4c55-ab7a-eae0941f0c30"
TIMER = "d67a9c52-5e4e-11e2-bcfd-0800200c9a71"
USER = "sub-alice"


def _child_graph(timer_seconds: int = 0) -> dict:
    """topic → (optional timer) → "Hello {{topic}}" → greeting."""
    nodes = [
        {"id": "in", "block_id": INPUT, "input_default": {"name": "topic"}},
        {"id": "fill", "block_id": TEMPLATE, "input_default": {"format": "Hello {{topic}}"}},
        {"id": "out", "block_id": OUTPUT, "input_default": {"name": "greeting"}},
    ]
    links = [{"source_id": "fill", "source_name": "output", "sink_id": "out", "sink_name": "value"}]
    if timer_seconds:
        nodes.append({"id": "timer", "block_id": TIMER, "input_default": {"seconds": timer_seconds}})
        links += [
            {"source_id": "in", "source_name": "result", "sink_id": "timer", "sink_name": "input_message"},
            {"source_id": "timer", "source_name": "output_message", "sink_id": "fill", "sink_name": "values_#_topic"},
        ]
    else:
        links.append({"source_id": "in", "source_name": "result", "sink_id": "fill", "sink_name": "values_#_topic"})
    return {"name": "greeter", "nodes": nodes, "links": links}


def _parent_graph(child: dict) -> dict:
    """name → AgentExecutor(child: topic → greeting) → result."""
    return {
        "name": "parent",
        "nodes": [
            {"id": "in", "block_id": INPUT, "input_default": {"name": "name"}},
            _agent_node(child),
            {"id": "out", "block_id": OUTPUT, "input_default": {"name": "result"}},
        ],
        "links": [
            {"source_id": "in", "source_name": "result", "sink_id": "agent", "sink_name": "topic"},
            {"source_id": "agent", "source_name": "greeting", "sink_id": "out", "sink_name": "value"},
        ],
    }


def _create(api, graph: dict, user: str = USER) -> dict:
    status, created = api.request("POST", "/api/graphs", user=user, json_body={"graph": graph})
    assert status == 200, created
    return created


def _execute(api, graph: dict, inputs: dict, user: str = USER) -> str:
    status, execution = api.request(
        "POST", f"/api/graphs/{graph['id']}/execute/{graph['version']}", user=user, json_body={"inputs": inputs}
    )
    assert status == 200, execution
    return execution["id"]


def _result(api, graph: dict, graph_exec_id: str, user: str = USER) -> dict:
    status, result = api.request("GET", f"/api/graphs/{graph['id']}/executions/{graph_exec_id}", user=user)
    assert status == 200, result
    return result


def _agent_node_exec(result: dict) -> dict:
    return next(n for n in result["node_executions"] if n["block_id"] == AGENT)


@pytest.fixture()
def api(sfn_api):  # noqa: F811 - the imported fixture
    sfn_api.request("POST", "/api/auth/user", user=USER)
    return sfn_api


def test_the_parent_gets_the_childs_outputs_by_name_without_holding_a_lambda(api):
    child = _create(api, _child_graph(timer_seconds=2))
    parent = _create(api, _parent_graph(child))
    started = time.monotonic()
    graph_exec_id = _execute(api, parent, {"name": "Ada"})
    assert _wait(graph_exec_id)["status"] == "SUCCEEDED"
    waited = time.monotonic() - started

    result = _result(api, parent, graph_exec_id)
    assert result["status"] == "COMPLETED"
    assert result["outputs"] == {"result": ["Hello Ada"]}
    node = _agent_node_exec(result)
    assert node["status"] == "COMPLETED" and node["output_data"] == {"greeting": ["Hello Ada"]}

    # The child is a normal execution of the same user, linked both ways.
    child_id = child_execution_id(USER, node["node_exec_id"])
    child_meta = executions_table().get(meta_key(child_id), consistent=True)
    assert child_meta["user_id"] == USER and child_meta["status"] == "COMPLETED"
    assert child_meta["parent_graph_exec_id"] == graph_exec_id
    assert child_meta["parent_node_exec_id"] == node["node_exec_id"] and child_meta["depth"] == 1
    assert child_meta["task_token"]  # the token lives in the child's META, not in payloads
    parent_node_item = executions_table().get(
        {"PK": f"GEXEC#{graph_exec_id}", "SK": f"NODE#{node['node_exec_id']}"}, consistent=True
    )
    assert parent_node_item["child_graph_exec_id"] == child_id

    # Two block Lambda runs: the child's timer took 2 s; the AgentExecutor's, which started the
    # child, took less, so it returned before the child could finish. The parent waited for it.
    durations = sorted(ms for name, ms, _ in api.runner.invocations if name == "BlockCoreFunction")
    assert len(durations) == 2
    assert durations[0] < 2000 <= durations[1]
    assert waited >= 2


def test_an_exported_parent_imports_with_its_child_for_another_user_and_runs_unchanged(api):
    child = _create(api, _child_graph())
    parent = _create(api, _parent_graph(child))
    status, exported = api.request("GET", f"/api/graphs/{parent['id']}", user=USER, query="for_export=true")
    assert status == 200 and [s["id"] for s in exported["sub_graphs"]] == [child["id"]]

    other = "sub-bob"
    api.request("POST", "/api/auth/user", user=other)
    imported = _create(api, exported, user=other)
    [own_child] = imported["sub_graphs"]
    assert own_child["id"] != child["id"] and own_child["version"] == 1
    assert _agent_node_of(imported)["input_default"]["graph_id"] == own_child["id"]
    graph_exec_id = _execute(api, imported, {"name": "Eve"}, user=other)
    assert _wait(graph_exec_id)["status"] == "SUCCEEDED"

    result = _result(api, imported, graph_exec_id, user=other)
    assert result["status"] == "COMPLETED" and result["outputs"] == {"result": ["Hello Eve"]}
    child_meta = executions_table().get(
        meta_key(child_execution_id(other, _agent_node_exec(result)["node_exec_id"])), consistent=True
    )
    assert child_meta["user_id"] == other and child_meta["graph_id"] == own_child["id"]


def _agent_node_of(graph: dict) -> dict:
    return next(n for n in graph["nodes"] if n["block_id"] == AGENT)


def test_a_child_that_cannot_start_fails_the_node_and_the_parent_completes(api):
    child = _create(api, _child_graph())
    graph = _parent_graph(child)
    graph["links"] = [link for link in graph["links"] if link["sink_name"] != "topic"]  # no topic for the child
    parent = _create(api, graph)
    graph_exec_id = _execute(api, parent, {"name": "unused"})
    assert _wait(graph_exec_id)["status"] == "SUCCEEDED"
    result = _result(api, parent, graph_exec_id)
    assert result["status"] == "COMPLETED" and result["outputs"] == {}
    node = _agent_node_exec(result)
    assert node["status"] == "FAILED"
    assert "could not start" in node["output_data"]["error"][0] and "topic" in node["output_data"]["error"][0]


def test_the_childs_cost_and_usage_roll_up_into_the_parents_stats(api, monkeypatch):
    from stratus.blocks.registry import get_block
    from stratus.blocks.sdk import BlockCost

    monkeypatch.setattr(type(get_block(TEMPLATE)), "costs", [BlockCost(cost_amount=2)])
    child = _create(api, _child_graph())
    parent = _create(api, _parent_graph(child))
    graph_exec_id = _execute(api, parent, {"name": "Di"})
    assert _wait(graph_exec_id)["status"] == "SUCCEEDED"

    result = _result(api, parent, graph_exec_id)
    node = _agent_node_exec(result)
    child_meta = executions_table().get(meta_key(child_execution_id(USER, node["node_exec_id"])), consistent=True)
    assert child_meta["stats"]["cost"] == 2 and child_meta["stats"]["node_exec_count"] == 3
    assert node["stats"]["extra_cost"] == 2 and node["stats"]["extra_steps"] == 3
    assert result["stats"]["cost"] == 2  # the parent's own nodes are free; the child's fill cost 2


def test_a_stopped_child_fails_the_parent_node_with_its_error(api):
    child = _create(api, _child_graph(timer_seconds=3))
    parent = _create(api, _parent_graph(child))
    graph_exec_id = _execute(api, parent, {"name": "Bo"})
    child_meta = _wait_for(lambda: _child_meta_of(graph_exec_id))
    status, _ = api.request("POST", f"/api/graphs/{child['id']}/executions/{child_meta['id']}/stop", user=USER)
    assert status == 200
    # Step Functions reports the aborted child to the orchestrator (EventBridge in AWS).
    _finalize_like_eventbridge(api, child_meta["id"], "ABORTED")

    assert _wait(graph_exec_id)["status"] == "SUCCEEDED"
    result = _result(api, parent, graph_exec_id)
    assert result["status"] == "COMPLETED" and result["outputs"] == {}
    node = _agent_node_exec(result)
    assert node["status"] == "FAILED"
    assert node["output_data"]["error"] == [
        f"Sub-agent execution {child_meta['id']} ended TERMINATED: The execution was stopped."
    ]


def test_stopping_the_parent_stops_its_child(api):
    child = _create(api, _child_graph(timer_seconds=3))
    parent = _create(api, _parent_graph(child))
    graph_exec_id = _execute(api, parent, {"name": "Cy"})
    child_meta = _wait_for(lambda: _child_meta_of(graph_exec_id))
    status, _ = api.request("POST", f"/api/graphs/{parent['id']}/executions/{graph_exec_id}/stop", user=USER)
    assert status == 200
    _finalize_like_eventbridge(api, graph_exec_id, "ABORTED")
    assert executions_table().get(meta_key(child_meta["id"]), consistent=True)["status"] == "TERMINATED"
    ended = _wait(child_meta["id"])["status"]  # ABORTED (moto may report the interrupted task as FAILED)
    _finalize_like_eventbridge(api, child_meta["id"], ended)
    assert executions_table().get(meta_key(child_meta["id"]), consistent=True)["status"] == "TERMINATED"
    assert _result(api, parent, graph_exec_id)["status"] == "TERMINATED"


def test_a_graph_that_runs_itself_stops_at_the_depth_limit(api):
    _, placeholder = api.request("POST", "/api/graphs", user=USER, json_body={"graph": _child_graph()})
    schema = {"type": "object", "properties": {"out": {"title": "out"}}, "required": []}
    itself = {
        "id": placeholder["id"],
        "version": 2,
        "input_schema": {"type": "object", "properties": {}},
        "output_schema": schema,
    }
    recursive = {
        "name": "ouroboros",
        "nodes": [
            _agent_node(itself),
            {"id": "out", "block_id": OUTPUT, "input_default": {"name": "out"}},
        ],
        "links": [{"source_id": "agent", "source_name": "out", "sink_id": "out", "sink_name": "value"}],
    }
    status, updated = api.request("PUT", f"/api/graphs/{placeholder['id']}", user=USER, json_body=recursive)
    assert status == 200 and updated["version"] == 2, updated
    graph_exec_id = _execute(api, updated, {})
    assert _wait(graph_exec_id, timeout=60)["status"] == "SUCCEEDED"

    # Down the chain: MAX_DEPTH children ran; the last one's AgentExecutor refused to go deeper.
    levels, current = [], graph_exec_id
    while True:
        node = _agent_node_exec(_result(api, updated, current))
        levels.append(node)
        if node["status"] == "FAILED":
            break
        current = child_execution_id(USER, node["node_exec_id"])
    assert len(levels) == MAX_DEPTH + 1
    assert all(n["status"] == "COMPLETED" for n in levels[:-1])
    assert f"limited to {MAX_DEPTH} levels" in levels[-1]["output_data"]["error"][0]
    assert _result(api, updated, graph_exec_id)["status"] == "COMPLETED"


def test_a_retried_block_invocation_starts_no_second_child(api):
    child = _create(api, _child_graph(timer_seconds=2))
    parent = _create(api, _parent_graph(child))
    graph_exec_id = _execute(api, parent, {"name": "Di"})
    child_meta = _wait_for(lambda: _child_meta_of(graph_exec_id))
    event = {
        "graph_exec_id": graph_exec_id,
        "node_exec_id": child_meta["parent_node_exec_id"],
        "task_token": child_meta["task_token"],
    }
    retried = api.runner.invoke("BlockCoreFunction", event)  # as a Step Functions retry would
    assert not retried.errored and retried.payload["status"] == "RUNNING"
    assert _wait(graph_exec_id)["status"] == "SUCCEEDED"
    assert _result(api, parent, graph_exec_id)["outputs"] == {"result": ["Hello Di"]}
    status, runs = api.request("GET", f"/api/graphs/{child['id']}/executions", user=USER)
    assert status == 200 and [run["id"] for run in _items(runs)] == [child_meta["id"]]
    # A retry after the end finds the node finished; the spent token is ignored.
    late = api.runner.invoke("BlockCoreFunction", event)
    assert not late.errored and late.payload["status"] == "COMPLETED"


def _items(listing) -> list[dict]:
    return listing if isinstance(listing, list) else listing.get("executions", [])


def _child_meta_of(parent_exec_id: str) -> dict | None:
    """The child META once it holds the task token (the parent's node is then waiting)."""
    from stratus.db import executions_table
    from stratus.executions import state as step_state

    state = step_state.load(parent_exec_id).state
    for node_exec in state.node_execs.values():
        if node_exec.block_id == AGENT:
            meta = executions_table.get_meta(child_execution_id(USER, node_exec.node_exec_id))
            if meta and meta.get("task_token"):
                return meta
    return None


def _finalize_like_eventbridge(api, graph_exec_id: str, status: str) -> None:
    event = {
        "source": "aws.states",
        "detail-type": "Step Functions Execution Status Change",
        "detail": {"name": graph_exec_id, "status": status},
    }
    result = api.runner.invoke("OrchestratorFunction", event)
    assert not result.errored, result.payload


def _wait_for(predicate, timeout: float = 20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("condition not met in time")
