"""MAG graphs on the real graph-execution ASL (moto, in-process): the planner in the orchestrator,
agent node runs in BlockAiFunction against the loopback model (FakeOpenAI)."""

from __future__ import annotations

from localcloud.fake_openai import FakeOpenAI
from stratus.mag.models import MAG_AGENT_BLOCK_ID
from tests.functional.test_state_machine import _wait, sfn_api  # noqa: F401

WRITER_CRITIC = {
    "name": "essay",
    "description": "A writer and a critic who sends the draft back twice.",
    "nodes": [
        {
            "name": "writer",
            "model_name": "fake",
            "input_nodes": ["start"],
            "output_nodes": ["critic"],
            "user_prompt": "Write about {{start}}. Feedback: {{critic}}",
        },
        {
            "name": "critic",
            "model_name": "fake",
            "input_nodes": ["writer"],
            "output_nodes": ["writer", "end"],
            "handoffs": 2,
            "system_prompt": "You review drafts.",
            "user_prompt": "Review: {{writer}}\nHANDOFF writer",
        },
    ],
    "end_template": "{{writer:all}}",
}


def _setup(api, fake: FakeOpenAI, config: dict) -> str:
    """The user, the model config "fake" and the graph; returns the graph id."""
    api.request("POST", "/api/auth/user", user="alice")
    status, body = api.request(
        "POST",
        "/api/mag/models",
        user="alice",
        json_body={"name": "fake", "base_url": fake.url, "api_key": "sk-test", "model": "fake-model"},
    )
    assert status == 201, body
    status, body = api.request("POST", "/api/mag/graphs", user="alice", json_body=config)
    assert status == 201, body
    return body["graph_id"]


def _run(api, name: str, text: str) -> dict:
    status, started = api.request("POST", f"/api/mag/graphs/{name}/run", user="alice", json_body={"input_text": text})
    assert status == 200, started
    assert _wait(started["id"], timeout=60)["status"] == "SUCCEEDED"
    status, result = api.request("GET", f"/api/graphs/{started['graph_id']}/executions/{started['id']}", user="alice")
    assert status == 200, result
    return result


def test_a_handoff_loop_runs_to_its_bound(sfn_api, fake):  # noqa: F811
    fake.reset()
    _setup(sfn_api, fake, WRITER_CRITIC)
    result = _run(sfn_api, "essay", "clouds")

    assert result["status"] == "COMPLETED", result
    chain = result["outputs"]["execution_chain"][0]
    assert chain == [["writer"], ["critic"]] * 3  # handoffs: 2, then the tool is no longer offered
    offered = [[tool["function"]["name"] for tool in request.get("tools", [])] for request in fake.requests]
    assert offered == [[], ["transfer_to_writer"], [], ["transfer_to_writer"], [], []]
    drafts = result["outputs"]["final_result"][0].split("\n\n---\n\n")
    assert len(drafts) == 3 and drafts[0] == "Echo: Write about clouds. Feedback: "
    assert "Feedback: Echo: Review: Echo: Write about clouds." in drafts[1]  # the critic's reply came back

    nodes = sorted(result["node_executions"], key=lambda n: n["add_time"] or "")
    assert [n["node_id"] for n in nodes] == ["writer", "critic"] * 3
    assert {n["block_id"] for n in nodes} == {MAG_AGENT_BLOCK_ID}
    assert [n["output_data"].get("handoff") for n in nodes if n["node_id"] == "critic"] == [
        ["writer"],
        ["writer"],
        None,
    ]
    assert nodes[1]["input_data"]["handoff_targets"] == ["writer"] and nodes[1]["input_data"]["level"] == 1
    assert result["stats"]["node_exec_count"] == 6
    assert result["stats"]["llm_call_count"] == 6 and result["stats"]["input_token_count"] > 0
    assert result["stats"]["output_token_count"] > 0


def test_a_subgraph_node_runs_its_graph_between_the_parents_nodes(sfn_api, fake):  # noqa: F811
    fake.reset()
    inner = {
        "name": "polish",
        "nodes": [
            {
                "name": "editor",
                "model_name": "fake",
                "input_nodes": ["start"],
                "output_nodes": ["end"],
                "user_prompt": "Polish: {{start}}",
            }
        ],
    }
    _setup(sfn_api, fake, inner)
    outer = {
        "name": "pipeline",
        "nodes": [
            {
                "name": "draft",
                "model_name": "fake",
                "input_nodes": ["start"],
                "output_nodes": ["polish_step"],
                "user_prompt": "Draft {{start}}",
            },
            {
                "name": "polish_step",
                "is_subgraph": True,
                "subgraph_name": "polish",
                "input_nodes": ["draft"],
                "output_nodes": ["final"],
                "user_prompt": "{{draft}}",
            },
            {
                "name": "final",
                "model_name": "fake",
                "input_nodes": ["polish_step"],
                "output_nodes": ["end"],
                "user_prompt": "Publish: {{polish_step}}",
            },
        ],
        "end_template": "{{final}}",
    }
    status, body = sfn_api.request("POST", "/api/mag/graphs", user="alice", json_body=outer)
    assert status == 201, body
    result = _run(sfn_api, "pipeline", "rain")

    assert result["status"] == "COMPLETED", result
    assert [n["node_id"] for n in sorted(result["node_executions"], key=lambda n: n["add_time"] or "")] == [
        "draft",
        "polish_step/editor",
        "final",
    ]
    assert result["outputs"]["final_result"] == ["Echo: Publish: Echo: Polish: Echo: Draft rain"]
    assert result["stats"]["llm_call_count"] == 3


def test_a_failing_node_fails_the_run_with_its_error(sfn_api, fake):  # noqa: F811
    fake.reset()
    broken = {
        "name": "broken",
        "nodes": [
            {"name": "a", "model_name": "fake", "input_nodes": ["start"]},
            {"name": "b", "model_name": "no-such-config", "input_nodes": ["a"]},
            {"name": "c", "model_name": "fake", "input_nodes": ["b"]},
        ],
    }
    _setup(sfn_api, fake, broken)
    result = _run(sfn_api, "broken", "x")
    assert result["status"] == "FAILED"
    assert result["outputs"]["execution_chain"] == [[["a"], ["b"]]] and "final_result" not in result["outputs"]
    assert "no-such-config" in result["stats"]["error"]


def test_the_execute_route_needs_a_start_text(sfn_api, fake):  # noqa: F811
    graph_id = _setup(sfn_api, fake, {**WRITER_CRITIC, "name": "needs_start"})
    status, body = sfn_api.request("POST", f"/api/graphs/{graph_id}/execute/1", user="alice", json_body={"inputs": {}})
    assert status == 400 and "start" in body["detail"]
