"""Local cloud machinery on its own: the HTTP gateway always answers, snapshots restore what
they can and report the rest."""

from __future__ import annotations

import json
import logging
import socket

import httpx
import pytest

from localcloud import snapshot
from localcloud.http_gateway import HttpGateway


class _BrokenRunner:
    def invoke(self, function, event):
        raise RuntimeError("the gateway's own fault")


class _OddRunner:
    def invoke(self, function, event):
        from localcloud.lambda_runner import InvocationResult

        return InvocationResult({"statusCode": "not a number", "body": 7}, False, 1.0, "r")


@pytest.fixture()
def gateway_of():
    started = []

    def make(runner):
        gateway = HttpGateway(runner, [("ANY", "/api/{proxy+}", "UsersFunction")], 0)
        gateway.start()
        started.append(gateway)
        return f"http://127.0.0.1:{gateway.port}"

    yield make
    for gateway in started:
        gateway.stop()


@pytest.mark.parametrize("runner", [_BrokenRunner(), _OddRunner()], ids=["raises", "malformed response"])
def test_a_fault_in_the_gateway_is_a_500_json_answer_not_a_closed_socket(gateway_of, runner):
    url = gateway_of(runner)
    response = httpx.post(f"{url}/api/credits", content=b"{}", headers={"content-type": "application/json"})
    assert response.status_code == 500 and response.json() == {"message": "Internal Server Error"}


def test_a_bad_content_length_still_gets_an_answer(gateway_of):
    url = gateway_of(_BrokenRunner())
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        connection.sendall(b"POST /api/credits HTTP/1.1\r\nHost: x\r\nContent-Length: many\r\n\r\n")
        assert connection.recv(65536).split(b"\r\n")[0].split()[1] == b"500"


def test_an_item_that_cannot_be_restored_is_reported_and_the_rest_loads(aws, tmp_path, caplog):
    from stratus.aws import client

    dynamodb, s3 = client("dynamodb"), client("s3")
    good = [{"PK": {"S": f"GEXEC#ok-{n}"}, "SK": {"S": "META"}, "status": {"S": "COMPLETED"}} for n in range(30)]
    bad = {"PK": {"S": "GEXEC#broken"}, "status": {"S": "COMPLETED"}}  # no sort key: DynamoDB refuses it
    (tmp_path / snapshot.SNAPSHOT_FILE).write_text(
        json.dumps({"tables": {"ExecutionsTable": good[:10] + [bad] + good[10:]}, "buckets": {}})
    )
    with caplog.at_level(logging.ERROR, logger="localcloud.snapshot"):
        counts = snapshot.load(tmp_path, dynamodb, s3)
    assert counts["ExecutionsTable"] == 30
    restored = dynamodb.scan(TableName="ExecutionsTable")["Items"]
    assert sorted(i["PK"]["S"] for i in restored) == sorted(i["PK"]["S"] for i in good)
    reports = [r.getMessage() for r in caplog.records]
    assert any("ExecutionsTable" in m and "GEXEC#broken" in m for m in reports), reports


def test_an_unreadable_snapshot_is_set_aside_and_the_cloud_starts_empty(aws, tmp_path):
    from stratus.aws import client

    (tmp_path / snapshot.SNAPSHOT_FILE).write_text('{"tables": {"ExecutionsTable": [')  # cut short
    assert snapshot.load(tmp_path, client("dynamodb"), client("s3")) == {}
    assert (tmp_path / "snapshot.unreadable").exists() and not (tmp_path / snapshot.SNAPSHOT_FILE).exists()


def test_save_replaces_the_snapshot_whole_and_round_trips_empty_map_keys(aws, stack, tmp_path):
    from stratus.aws import client

    dynamodb, s3 = client("dynamodb"), client("s3")
    item = {"PK": {"S": "GEXEC#odd"}, "SK": {"S": "META"}, "inputs": {"M": {"": {"S": "x"}}}}
    dynamodb.put_item(TableName="ExecutionsTable", Item=item)
    (tmp_path / snapshot.SNAPSHOT_FILE).write_text("an older snapshot")
    target = snapshot.save(tmp_path, dynamodb, s3, ["ExecutionsTable"], [])
    assert not target.with_suffix(".tmp").exists()
    assert json.loads(target.read_text())["tables"]["ExecutionsTable"] == [item]


def test_on_start_an_execution_that_cannot_be_resumed_is_finalized_failed_with_the_reason(aws, stack, monkeypatch):
    from localcloud.cloud import LocalCloud
    from stratus.auth.jwt_tokens import Claims
    from stratus.aws import client
    from stratus.db import executions_table
    from stratus.executions import launcher
    from stratus.graphs import service as graphs
    from stratus.graphs.models import CreateGraph, Graph
    from stratus.users.service import get_or_create_user
    from tests.conftest import Api
    from tests.functional.test_subagents import _child_graph

    monkeypatch.setattr(launcher, "_start_state_machine", lambda graph_exec_id: None)  # its machine is "lost"
    get_or_create_user(Claims("resumer", "resumer@example.com", None, None))
    graph_id = graphs.create_graph("resumer", CreateGraph(graph=Graph.model_validate(_child_graph()))).id
    queued = launcher.start_execution("resumer", graph_id, 1, {"topic": "x"})
    finished = launcher.start_execution("resumer", graph_id, 1, {"topic": "y"})
    executions_table.set_meta(finished.id, {"status": "COMPLETED"})
    # No state machine of that name exists, so StartExecution fails.
    monkeypatch.setenv("GRAPH_EXECUTION_STATE_MACHINE_ARN", "arn:aws:states:us-east-1:123456789012:stateMachine:gone")
    cloud = LocalCloud(state=None, gateways=False)
    cloud.runner = Api(stack).runner
    monkeypatch.setattr(cloud, "client", client)
    assert cloud._resume_unfinished_executions() == {queued.id: "failed"}
    meta = executions_table.get_meta(queued.id)
    assert meta["status"] == "FAILED"
    assert "could not resume" in meta["stats"]["error"] and "gone" in meta["stats"]["error"]
    assert executions_table.get_meta(finished.id)["status"] == "COMPLETED"
