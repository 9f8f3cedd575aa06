"""The local cloud under bad input and restarts: every HTTP request gets an answer, bad
WebSocket frames leave the connection working, an item with an empty map key breaks neither
events nor snapshots, and executions left running by a stop end final after the next start."""

from __future__ import annotations

import asyncio
import json
import socket

import httpx
from websockets.asyncio.client import connect

from tests.e2e.conftest import CloudProcess, auth, e2e_token, events_until_final, wait_final, wait_for
from tests.functional.test_subagents import _child_graph, _parent_graph


def _raw_request(cloud, request: bytes) -> bytes:
    host, port = cloud.http.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as connection:
        connection.sendall(request)
        response = b""
        while chunk := connection.recv(65536):
            response += chunk
            if b"\r\n\r\n" in response:
                head, _, body = response.partition(b"\r\n\r\n")
                length = next(
                    (
                        int(line.split(b":")[1])
                        for line in head.split(b"\r\n")
                        if line.lower().startswith(b"content-length:")
                    ),
                    0,
                )
                if len(body) >= length:
                    break
        return response


def test_a_json_body_that_is_not_utf8_gets_a_400_with_a_message(cloud):
    with httpx.Client(base_url=cloud.http, timeout=30) as http:
        http.post("/api/auth/user", headers=auth("bad-bytes"))
        response = http.post(
            "/api/auth/user/timezone",
            content=b'{"timezone": "\xff\xfe"}',
            headers={**auth("bad-bytes"), "content-type": "application/json"},
        )
        assert response.status_code == 400, response.text
        assert response.json()["detail"]
        # The same connection pool still works: nothing was dropped.
        assert http.get("/api/auth/user/timezone", headers=auth("bad-bytes")).status_code == 200


def test_methods_the_http_api_does_not_route_get_a_405(cloud):
    for method in (b"TRACE", b"PROPFIND"):
        response = _raw_request(cloud, method + b" /api/credits HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
        status_line, _, rest = response.partition(b"\r\n")
        assert status_line.split()[1] == b"405", response
        assert method.decode() in json.loads(rest.partition(b"\r\n\r\n")[2])["message"]


def test_bad_websocket_frames_leave_the_connection_working(cloud):
    async def session():
        async with connect(f"{cloud.ws}?token={e2e_token('ws-frames')}") as ws:
            for frame in (
                b"\xff\xfe\x00binary",
                "not json {",
                json.dumps([1, 2]),
                json.dumps({"method": 7}),
                json.dumps({"": "x", "method": "heartbeat"}),
            ):
                await ws.send(frame)
            await ws.send(json.dumps({"method": "heartbeat"}))
            replies = []
            while True:
                reply = json.loads(await asyncio.wait_for(ws.recv(), 10))
                replies.append(reply)
                if reply.get("data") == "pong" and len(replies) >= 2:
                    return replies

    replies = asyncio.run(session())
    assert replies[-1] == {"method": "heartbeat", "data": "pong", "success": True}


def _empty_key_item(graph_exec_id: str) -> dict:
    return {
        "PK": {"S": f"GEXEC#{graph_exec_id}"},
        "SK": {"S": "META"},
        "id": {"S": graph_exec_id},
        "user_id": {"S": "empty-key-user"},
        "status": {"S": "COMPLETED"},
        "inputs": {"M": {"": {"S": "x"}, "nested": {"M": {"": {"N": "1"}}}}},
    }


def test_an_item_with_an_empty_map_key_does_not_stop_other_users_events(cloud):
    dynamodb = cloud.client("dynamodb")
    dynamodb.put_item(TableName="ExecutionsTable", Item=_empty_key_item("empty-key-exec"))
    stored = dynamodb.get_item(
        TableName="ExecutionsTable", Key={"PK": {"S": "GEXEC#empty-key-exec"}, "SK": {"S": "META"}}
    )["Item"]
    assert stored["inputs"]["M"][""] == {"S": "x"}  # read back as written
    user = "after-empty-key"
    with httpx.Client(base_url=cloud.http, timeout=30) as http:
        http.post("/api/auth/user", headers=auth(user))
        graph = http.post("/api/graphs", headers=auth(user), json={"graph": _child_graph()}).json()

    async def follow() -> list[dict]:
        async with (
            connect(f"{cloud.ws}?token={e2e_token(user)}") as ws,
            httpx.AsyncClient(base_url=cloud.http, timeout=30) as http,
        ):
            await ws.send(json.dumps({"method": "subscribe_graph_executions", "data": {"graph_id": graph["id"]}}))
            await asyncio.wait_for(ws.recv(), 10)
            started = await http.post(
                f"/api/graphs/{graph['id']}/execute/1", headers=auth(user), json={"inputs": {"topic": "Eve"}}
            )
            assert started.status_code == 200, started.text
            return await events_until_final(ws, timeout=30)

    events = asyncio.run(follow())
    assert events[-1]["data"]["status"] == "COMPLETED"
    assert events[-1]["data"]["outputs"] == {"greeting": ["Hello Eve"]}


def test_executions_running_at_a_stop_end_final_after_the_next_start(tmp_path):
    """A parent waits on a sub-agent whose timer is running when the cloud stops; after the
    next start both state machines are gone, and both executions still end COMPLETED."""
    user = "restarted"
    state = tmp_path / "state"
    first = CloudProcess(state).start()
    try:
        dynamodb = first.client("dynamodb")
        with httpx.Client(base_url=first.http, timeout=30) as http:
            http.post("/api/auth/user", headers=auth(user))
            child = http.post("/api/graphs", headers=auth(user), json={"graph": _child_graph(timer_seconds=2)}).json()
            parent = http.post("/api/graphs", headers=auth(user), json={"graph": _parent_graph(child)}).json()
            started = http.post(
                f"/api/graphs/{parent['id']}/execute/1", headers=auth(user), json={"inputs": {"name": "Ada"}}
            )
            assert started.status_code == 200, started.text
        parent_exec_id = started.json()["id"]

        def waiting_child():
            items = dynamodb.scan(
                TableName="ExecutionsTable",
                FilterExpression="parent_graph_exec_id = :p",
                ExpressionAttributeValues={":p": {"S": parent_exec_id}},
            )["Items"]
            return items[0] if items and "task_token" in items[0] else None

        child_exec_id = wait_for(waiting_child, timeout=30)["id"]["S"]
        dynamodb.put_item(TableName="ExecutionsTable", Item=_empty_key_item("kept-empty-key"))
    finally:
        first.stop()

    second = CloudProcess(state).start()
    try:
        kept = (
            second.client("dynamodb")
            .get_item(TableName="ExecutionsTable", Key={"PK": {"S": "GEXEC#kept-empty-key"}, "SK": {"S": "META"}})
            .get("Item")
        )
        assert kept and kept["inputs"]["M"]["nested"] == {"M": {"": {"N": "1"}}}  # the snapshot kept it
        parent_meta = wait_final(second, parent_exec_id, timeout=30)
        child_meta = wait_final(second, child_exec_id, timeout=30)
        assert child_meta["status"] == "COMPLETED"
        assert parent_meta["status"] == "COMPLETED", parent_meta
        assert parent_meta["outputs"] == {"result": ["Hello Ada"]}
    finally:
        second.stop()
