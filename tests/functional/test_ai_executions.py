"""AI blocks in real executions: the graph-execution ASL on moto's interpreter, the LLM nodes in
BlockAiFunction against a loopback FakeOpenAI; token stats on nodes and the graph, TOKEN
charges in the ledger, and credentials given at execute (`credentials_inputs`)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from localcloud.fake_openai import FakeOpenAI
from stratus.db.executions_table import executions_table, meta_key
from tests.conftest import allowed_egress
from tests.functional.test_state_machine import _wait, sfn_api  # noqa: F401 - the fixture

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
PLATFORM_KEY = "platform-test-key"
USER_KEY = "sk-user-own-key-0123"
# The export's LLM nodes by block id (uploads give nodes new ids).
LLM_NODES = {
    "1f292d4a-41a4-4977-9684-7c8d560b9f91": "writer",
    "a0a69be1-4528-491c-a85a-a4ab6873e3f0": "summarizer",
    "ed55ac19-356e-4243-a6cb-bc599e9b716f": "tagger",
}
INPUT_BLOCK = "c0a8e994-ebf1-4a9c-a4d8-89d09c86741b"


def _nodes(result: dict) -> dict[str, dict]:
    """Node executions by the export's node names (the LLM nodes and `topic`)."""
    names = {**LLM_NODES, INPUT_BLOCK: "topic"}
    return {names[n["block_id"]]: n for n in result["node_executions"] if n["block_id"] in names}


@pytest.fixture(scope="module")
def model_server() -> Iterator[FakeOpenAI]:
    server = FakeOpenAI().start()
    with allowed_egress(server.url):
        yield server
    server.stop()


@pytest.fixture()
def ai_api(sfn_api, model_server, monkeypatch):  # noqa: F811
    model_server.reset()
    monkeypatch.setenv("OPENAI_BASE_URL", model_server.url)
    monkeypatch.setenv("OPENAI_API_KEY", PLATFORM_KEY)
    sfn_api.request("POST", "/api/auth/user", user="alice")
    return sfn_api


def _upload_blog_writer(api) -> dict:
    graph = json.loads((EXAMPLES / "ai_blog_writer.json").read_text())
    status, created = api.request("POST", "/api/graphs", user="alice", json_body={"graph": graph})
    assert status == 200, created
    return created


def _run(api, created: dict, body: dict) -> dict:
    status, execution = api.request(
        "POST", f"/api/graphs/{created['id']}/execute/{created['version']}", user="alice", json_body=body
    )
    assert status == 200, execution
    assert _wait(execution["id"])["status"] == "SUCCEEDED"
    status, result = api.request("GET", f"/api/graphs/{created['id']}/executions/{execution['id']}", user="alice")
    assert status == 200
    return result


def _ledger(api) -> list[dict]:
    _, history = api.request("GET", "/api/credits/transactions", user="alice")
    return history["transactions"]


def test_an_autogpt_llm_export_runs_with_token_stats_and_token_charges(ai_api, model_server):
    created = _upload_blog_writer(ai_api)
    assert set(created["credentials_input_schema"]["properties"]) == {"openai_api_key_credentials"}
    result = _run(ai_api, created, {"inputs": {"topic": "serverless agents"}})

    assert result["status"] == "COMPLETED", result
    post = result["outputs"]["post"][0]
    assert post == "Echo: Write a short paragraph for a blog post about serverless agents."
    assert result["outputs"]["summary"][0].startswith("Summary: ")
    assert set(result["outputs"]["metadata"][0]) == {"title", "tags"}
    # Every model call went to the loopback server with the platform key.
    assert {r["model"] for r in model_server.requests} == {"gpt-4o-mini"}

    nodes = _nodes(result)
    usage = {name: nodes[name]["stats"] for name in LLM_NODES.values()}
    assert all(s and s["input_token_count"] > 0 and s["output_token_count"] > 0 for s in usage.values()), usage
    assert usage["writer"]["llm_call_count"] == 1 and usage["summarizer"]["llm_call_count"] == 2
    assert nodes["topic"]["stats"] is None  # no model, no stats
    stats = result["stats"]
    for field in ("input_token_count", "output_token_count", "llm_call_count"):
        assert stats[field] == sum(s[field] for s in usage.values())
    assert stats["llm_call_count"] == len(model_server.requests) == 4

    # TOKEN cost: gpt-4o-mini is 1 credit per 1,000 tokens, rounded up per node: 1 each, prepaid:
    # a reservation under the node execution id before the run, the unused part refunded after.
    ledger = _ledger(ai_api)
    reserved = {tx["transaction_key"]: tx for tx in ledger if tx["transaction_type"] == "USAGE"}
    refunds = {tx["transaction_key"]: tx for tx in ledger if tx["transaction_type"] == "REFUND"}
    assert set(reserved) == {nodes[n]["node_exec_id"] for n in LLM_NODES.values()}
    assert set(refunds) == {f"{key}#settle" for key in reserved}
    assert all(reserved[key]["amount"] + refunds[f"{key}#settle"]["amount"] == -1 for key in reserved)
    assert all(tx["metadata"]["tokens"] > 0 for tx in refunds.values())
    assert stats["cost"] == 3
    _, balance = ai_api.request("GET", "/api/credits", user="alice")
    assert balance["credits"] == 1000 - 3


def test_credentials_inputs_run_the_nodes_on_the_users_own_key_free_of_token_charges(ai_api, model_server):
    status, stored = ai_api.request(
        "POST",
        "/api/integrations/openai/credentials",
        user="alice",
        json_body={"api_key": USER_KEY, "title": "Alice's OpenAI key"},
    )
    assert status in (200, 201), stored
    created = _upload_blog_writer(ai_api)
    credentials = {"id": stored["id"], "provider": "openai", "type": "api_key", "title": stored["title"]}
    result = _run(
        ai_api,
        created,
        {"inputs": {"topic": "keys"}, "credentials_inputs": {"openai_api_key_credentials": credentials}},
    )
    assert result["status"] == "COMPLETED", result
    assert result["stats"]["llm_call_count"] == 4 and result["stats"]["cost"] == 0
    assert not [tx for tx in _ledger(ai_api) if tx["transaction_type"] == "USAGE"]
    meta = executions_table().get(meta_key(result["id"]), consistent=True)
    assert meta["credentials_inputs"] == {"openai_api_key_credentials": credentials}  # ids only, no key
    assert USER_KEY not in json.dumps(meta, default=str)


def test_credentials_inputs_are_checked_at_execute_and_nothing_is_written(ai_api):
    created = _upload_blog_writer(ai_api)
    path = f"/api/graphs/{created['id']}/execute/{created['version']}"
    ai_api.request("POST", "/api/auth/user", user="bob")
    _, bobs = ai_api.request(
        "POST",
        "/api/integrations/openai/credentials",
        user="bob",
        json_body={"api_key": "sk-bob-0000", "title": "Bob's key"},
    )
    cases = [
        ({"openai_api_key_credentials": {"id": bobs["id"], "provider": "openai", "type": "api_key"}}, 404),
        ({"openai_api_key_credentials": {"id": "no-such-id", "provider": "openai", "type": "api_key"}}, 404),
        ({"anthropic_api_key_credentials": {"id": bobs["id"], "provider": "anthropic"}}, 400),
        ({"openai_api_key_credentials": {"provider": "openai"}}, 400),
        ({"openai_api_key_credentials": {"id": bobs["id"], "provider": "anthropic"}}, 400),
    ]
    for credentials, expected in cases:
        status, body = ai_api.request(
            "POST", path, user="alice", json_body={"inputs": {"topic": "x"}, "credentials_inputs": credentials}
        )
        assert status == expected, (credentials, body)
        assert body["detail"]
    _, executions = ai_api.request("GET", "/api/executions", user="alice")
    assert executions == []


def test_another_users_credentials_on_a_node_are_never_used(ai_api, model_server):
    """A node naming credentials the user does not have (another user's, or an imported graph's
    reference to its author's account) runs as a node without credentials: on the platform's
    key, charged; the other user's key is never sent."""
    ai_api.request("POST", "/api/auth/user", user="bob")
    _, bobs = ai_api.request(
        "POST",
        "/api/integrations/openai/credentials",
        user="bob",
        json_body={"api_key": "sk-bob-0000", "title": "Bob's key"},
    )
    graph = json.loads((EXAMPLES / "ai_blog_writer.json").read_text())
    for node in graph["nodes"]:
        if node["id"] == "tagger":
            node["input_default"]["credentials"] = {
                "id": bobs["id"],
                "provider": "openai",
                "type": "api_key",
                "title": "Bob's key",
            }
    _, created = ai_api.request("POST", "/api/graphs", user="alice", json_body={"graph": graph})
    result = _run(ai_api, created, {"inputs": {"topic": "borrowed keys"}})
    nodes = _nodes(result)
    assert {node["status"] for node in nodes.values()} == {"COMPLETED"}
    assert {call["api_key"] for call in model_server.calls} == {PLATFORM_KEY}
    assert result["stats"]["cost"] > 0  # every model run was the platform's


def test_a_preset_runs_with_its_stored_credentials(ai_api, model_server):
    _, stored = ai_api.request(
        "POST",
        "/api/integrations/openai/credentials",
        user="alice",
        json_body={"api_key": USER_KEY, "title": "Alice's OpenAI key"},
    )
    created = _upload_blog_writer(ai_api)
    credentials = {"id": stored["id"], "provider": "openai", "type": "api_key", "title": stored["title"]}
    status, preset = ai_api.request(
        "POST",
        "/api/library/presets",
        user="alice",
        json_body={
            "name": "Writer on my key",
            "description": "",
            "graph_id": created["id"],
            "graph_version": created["version"],
            "inputs": {"topic": "presets"},
            "credentials": {"openai_api_key_credentials": credentials},
        },
    )
    assert status == 200, preset
    status, execution = ai_api.request(
        "POST", f"/api/library/presets/{preset['id']}/execute", user="alice", json_body={}
    )
    assert status == 200, execution
    assert _wait(execution["id"])["status"] == "SUCCEEDED"
    _, result = ai_api.request("GET", f"/api/graphs/{created['id']}/executions/{execution['id']}", user="alice")
    assert result["status"] == "COMPLETED" and result["stats"]["llm_call_count"] == 4
    assert result["stats"]["cost"] == 0  # the user's own key
    meta = executions_table().get(meta_key(execution["id"]), consistent=True)
    assert meta["credentials_inputs"] == {"openai_api_key_credentials": credentials}
