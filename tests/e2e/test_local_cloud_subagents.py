"""Sub-agents through the local cloud: an agent that runs another agent (AgentExecutor), the
parent's state machine waiting on a task token that the child's finalizer completes."""

from __future__ import annotations

import httpx

from tests.e2e.conftest import auth, node_items, wait_final
from tests.graph_dicts import agent_node_dict

AGENT = "e189baac-8c20-45a1-94a7-55177ea42565"
INPUT = "c0a8e994-ebf1-4a9c-a4d8-89d09c86741b"
OUTPUT = "363ae599-353e-4804-937e-b2ee3cef3da4"
TEMPLATE = "db7d8f02-2f44-4c55-ab7a-eae0941f0c30"
USER = "sub-e2e"

CHILD = {
    "name": "shouter",
    "nodes": [
        {"id": "in", "block_id": INPUT, "input_default": {"name": "word"}},
        {"id": "fill", "block_id": TEMPLATE, "input_default": {"format": "{{word | upper}}!"}},
        {"id": "out", "block_id": OUTPUT, "input_default": {"name": "shout"}},
    ],
    "links": [
        {"source_id": "in", "source_name": "result", "sink_id": "fill", "sink_name": "values_#_word"},
        {"source_id": "fill", "source_name": "output", "sink_id": "out", "sink_name": "value"},
    ],
}


def _parent(child: dict) -> dict:
    return {
        "name": "asks the shouter",
        "nodes": [
            {"id": "in", "block_id": INPUT, "input_default": {"name": "text"}},
            agent_node_dict(child),
            {"id": "out", "block_id": OUTPUT, "input_default": {"name": "answer"}},
        ],
        "links": [
            {"source_id": "in", "source_name": "result", "sink_id": "agent", "sink_name": "word"},
            {"source_id": "agent", "source_name": "shout", "sink_id": "out", "sink_name": "value"},
        ],
    }


def test_an_agent_runs_another_agent_and_gets_its_outputs(cloud):
    with httpx.Client(base_url=cloud.http, timeout=30) as http:
        http.post("/api/auth/user", headers=auth(USER))
        child = http.post("/api/graphs", headers=auth(USER), json={"graph": CHILD})
        assert child.status_code == 200, child.text
        parent = http.post("/api/graphs", headers=auth(USER), json={"graph": _parent(child.json())})
        assert parent.status_code == 200, parent.text
        started = http.post(
            f"/api/graphs/{parent.json()['id']}/execute/1", headers=auth(USER), json={"inputs": {"text": "hello"}}
        )
        assert started.status_code == 200, started.text

        meta = wait_final(cloud, started.json()["id"])
        assert meta["status"] == "COMPLETED" and meta["outputs"] == {"answer": ["HELLO!"]}
        agent_node = next(n for n in node_items(cloud, meta["id"]) if n["block_id"] == AGENT)
        assert agent_node["status"] == "COMPLETED"

        # The child is an ordinary execution of the same user, listed under its own graph.
        child_run = http.get(
            f"/api/graphs/{child.json()['id']}/executions/{agent_node['child_graph_exec_id']}", headers=auth(USER)
        )
        assert child_run.status_code == 200, child_run.text
        assert child_run.json()["status"] == "COMPLETED"
        assert child_run.json()["outputs"] == {"shout": ["HELLO!"]}
