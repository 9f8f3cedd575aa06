"""Executions read/stop/share/delete API through GraphsFunction on moto.

Executions are built by writing ExecutionsTable items directly (the engine's format), so these
tests exercise the routes alone: ownership (404 for others), pagination, stop, delete, sharing,
the public view and the external results route.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from stratus.db.executions_table import (
    execution_pk,
    executions_table,
    meta_key,
    node_key,
    share_key,
    static_key,
    user_index_keys,
)

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
OUT = "363ae599-353e-4804-937e-b2ee3cef3da4"
CALC = "b1ab9b19-67a6-406d-abf5-2dba76d00c79"
INF = float("inf")


def _time(i: int) -> str:
    return f"2026-01-01T00:{i // 60:02d}:{i % 60:02d}.000000+00:00"


def put_execution(
    exec_id: str,
    user: str = "alice",
    graph_id: str = "graph-1",
    status: str = "COMPLETED",
    at: int = 0,
    version: int = 1,
    inputs: dict | None = None,
    outputs: dict | None = None,
    nodes: list[dict] | None = None,
    **extra: Any,
) -> str:
    created_at = _time(at)
    table = executions_table()
    table.put(
        {
            **meta_key(exec_id),
            **user_index_keys(user, created_at, graph_id),
            "kind": "graph",
            "id": exec_id,
            "user_id": user,
            "graph_id": graph_id,
            "graph_version": version,
            "status": status,
            "inputs": inputs or {},
            "outputs": outputs or {},
            "stats": {"cost": 3, "duration": 1.5, "node_exec_count": len(nodes or []), "node_error_count": 0},
            "created_at": created_at,
            "started_at": created_at,
            "ended_at": created_at if status in ("COMPLETED", "FAILED", "TERMINATED") else None,
            **extra,
        }
    )
    for node in nodes or []:
        table.put(
            {
                **node_key(exec_id, node["node_exec_id"]),
                "kind": "node",
                "graph_exec_id": exec_id,
                "user_id": user,
                "block_id": CALC,
                "input_data": {},
                "output_data": {},
                "add_time": created_at,
                **node,
            }
        )
    return exec_id


def node(node_exec_id: str, seq: int, status: str = "COMPLETED", node_id: str | None = None, **fields: Any) -> dict:
    return {
        "node_exec_id": node_exec_id,
        "seq": seq,
        "status": status,
        "node_id": node_id or f"n-{node_exec_id}",
        **fields,
    }


def raw_request(api, method: str, path: str, user: str, query: str = "") -> tuple[int, Any, dict]:
    """Like `api.request`, but also returns the response headers."""
    from localcloud.apigw import http_event
    from tests.conftest import token

    route_key, function, params = api.router.match(method, path)
    headers = {"authorization": f"Bearer {token(user)}"}
    result = api.runner.invoke(function, http_event(method, path, route_key, headers, query, b"", params))
    response = result.payload
    return (
        response["statusCode"],
        json.loads(response["body"]),
        {k.lower(): v for k, v in (response.get("headers") or {}).items()},
    )


def api_key(api, user: str, permissions: list[str]) -> str:
    api.request("POST", "/api/auth/user", user=user)
    status, created = api.request(
        "POST", "/api/api-keys", user=user, json_body={"name": "k", "permissions": permissions}
    )
    assert status == 200, created
    return created["plain_text_key"]


# --- read -----------------------------------------------------------------------------------
def test_get_execution_returns_meta_and_nodes_in_seq_order_with_inf(api):
    put_execution(
        "e1",
        outputs={"result": [INF, 2]},
        inputs={"a": 1},
        nodes=[
            node("n-c", 2, output_data={"result": [INF]}),
            node("n-a", 0, input_data={"value": -INF}),
            node("n-b", 1, status="FAILED", output_data={"error": ["boom"]}),
        ],
    )
    executions_table().put({**static_key("e1", "n-a", "value"), "node_id": "n-a", "pin": "value", "value": 1})

    status, execution = api.request("GET", "/api/graphs/graph-1/executions/e1", user="alice")
    assert status == 200, execution
    assert execution["id"] == "e1" and execution["user_id"] == "alice" and execution["status"] == "COMPLETED"
    assert execution["graph_id"] == "graph-1" and execution["graph_version"] == 1
    assert execution["inputs"] == {"a": 1}
    assert math.isinf(execution["outputs"]["result"][0]) and execution["outputs"]["result"][1] == 2
    assert execution["stats"]["cost"] == 3 and execution["is_shared"] is False and execution["share_token"] is None
    nodes = execution["node_executions"]
    assert [n["node_exec_id"] for n in nodes] == ["n-a", "n-b", "n-c"]  # by seq, static item left out
    assert nodes[0]["input_data"]["value"] == -INF and math.isinf(nodes[2]["output_data"]["result"][0])
    assert nodes[1]["status"] == "FAILED" and nodes[1]["output_data"] == {"error": ["boom"]}
    assert all(n["graph_id"] == "graph-1" and n["graph_version"] == 1 and n["user_id"] == "alice" for n in nodes)


def test_get_execution_is_404_for_another_graph_an_unknown_id_or_no_token(api):
    put_execution("e1")
    assert api.request("GET", "/api/graphs/other-graph/executions/e1", user="alice")[0] == 404
    status, body = api.request("GET", "/api/graphs/graph-1/executions/missing", user="alice")
    assert status == 404 and body == {"detail": "Graph execution #missing not found."}
    assert api.request("GET", "/api/graphs/graph-1/executions/e1")[0] == 401
    assert api.request("GET", "/api/executions")[0] == 401


def test_large_values_stored_in_the_bucket_are_resolved(api):
    from stratus.aws import client
    from stratus.executions import values

    s3 = client("s3")
    if values._bucket() not in {b["Name"] for b in s3.list_buckets().get("Buckets", [])}:
        s3.create_bucket(Bucket=values._bucket())
    s3.put_object(Bucket=values._bucket(), Key="e1/big.json", Body=json.dumps({"text": "x" * 10}).encode())
    put_execution(
        "e1",
        outputs={"doc": [{"$s3": "e1/big.json"}]},
        nodes=[node("n1", 0, output_data={"doc": [{"$s3": "e1/big.json"}]})],
    )
    status, execution = api.request("GET", "/api/graphs/graph-1/executions/e1", user="alice")
    assert status == 200
    assert execution["outputs"] == {"doc": [{"text": "x" * 10}]}
    assert execution["node_executions"][0]["output_data"] == {"doc": [{"text": "x" * 10}]}


# --- lists ----------------------------------------------------------------------------------
@pytest.fixture()
def thirty(aws) -> list[str]:
    """Alice: 30 runs of graph-1 and 5 of graph-2; Bob: 3 runs of graph-1. Newest first."""
    ids = [put_execution(f"a1-{i:02d}", at=2 * i, inputs={"n": i}) for i in range(30)]
    for i in range(5):
        put_execution(f"a2-{i}", graph_id="graph-2", at=2 * i + 1)
    for i in range(3):
        put_execution(f"b1-{i}", user="bob", at=100 + i)
    return list(reversed(ids))


def test_graph_executions_by_cursor_newest_first(api, thirty):
    seen, cursor, pages = [], None, 0
    while True:
        query = "page_size=12" + (f"&cursor={cursor}" if cursor else "")
        status, page = api.request("GET", "/api/graphs/graph-1/executions", user="alice", query=query)
        assert status == 200, page
        pages += 1
        seen += [e["id"] for e in page["executions"]]
        assert page["pagination"]["page_size"] == 12
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert pages == 3 and seen == thirty  # 12 + 12 + 6, no duplicates, no other user's or graph's
    listed = api.request("GET", "/api/graphs/graph-1/executions", user="alice", query="page_size=2")[1]
    first = listed["executions"][0]
    assert first["inputs"] == {"n": 29} and first["is_shared"] is False and "outputs" not in first
    assert first["created_at"] > listed["executions"][1]["created_at"]


def test_graph_executions_by_page_number(api, thirty):
    status, page2 = api.request("GET", "/api/graphs/graph-1/executions", user="alice", query="page=2&page_size=12")
    assert status == 200
    assert [e["id"] for e in page2["executions"]] == thirty[12:24]
    assert page2["pagination"] == {"total_items": None, "total_pages": None, "current_page": 2, "page_size": 12}
    assert page2["next_cursor"]
    # The page's cursor continues exactly where page 2 ends.
    page3_by_cursor = api.request(
        "GET",
        "/api/graphs/graph-1/executions",
        user="alice",
        query=f"page=3&page_size=12&cursor={page2['next_cursor']}",
    )[1]
    status, page3 = api.request("GET", "/api/graphs/graph-1/executions", user="alice", query="page=3&page_size=12")
    assert [e["id"] for e in page3["executions"]] == thirty[24:] == [e["id"] for e in page3_by_cursor["executions"]]
    assert page3["pagination"] == {"total_items": 30, "total_pages": 3, "current_page": 3, "page_size": 12}
    assert page3["next_cursor"] is None
    beyond = api.request("GET", "/api/graphs/graph-1/executions", user="alice", query="page=9&page_size=12")[1]
    assert beyond["executions"] == [] and beyond["pagination"]["total_items"] == 30
    everything = api.request("GET", "/api/graphs/graph-1/executions", user="alice", query="page_size=100")[1]
    assert [e["id"] for e in everything["executions"]] == thirty
    assert everything["pagination"]["total_items"] == 30 and everything["pagination"]["total_pages"] == 1
    default = api.request("GET", "/api/graphs/graph-1/executions", user="alice")[1]
    assert len(default["executions"]) == 25 and default["pagination"]["current_page"] == 1
    bob = api.request("GET", "/api/graphs/graph-1/executions", user="bob")[1]
    assert [e["id"] for e in bob["executions"]] == ["b1-2", "b1-1", "b1-0"]


def test_list_parameters_are_validated(api, thirty):
    for query in ("page_size=101", "page_size=0", "page=0", "cursor=%%%not-base64", "cursor=WzFd"):
        status, body = api.request("GET", "/api/graphs/graph-1/executions", user="alice", query=query)
        assert status == 422, (query, body)
    # A cursor from Bob's listing cannot start Alice's query anywhere else.
    bob_cursor = api.request("GET", "/api/graphs/graph-1/executions", user="bob", query="page_size=1")[1]
    assert (
        api.request("GET", "/api/graphs/graph-1/executions", user="alice", query=f"cursor={bob_cursor['next_cursor']}")[
            0
        ]
        == 422
    )
    assert api.request("GET", "/api/executions", user="alice", query=f"cursor={bob_cursor['next_cursor']}")[0] == 422
    assert api.request("GET", "/api/graphs/graph-1/executions", user="alice", query="page=1000&page_size=100")[0] == 422


def test_all_executions_is_autogpts_plain_list_with_a_cursor_header(api, thirty):
    status, listed = api.request("GET", "/api/executions", user="alice")
    assert status == 200 and isinstance(listed, list) and len(listed) == 35
    created = [e["created_at"] for e in listed]
    assert created == sorted(created, reverse=True)
    assert {e["graph_id"] for e in listed} == {"graph-1", "graph-2"} and {e["user_id"] for e in listed} == {"alice"}
    status, first, headers = raw_request(api, "GET", "/api/executions", "alice", query="page_size=20")
    assert status == 200 and len(first) == 20 and headers["x-next-cursor"]
    status, rest, headers = raw_request(
        api, "GET", "/api/executions", "alice", query=f"page_size=20&cursor={headers['x-next-cursor']}"
    )
    assert [e["id"] for e in first + rest] == [e["id"] for e in listed] and "x-next-cursor" not in headers
    assert [e["id"] for e in api.request("GET", "/api/executions", user="bob")[1]] == ["b1-2", "b1-1", "b1-0"]
    assert api.request("GET", "/api/executions", user="carol") == (200, [])


# --- stop -----------------------------------------------------------------------------------
def _running_execution() -> str:
    return put_execution(
        "run-1",
        status="RUNNING",
        nodes=[
            node("done", 0),
            node("busy", 1, status="RUNNING"),
            node("queued", 2, status="QUEUED"),
            node("waiting", 3, status="INCOMPLETE"),
        ],
    )


def test_stop_terminates_the_execution_and_its_pending_nodes(api):
    _running_execution()
    status, stopped = api.request("POST", "/api/graphs/graph-1/executions/run-1/stop", user="alice")
    assert status == 200, stopped
    assert stopped["status"] == "TERMINATED" and stopped["ended_at"] and stopped["id"] == "run-1"
    meta = executions_table().get(meta_key("run-1"), consistent=True)
    assert meta["status"] == "TERMINATED" and "stop_requested" not in meta  # the status is the stop
    execution = api.request("GET", "/api/graphs/graph-1/executions/run-1", user="alice")[1]
    statuses = {n["node_exec_id"]: n["status"] for n in execution["node_executions"]}
    # Queued, waiting and running ones are all cancelled (a running block cannot store a result).
    assert statuses == {"done": "COMPLETED", "busy": "TERMINATED", "queued": "TERMINATED", "waiting": "TERMINATED"}
    terminated = next(n for n in execution["node_executions"] if n["node_exec_id"] == "queued")
    assert terminated["end_time"] == stopped["ended_at"]

    status, body = api.request("POST", "/api/graphs/graph-1/executions/run-1/stop", user="alice")
    assert status == 409 and "TERMINATED" in body["detail"]
    assert executions_table().get(meta_key("run-1"), consistent=True)["ended_at"] == stopped["ended_at"]


def test_stopping_a_finished_execution_is_409_and_changes_nothing(api):
    put_execution("done-1", status="COMPLETED", nodes=[node("x", 0, status="QUEUED")])
    before = executions_table().get(meta_key("done-1"), consistent=True)
    status, body = api.request("POST", "/api/graphs/graph-1/executions/done-1/stop", user="alice")
    assert status == 409 and "COMPLETED" in body["detail"]
    assert executions_table().get(meta_key("done-1"), consistent=True) == before
    assert executions_table().get(node_key("done-1", "x"), consistent=True)["status"] == "QUEUED"


def test_stop_stops_the_step_functions_execution(api, monkeypatch):
    from stratus.aws import client

    sfn = client("stepfunctions")
    machine = sfn.create_state_machine(
        name="GraphExecution",
        roleArn="arn:aws:iam::123456789012:role/sfn",
        definition=json.dumps({"StartAt": "Wait", "States": {"Wait": {"Type": "Wait", "Seconds": 3600, "End": True}}}),
    )["stateMachineArn"]
    monkeypatch.setenv("GRAPH_EXECUTION_STATE_MACHINE_ARN", machine)
    _running_execution()
    started = sfn.start_execution(stateMachineArn=machine, name="run-1", input="{}")["executionArn"]
    assert api.request("POST", "/api/graphs/graph-1/executions/run-1/stop", user="alice")[0] == 200
    assert sfn.describe_execution(executionArn=started)["status"] == "ABORTED"
    # Queued but never started in Step Functions: ExecutionDoesNotExist is fine.
    put_execution("queued-1", status="QUEUED")
    status, stopped = api.request("POST", "/api/graphs/graph-1/executions/queued-1/stop", user="alice")
    assert status == 200 and stopped["status"] == "TERMINATED"


# --- delete ---------------------------------------------------------------------------------
def test_delete_refuses_unfinished_executions(api):
    _running_execution()
    status, body = api.request("DELETE", "/api/executions/run-1", user="alice")
    assert status == 409 and "RUNNING" in body["detail"]
    assert api.request("GET", "/api/graphs/graph-1/executions/run-1", user="alice")[0] == 200


def test_delete_removes_meta_nodes_static_and_share(api):
    put_execution("e1", nodes=[node(f"n{i}", i) for i in range(120)])  # more than one transaction's worth
    executions_table().put({**static_key("e1", "n0", "value"), "node_id": "n0", "pin": "value", "value": 1})
    put_execution("keep", at=5)
    token = api.request("POST", "/api/graphs/graph-1/executions/e1/share", user="alice")[1]["share_token"]

    assert api.request("DELETE", "/api/executions/e1", user="alice") == (204, None)
    assert executions_table().query("PK = :pk", {":pk": execution_pk("e1")}, consistent=True)[0] == []
    assert executions_table().get(share_key(token), consistent=True) is None
    assert api.request("GET", "/api/graphs/graph-1/executions/e1", user="alice")[0] == 404
    assert api.request("GET", f"/api/public/shared/{token}")[0] == 404
    assert [e["id"] for e in api.request("GET", "/api/executions", user="alice")[1]] == ["keep"]
    assert api.request("DELETE", "/api/executions/e1", user="alice")[0] == 404


# --- sharing --------------------------------------------------------------------------------
def test_share_public_view_and_unshare(api):
    graph = json.loads((EXAMPLES / "calculator.json").read_text())
    status, created = api.request("POST", "/api/graphs", user="alice", json_body={"graph": graph})
    assert status == 200
    graph_id = created["id"]
    put_execution(
        "e1",
        graph_id=graph_id,
        inputs={"api_key": "sk-very-secret", "a": 1},
        outputs={"result": [INF]},
        nodes=[node("out", 0, node_id="o", block_id=OUT, input_data={"name": "result", "value": INF})],
    )

    status, share = api.request("POST", f"/api/graphs/{graph_id}/executions/e1/share", user="alice")
    assert status == 200, share
    token = share["share_token"]
    assert len(token) == 32 and share["share_url"] == f"/api/public/shared/{token}"  # no Host header here
    again = api.request(
        "POST",
        f"/api/graphs/{graph_id}/executions/e1/share",
        user="alice",
        headers={"host": "api.example.com", "x-forwarded-proto": "https"},
    )[1]
    assert again == {"share_token": token, "share_url": f"https://api.example.com/api/public/shared/{token}"}
    execution = api.request("GET", f"/api/graphs/{graph_id}/executions/e1", user="alice")[1]
    assert execution["is_shared"] is True and execution["share_token"] == token

    status, public = api.request("GET", f"/api/public/shared/{token}")  # no Authorization header
    assert status == 200, public
    assert public["id"] == "e1" and public["graph_id"] == graph_id and public["graph_version"] == 1
    assert public["graph_name"] == created["name"] and public["status"] == "COMPLETED"
    assert math.isinf(public["outputs"]["result"][0]) and public["stats"]["cost"] == 3
    assert public["started_at"] and public["ended_at"] and public["created_at"]
    assert "user_id" not in public and "inputs" not in public and "node_executions" not in public
    assert "sk-very-secret" not in json.dumps(public) and "alice" not in json.dumps(public)

    assert api.request("DELETE", f"/api/graphs/{graph_id}/executions/e1/share", user="alice") == (204, None)
    assert api.request("GET", f"/api/public/shared/{token}")[0] == 404
    assert executions_table().get(share_key(token), consistent=True) is None
    assert api.request("GET", f"/api/graphs/{graph_id}/executions/e1", user="alice")[1]["is_shared"] is False
    assert api.request("DELETE", f"/api/graphs/{graph_id}/executions/e1/share", user="alice")[0] == 204
    again = api.request("POST", f"/api/graphs/{graph_id}/executions/e1/share", user="alice")[1]["share_token"]
    assert again != token and api.request("GET", f"/api/public/shared/{again}")[0] == 200


def test_unknown_or_stale_share_tokens_are_404(api):
    assert api.request("GET", "/api/public/shared/no-such-token") == (404, {"detail": "Shared execution not found."})
    # A share item whose execution no longer carries the token reveals nothing.
    put_execution("e1")
    executions_table().put({**share_key("stale"), "graph_exec_id": "e1", "user_id": "alice"})
    assert api.request("GET", "/api/public/shared/stale")[0] == 404
    assert api.request("GET", "/api/public/shared/" + "x" * 129)[0] == 422


# --- ownership ------------------------------------------------------------------------------
def test_another_user_can_never_read_stop_delete_or_share(api):
    _running_execution()
    put_execution("done-1", status="COMPLETED", at=1)
    for user, method, path, exec_id in [
        ("bob", "GET", "/api/graphs/graph-1/executions/run-1", "run-1"),
        ("bob", "POST", "/api/graphs/graph-1/executions/run-1/stop", "run-1"),
        ("bob", "POST", "/api/graphs/graph-1/executions/run-1/share", "run-1"),
        ("bob", "DELETE", "/api/graphs/graph-1/executions/run-1/share", "run-1"),
        ("bob", "DELETE", "/api/executions/done-1", "done-1"),
        ("bob", "DELETE", "/api/executions/run-1", "run-1"),
        ("bob", "POST", "/api/graphs/graph-1/executions/done-1/stop", "done-1"),
        ("bob", "POST", "/api/graphs/graph-1/executions/done-1/share", "done-1"),
        # the right owner but the wrong graph is not found either
        ("alice", "POST", "/api/graphs/graph-2/executions/run-1/stop", "run-1"),
        ("alice", "POST", "/api/graphs/graph-2/executions/run-1/share", "run-1"),
    ]:
        status, body = api.request(method, path, user=user)
        assert (status, body) == (404, {"detail": f"Graph execution #{exec_id} not found."}), (user, method, path)
    meta = executions_table().get(meta_key("run-1"), consistent=True)
    assert meta["status"] == "RUNNING" and "stop_requested" not in meta and "share_token" not in meta
    assert executions_table().get(meta_key("done-1"), consistent=True)["status"] == "COMPLETED"
    assert api.request("GET", "/api/executions", user="bob") == (200, [])
    assert api.request("GET", "/api/graphs/graph-1/executions", user="bob")[1]["executions"] == []


# --- external API ---------------------------------------------------------------------------
def test_external_results_need_read_graph(api):
    put_execution(
        "e1",
        outputs={"result": [INF, 7]},
        nodes=[
            node(
                "calc",
                0,
                node_id="c",
                input_data={"operation": "Divide", "a": 1, "b": 0},
                output_data={"result": [INF]},
            ),
            node(
                "out",
                1,
                node_id="o",
                block_id=OUT,
                input_data={"name": "result", "value": INF},
                output_data={"output": [INF], "name": ["result"]},
            ),
        ],
    )
    put_execution("run-1", status="RUNNING", at=1)
    reader = api_key(api, "alice", ["READ_GRAPH"])
    executor = api_key(api, "alice", ["EXECUTE_GRAPH"])
    path = "/external-api/v1/graphs/graph-1/executions/e1/results"

    status, results = api.request("GET", path, headers={"x-api-key": reader})
    assert status == 200, results
    assert results["execution_id"] == "e1" and results["status"] == "COMPLETED"
    calc, out = results["nodes"]
    assert calc["node_id"] == "c" and calc["input"] == {"operation": "Divide", "a": 1, "b": 0}
    assert math.isinf(calc["output"]["result"][0])
    assert out["node_id"] == "o" and math.isinf(out["input"])  # AutoGPT: input_data["value"] when present
    assert len(results["output"]) == 2 and math.isinf(results["output"][0]["result"])
    assert results["output"][1] == {"result": 7}

    running = api.request(
        "GET", "/external-api/v1/graphs/graph-1/executions/run-1/results", headers={"x-api-key": reader}
    )[1]
    assert running["status"] == "RUNNING" and running["output"] is None and running["nodes"] == []
    assert api.request("GET", path, headers={"x-api-key": executor})[0] == 403
    assert api.request("GET", path)[0] == 401
    assert (
        api.request("GET", "/external-api/v1/graphs/graph-2/executions/e1/results", headers={"x-api-key": reader})[0]
        == 404
    )
    bob_reader = api_key(api, "bob", ["READ_GRAPH"])
    assert api.request("GET", path, headers={"x-api-key": bob_reader})[0] == 404
