"""The orchestrator's steps on moto, driven the way the state machine drives them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stratus.auth.jwt_tokens import Claims
from stratus.blocks.registry import get_block
from stratus.blocks.sdk import BlockCost
from stratus.db import executions_table as repository
from stratus.db.executions_table import execution_pk, executions_table
from stratus.executions import block_runner, launcher, orchestrator, values
from stratus.graphs import service as graphs
from stratus.graphs.models import CreateGraph, Graph
from stratus.users import credits
from stratus.users.service import get_or_create_user

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
CALC = "b1ab9b19-67a6-406d-abf5-2dba76d00c79"
OUT = "363ae599-353e-4804-937e-b2ee3cef3da4"
STORE = "1ff065e9-88e8-4358-9d82-8dc91f622ba9"
WEB = "6595ae1f-b924-42cb-9a41-551a0611c4b4"


def plenty_of_time() -> int:
    return 60_000


@pytest.fixture()
def user(aws, monkeypatch):
    monkeypatch.setattr(launcher, "_start_state_machine", lambda graph_exec_id: None)  # driven by hand below
    get_or_create_user(Claims("alice", "alice@example.com", None, None))
    return "alice"


def upload(user_id: str, graph: dict) -> str:
    return graphs.create_graph(user_id, CreateGraph(graph=Graph.model_validate(graph))).id


def drive(graph_exec_id: str) -> list[dict]:
    """What the state machine does: start, then Map + advance until done, then finalize."""
    step = orchestrator.start_step(graph_exec_id, plenty_of_time)
    steps = [step]
    while not step["done"]:
        results = [block_runner.run(item["graph_exec_id"], item["node_exec_id"]) for item in step["batch"]]
        step = orchestrator.advance_step(graph_exec_id, results, plenty_of_time, step["history"])
        steps.append(step)
    orchestrator.finalize_step(graph_exec_id)
    return steps


def items(graph_exec_id: str) -> list[dict]:
    found, _ = executions_table().query("PK = :pk", {":pk": execution_pk(graph_exec_id)}, consistent=True)
    return found


def test_calculator_runs_inline_in_one_step_and_completes(user):
    graph_id = upload(user, json.loads((EXAMPLES / "calculator.json").read_text()))
    execution = launcher.start_execution(user, graph_id, 1, {"a": 4, "b": 5})
    steps = drive(execution.id)
    assert len(steps) == 1 and steps[0]["batch"] == []  # every core block ran inline
    meta = repository.get_meta(execution.id)
    assert meta["status"] == "COMPLETED" and meta["outputs"] == {"result": [90.0]}
    assert meta["stats"]["node_exec_count"] == 5 and meta["stats"]["node_error_count"] == 0


def test_rerunning_steps_creates_nothing_twice(user, monkeypatch):
    monkeypatch.setattr(type(get_block(CALC)), "costs", [BlockCost(cost_amount=5)])
    graph_id = upload(user, json.loads((EXAMPLES / "calculator.json").read_text()))
    execution = launcher.start_execution(user, graph_id, 1, {"a": 1, "b": 1})
    drive(execution.id)
    before = items(execution.id)
    balance = credits.get_balance(user)
    assert balance == 1000 - 2 * 5
    orchestrator.start_step(execution.id, plenty_of_time)
    orchestrator.advance_step(execution.id, [], plenty_of_time)
    orchestrator.finalize_step(execution.id)
    assert len(items(execution.id)) == len(before)
    assert credits.get_balance(user) == balance
    assert repository.get_meta(execution.id)["stats"]["cost"] == 10


def test_running_out_of_credits_fails_the_graph(user, monkeypatch):
    monkeypatch.setattr(type(get_block(CALC)), "costs", [BlockCost(cost_amount=600)])
    graph_id = upload(user, json.loads((EXAMPLES / "calculator.json").read_text()))
    execution = launcher.start_execution(user, graph_id, 1, {"a": 1, "b": 1})
    drive(execution.id)
    meta = repository.get_meta(execution.id)
    assert meta["status"] == "FAILED" and "Insufficient balance" in meta["stats"]["error"]
    assert credits.get_balance(user) == 400
    statuses = {i["status"] for i in items(execution.id) if i["SK"].startswith("NODE#")}
    assert "TERMINATED" in statuses and "QUEUED" not in statuses


def test_start_needs_a_positive_balance(user):
    graph_id = upload(user, json.loads((EXAMPLES / "calculator.json").read_text()))
    credits.charge(user, 1000, "spend-it-all")
    from stratus.errors import InsufficientBalance

    with pytest.raises(InsufficientBalance):
        launcher.start_execution(user, graph_id, 1, {"a": 1, "b": 1})


def test_missing_graph_input_is_a_validation_error(user):
    graph_id = upload(user, json.loads((EXAMPLES / "calculator.json").read_text()))
    from stratus.graphs.validation import GraphValidationError

    with pytest.raises(GraphValidationError) as raised:
        launcher.start_execution(user, graph_id, 1, {"a": 1})
    assert any("'b'" in msg for pins in raised.value.node_errors.values() for msg in pins.values())


def test_idempotency_key_returns_the_same_execution(user):
    graph_id = upload(user, json.loads((EXAMPLES / "calculator.json").read_text()))
    first = launcher.start_execution(user, graph_id, 1, {"a": 1, "b": 1}, idempotency_key="k1")
    again = launcher.start_execution(user, graph_id, 1, {"a": 1, "b": 1}, idempotency_key="k1")
    other = launcher.start_execution(user, graph_id, 1, {"a": 1, "b": 1}, idempotency_key="k2")
    assert first.id == again.id != other.id


def test_network_blocks_go_to_the_block_lambda_and_their_outputs_are_routed(user, echo_server):
    graph = {
        "name": "web",
        "nodes": [
            {
                "id": "web",
                "block_id": WEB,
                "input_default": {"url": f"{echo_server}/echo", "method": "POST", "body": {"n": 1}},
            },
            {"id": "out", "block_id": OUT, "input_default": {"name": "response"}},
        ],
        "links": [{"source_id": "web", "source_name": "response", "sink_id": "out", "sink_name": "value"}],
    }
    graph_id = upload(user, graph)
    execution = launcher.start_execution(user, graph_id, 1, {})
    steps = drive(execution.id)
    assert len(steps[0]["batch"]) == 1
    assert steps[0]["batch"][0]["function_arn"].endswith(":function:BlockCoreFunction")
    # ids only, and whether the Map waits on a task token (a sub-agent) instead of the Lambda
    assert set(steps[0]["batch"][0]) == {"graph_exec_id", "node_exec_id", "function_arn", "callback"}
    assert steps[0]["batch"][0]["callback"] is False
    meta = repository.get_meta(execution.id)
    assert meta["status"] == "COMPLETED" and meta["outputs"] == {"response": [{"path": "/echo", "echo": {"n": 1}}]}


def test_a_failed_block_lambda_fails_its_node_and_the_graph_goes_on(user, echo_server):
    graph = {
        "name": "web",
        "nodes": [
            {"id": "web", "block_id": WEB, "input_default": {"url": echo_server}},
            {"id": "calc", "block_id": CALC, "input_default": {"operation": "Add", "a": 1, "b": 2}},
            {"id": "out", "block_id": OUT, "input_default": {"name": "sum"}},
        ],
        "links": [{"source_id": "calc", "source_name": "result", "sink_id": "out", "sink_name": "value"}],
    }
    execution = launcher.start_execution(user, upload(user, graph), 1, {})
    step = orchestrator.start_step(execution.id, plenty_of_time)
    failed = [{"node_exec_id": i["node_exec_id"], "status": "FAILED", "error": "Task timed out"} for i in step["batch"]]
    orchestrator.advance_step(execution.id, failed, plenty_of_time)
    orchestrator.finalize_step(execution.id)
    meta = repository.get_meta(execution.id)
    assert meta["status"] == "COMPLETED" and meta["outputs"] == {"sum": [3.0]}
    assert meta["stats"]["node_error_count"] == 1


def test_large_values_go_to_s3_by_reference(user):
    big = "x" * 100_000
    graph = {
        "name": "big",
        "nodes": [
            {"id": "s", "block_id": STORE, "input_default": {"input": big}},
            {"id": "out", "block_id": OUT, "input_default": {"name": "big"}},
        ],
        "links": [{"source_id": "s", "source_name": "output", "sink_id": "out", "sink_name": "value"}],
    }
    execution = launcher.start_execution(user, upload(user, graph), 1, {})
    drive(execution.id)
    node_items = [i for i in items(execution.id) if i["SK"].startswith("NODE#")]
    assert any(
        v == [{"$s3": v[0]["$s3"]}] for i in node_items for v in i["output_data"].values() if isinstance(v[0], dict)
    )
    assert all(len(json.dumps(i)) < 20_000 for i in node_items)
    meta = repository.get_meta(execution.id)
    assert "$s3" in meta["outputs"]["big"][0]  # the META item stays small too
    assert values.resolve_outputs(meta["outputs"]) == {"big": [big]}


def test_stop_terminates_queued_nodes(user):
    graph = {
        "name": "chain",
        "nodes": [
            {"id": f"c{i}", "block_id": CALC, "input_default": {"operation": "Add", "a": 1, "b": 1}} for i in range(3)
        ],
        "links": [],
    }
    execution = launcher.start_execution(user, upload(user, graph), 1, {})
    first = orchestrator.start_step(execution.id, lambda: 0)  # out of time before the first node
    assert first["done"] is False and len([i for i in items(execution.id) if i["status"] == "QUEUED"]) == 3
    repository.set_meta(execution.id, {"status": "TERMINATED"})  # what the stop route does first
    monkey_time = orchestrator.STOP_CHECK_SECONDS
    orchestrator.STOP_CHECK_SECONDS = -1  # check at once
    try:
        step = orchestrator.advance_step(execution.id, [], plenty_of_time)
    finally:
        orchestrator.STOP_CHECK_SECONDS = monkey_time
    assert step["done"] is True
    assert {i["status"] for i in items(execution.id) if i["SK"].startswith("NODE#")} == {"TERMINATED"}


def _web_graph(echo_server: str) -> dict:
    return {
        "name": "web",
        "nodes": [
            {
                "id": "web",
                "block_id": WEB,
                "input_default": {"url": f"{echo_server}/again", "method": "POST", "body": {"n": 2}},
            },
            {"id": "out", "block_id": OUT, "input_default": {"name": "response"}},
        ],
        "links": [{"source_id": "web", "source_name": "response", "sink_id": "out", "sink_name": "value"}],
    }


def test_start_again_dispatches_nodes_whose_map_was_lost(user, echo_server):
    """A restart (or a continue-as-new with a batch) leaves nodes RUNNING that no Map runs:
    a new state machine's Start dispatches them again, and the execution completes."""
    execution = launcher.start_execution(user, upload(user, _web_graph(echo_server)), 1, {})
    first = orchestrator.start_step(execution.id, plenty_of_time)
    assert len(first["batch"]) == 1  # dispatched; then the state machine is gone
    steps = drive(execution.id)  # a new state machine execution
    assert [i["node_exec_id"] for i in steps[0]["batch"]] == [first["batch"][0]["node_exec_id"]]
    meta = repository.get_meta(execution.id)
    assert meta["status"] == "COMPLETED" and meta["outputs"] == {"response": [{"path": "/again", "echo": {"n": 2}}]}


def test_start_again_routes_a_result_stored_after_the_last_advance(user, echo_server):
    execution = launcher.start_execution(user, upload(user, _web_graph(echo_server)), 1, {})
    first = orchestrator.start_step(execution.id, plenty_of_time)
    block_runner.run(execution.id, first["batch"][0]["node_exec_id"])  # the block finished; Advance never ran
    steps = drive(execution.id)
    assert steps[0]["batch"] == [] and steps[0]["done"] is True
    assert repository.get_meta(execution.id)["outputs"] == {"response": [{"path": "/again", "echo": {"n": 2}}]}


@pytest.mark.parametrize(
    "sfn_status, error",
    [
        ("FAILED", "The execution failed."),
        ("TIMED_OUT", "The execution timed out."),
        ("ABORTED", "The execution was stopped."),
    ],
)
def test_a_running_execution_whose_state_machine_ended_is_finalized_by_the_status_event(
    user, echo_server, stack, sfn_status, error
):
    from tests.conftest import Api

    execution = launcher.start_execution(user, upload(user, _web_graph(echo_server)), 1, {})
    orchestrator.start_step(execution.id, plenty_of_time)  # RUNNING, a node dispatched, then the machine is gone
    assert repository.get_meta(execution.id)["status"] == "RUNNING"
    event = {
        "version": "0",
        "source": "aws.states",
        "detail-type": "Step Functions Execution Status Change",
        "detail": {"name": f"{execution.id}-1234", "status": sfn_status},
    }  # a continued execution's name
    result = Api(stack).runner.invoke("OrchestratorFunction", event)
    assert not result.errored, result.payload
    meta = repository.get_meta(execution.id)
    assert meta["status"] == "FAILED" and meta["stats"]["error"] == error
    assert {i["status"] for i in items(execution.id) if i["SK"].startswith("NODE#")} <= {
        "COMPLETED",
        "TERMINATED",
        "FAILED",
    }
