"""Graph executions through the local cloud: HTTP execute, WebSocket progress in order,
results, stop mid-run — the real ASL on moto's interpreter."""

from __future__ import annotations

import asyncio
import json

import httpx
from websockets.asyncio.client import connect

from tests.e2e.conftest import ROOT, auth, e2e_token, events_until_final, node_items, wait_final

TIMER = "d67a9c52-5e4e-11e2-bcfd-0800200c9a71"
OUT = "363ae599-353e-4804-937e-b2ee3cef3da4"


def _upload(http: httpx.Client, user: str, name: str) -> dict:
    response = http.post(
        "/api/graphs", headers=auth(user), json={"graph": json.loads((ROOT / "examples" / name).read_text())}
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_execute_and_follow_progress_over_the_websocket(cloud):
    user = "exec-alice"
    with httpx.Client(base_url=cloud.http, timeout=30) as http:
        http.post("/api/auth/user", headers=auth(user))
        graph = _upload(http, user, "list_fanout.json")

    async def follow() -> tuple[dict, list[dict]]:
        async with (
            connect(f"{cloud.ws}?token={e2e_token(user)}") as socket,
            httpx.AsyncClient(base_url=cloud.http, timeout=30) as http,
        ):
            await socket.send(json.dumps({"method": "subscribe_graph_executions", "data": {"graph_id": graph["id"]}}))
            ack = json.loads(await asyncio.wait_for(socket.recv(), 10))
            assert ack["success"] is True and ack["channel"] == f"{user}|graph#{graph['id']}|executions"
            started = await http.post(
                f"/api/graphs/{graph['id']}/execute/1", headers=auth(user), json={"inputs": {"items": ["a", "b", "c"]}}
            )
            assert started.status_code == 200, started.text
            execution = started.json()
            await socket.send(
                json.dumps({"method": "subscribe_graph_execution", "data": {"graph_exec_id": execution["id"]}})
            )
            return execution, [
                m
                for m in await events_until_final(socket, timeout=30)
                if m.get("method") in ("node_execution_event", "graph_execution_event")
            ]

    execution, events = asyncio.run(follow())
    graph_events = [e["data"] for e in events if e["method"] == "graph_execution_event"]
    assert graph_events[-1]["status"] == "COMPLETED"
    assert graph_events[-1]["outputs"] == {"lines": ["Item 0: a", "Item 1: b", "Item 2: c"]}
    node_events = [e["data"] for e in events if e["method"] == "node_execution_event"]
    assert all(e["graph_exec_id"] == execution["id"] for e in node_events)
    # Per node execution, statuses arrive in order and end COMPLETED.
    by_node: dict[str, list[str]] = {}
    for event in node_events:
        by_node.setdefault(event["node_exec_id"], []).append(event["status"])
    order = ["INCOMPLETE", "QUEUED", "RUNNING", "COMPLETED"]
    for statuses in by_node.values():
        assert statuses[-1] == "COMPLETED"
        assert [order.index(s) for s in statuses] == sorted(order.index(s) for s in statuses)
    assert len(by_node) == 1 + 1 + 3 + 3  # input, step, 3 templates, 3 outputs

    with httpx.Client(base_url=cloud.http, timeout=30) as http:
        detail = http.get(f"/api/graphs/{graph['id']}/executions/{execution['id']}", headers=auth(user))
        assert detail.status_code == 200 and detail.json()["status"] == "COMPLETED"
        assert (
            http.get(f"/api/graphs/{graph['id']}/executions/{execution['id']}", headers=auth("exec-bob")).status_code
            == 404
        )


def test_another_users_subscriber_hears_nothing(cloud):
    with httpx.Client(base_url=cloud.http, timeout=30) as http:
        http.post("/api/auth/user", headers=auth("exec-owner"))
        graph = _upload(http, "exec-owner", "calculator.json")

    async def eavesdrop() -> list[dict]:
        async with (
            connect(f"{cloud.ws}?token={e2e_token('exec-spy')}") as socket,
            httpx.AsyncClient(base_url=cloud.http, timeout=30) as http,
        ):
            await socket.send(json.dumps({"method": "subscribe_graph_executions", "data": {"graph_id": graph["id"]}}))
            await asyncio.wait_for(socket.recv(), 10)
            started = (
                await http.post(
                    f"/api/graphs/{graph['id']}/execute/1",
                    headers=auth("exec-owner"),
                    json={"inputs": {"a": 1, "b": 2}},
                )
            ).json()
            await socket.send(
                json.dumps({"method": "subscribe_graph_execution", "data": {"graph_exec_id": started["id"]}})
            )
            await asyncio.wait_for(socket.recv(), 10)
            await asyncio.to_thread(wait_final, cloud, started["id"])
            heard = []
            try:
                while True:
                    heard.append(json.loads(await asyncio.wait_for(socket.recv(), 1.5)))
            except TimeoutError:
                return heard

    heard = asyncio.run(eavesdrop())
    assert [m for m in heard if m.get("method") in ("node_execution_event", "graph_execution_event")] == []


def test_stop_mid_run_terminates_and_queued_nodes_never_run(cloud):
    user = "exec-stopper"
    graph = {
        "name": "slow",
        "nodes": [
            {"id": "timer", "block_id": TIMER, "input_default": {"seconds": 20, "input_message": "late"}},
            {"id": "out", "block_id": OUT, "input_default": {"name": "late"}},
        ],
        "links": [{"source_id": "timer", "source_name": "output_message", "sink_id": "out", "sink_name": "value"}],
    }
    with httpx.Client(base_url=cloud.http, timeout=30) as http:
        http.post("/api/auth/user", headers=auth(user))
        created = http.post("/api/graphs", headers=auth(user), json={"graph": graph}).json()
        execution = http.post(f"/api/graphs/{created['id']}/execute/1", headers=auth(user), json={"inputs": {}}).json()
        import time

        deadline = time.monotonic() + 20
        while not any(n["status"] == "RUNNING" for n in node_items(cloud, execution["id"])):
            assert time.monotonic() < deadline
            time.sleep(0.1)
        stopped = http.post(f"/api/graphs/{created['id']}/executions/{execution['id']}/stop", headers=auth(user))
        assert stopped.status_code == 200, stopped.text
        meta = wait_final(cloud, execution["id"])
        assert meta["status"] == "TERMINATED"
        time.sleep(1)
        statuses = {n["node_id"]: n["status"] for n in node_items(cloud, execution["id"])}
        assert statuses.get("out") in (None, "TERMINATED")  # the output never ran
        assert wait_final(cloud, execution["id"])["status"] == "TERMINATED"  # the finalizer kept it
