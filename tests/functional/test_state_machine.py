"""The real graph-execution ASL on moto's interpreter (in-process), Lambda tasks routed to the
handlers: the state machine, the orchestrator and the block Lambda together."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from localcloud.cloud import register_functions, route_lambda_to
from stratus.aws import client
from tests.conftest import Api, wait_for_state_machine

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
STATE_MACHINE_ARN = "arn:aws:states:us-east-1:123456789012:stateMachine:stratus-graph-execution"


@pytest.fixture()
def sfn_api(aws, _api: Api, stack, monkeypatch):
    """The shared account with the ASL interpreter on: the template's functions and state
    machines registered in it once, every Lambda invocation routed to the warm handlers."""
    from moto.awslambda.models import LambdaFunction
    from moto.core.config import default_user_config

    monkeypatch.setenv("GRAPH_EXECUTION_STATE_MACHINE_ARN", STATE_MACHINE_ARN)
    monkeypatch.setitem(default_user_config, "stepfunctions", {"execute_state_machine": True})
    monkeypatch.setattr(LambdaFunction, "_invoke_lambda", LambdaFunction._invoke_lambda)  # restored after
    aws.once("functions", lambda: register_functions(stack, _api.runner, client))
    route_lambda_to(_api.runner)
    _api.runner.invocations.clear()
    return _api


def _wait(graph_exec_id: str, timeout: float = 30) -> dict:
    return wait_for_state_machine(STATE_MACHINE_ARN, graph_exec_id, timeout)


def test_the_asl_runs_a_graph_to_completion(sfn_api):
    sfn_api.request("POST", "/api/auth/user", user="alice")
    graph = json.loads((EXAMPLES / "list_fanout.json").read_text())
    _, created = sfn_api.request("POST", "/api/graphs", user="alice", json_body={"graph": graph})
    status, execution = sfn_api.request(
        "POST", f"/api/graphs/{created['id']}/execute/1", user="alice", json_body={"inputs": {"items": ["x", "y"]}}
    )
    assert status == 200 and execution["status"] == "QUEUED"
    described = _wait(execution["id"])
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["input"]) == {"graph_exec_id": execution["id"]}  # ids only
    status, result = sfn_api.request("GET", f"/api/graphs/{created['id']}/executions/{execution['id']}", user="alice")
    assert result["status"] == "COMPLETED" and result["outputs"] == {"lines": ["Item 0: x", "Item 1: y"]}


def test_the_map_state_runs_network_blocks_in_the_block_lambda(sfn_api, echo_server):
    web, out = "6595ae1f-b924-42cb-9a41-551a0611c4b4", "363ae599-353e-4804-937e-b2ee3cef3da4"
    graph = {
        "name": "two requests",
        "nodes": [
            {"id": "w1", "block_id": web, "input_default": {"url": f"{echo_server}/one"}},
            {"id": "w2", "block_id": web, "input_default": {"url": f"{echo_server}/two"}},
            {"id": "out", "block_id": out, "input_default": {"name": "responses"}},
        ],
        "links": [
            {"source_id": "w1", "source_name": "response", "sink_id": "out", "sink_name": "value"},
            {"source_id": "w2", "source_name": "response", "sink_id": "out", "sink_name": "value"},
        ],
    }
    sfn_api.request("POST", "/api/auth/user", user="alice")
    _, created = sfn_api.request("POST", "/api/graphs", user="alice", json_body={"graph": graph})
    _, execution = sfn_api.request(
        "POST", f"/api/graphs/{created['id']}/execute/1", user="alice", json_body={"inputs": {}}
    )
    assert _wait(execution["id"])["status"] == "SUCCEEDED"
    _, result = sfn_api.request("GET", f"/api/graphs/{created['id']}/executions/{execution['id']}", user="alice")
    assert result["status"] == "COMPLETED"
    assert sorted(r["path"] for r in result["outputs"]["responses"]) == ["/one", "/two"]
    block_runs = [name for name, _, _ in sfn_api.runner.invocations if name == "BlockCoreFunction"]
    assert len(block_runs) == 2


def _run(sfn_api: Api, graph: dict, inputs: dict) -> tuple[dict, dict]:
    sfn_api.request("POST", "/api/auth/user", user="alice")
    status, created = sfn_api.request("POST", "/api/graphs", user="alice", json_body={"graph": graph})
    assert status == 200, created
    _, execution = sfn_api.request(
        "POST", f"/api/graphs/{created['id']}/execute/1", user="alice", json_body={"inputs": inputs}
    )
    described = _wait(execution["id"])
    _, result = sfn_api.request("GET", f"/api/graphs/{created['id']}/executions/{execution['id']}", user="alice")
    return described, result


def test_the_asl_runs_an_accumulator_loop(sfn_api):
    from tests.functional.test_loops import accumulator_graph

    words = [f"w{i}" for i in range(25)]
    described, result = _run(sfn_api, accumulator_graph(), {"items": words, "count": len(words)})
    assert described["status"] == "SUCCEEDED"
    assert result["status"] == "COMPLETED" and result["outputs"] == {"all": [words]}


def test_the_asl_fails_a_loop_past_its_node_run_budget(sfn_api, monkeypatch):
    from tests.functional.test_loops import ping_pong_graph

    monkeypatch.setenv("MAX_NODE_RUNS_PER_EXECUTION", "30")
    described, result = _run(sfn_api, ping_pong_graph(), {})
    assert described["status"] == "SUCCEEDED"  # the state machine finalized the failure itself
    assert result["status"] == "FAILED"
    assert result["stats"]["error"].startswith("The execution exceeded its budget of 30 node runs")
    assert result["stats"]["node_exec_count"] == 30
