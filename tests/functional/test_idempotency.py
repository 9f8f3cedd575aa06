"""Idempotency-Key on the execute routes: the key is the user's, bound to the kind of request
(block or graph execution) and a hash of each part of it; the same request replays the first
result, anything else is a 422 naming what differs; a block runs and is charged once."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

from stratus.users import credits
from tests.functional.test_ai_executions import EXAMPLES, ai_api  # noqa: F401 - the fixture
from tests.functional.test_blocks_api import _key
from tests.functional.test_state_machine import _wait, sfn_api  # noqa: F401 - the fixture

TEXT_GENERATOR = "1f292d4a-41a4-4977-9684-7c8d560b9f91"
PATH = f"/api/blocks/{TEXT_GENERATOR}/execute"
PROMPT = {"prompt": "Hello {{name}}", "prompt_values": {"name": "Ada"}, "model": "gpt-4o-mini"}


def _key_header(key: str) -> dict[str, str]:
    return {"idempotency-key": key}


def _usage_keys(user: str = "alice") -> list[str]:
    return [
        tx.transaction_key
        for tx in credits.list_transactions(user).transactions
        if tx.transaction_type.value == "USAGE"
    ]


def test_a_paid_block_executed_five_times_with_one_key_runs_once_and_is_charged_once(ai_api, model_server, monkeypatch):
    answers = [
        ai_api.request("POST", PATH, user="alice", json_body=PROMPT, headers=_key_header("five")) for _ in range(3)
    ]
    # A re-run would now fail (no model endpoint): the stored first result is what a retry gets.
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    answers += [
        ai_api.request("POST", PATH, user="alice", json_body=PROMPT, headers=_key_header("five")) for _ in range(2)
    ]
    assert [status for status, _ in answers] == [200] * 5
    assert all(body == answers[0][1] for _, body in answers) and answers[0][1]["response"] == ["Echo: Hello Ada"]
    assert len(model_server.requests) == 1 and len(_usage_keys()) == 1
    assert credits.get_balance("alice") == 999


def test_the_same_key_with_another_payload_or_on_another_route_is_422(ai_api, model_server):
    assert ai_api.request("POST", PATH, user="alice", json_body=PROMPT, headers=_key_header("k1"))[0] == 200
    status, error = ai_api.request(
        "POST", PATH, user="alice", json_body={**PROMPT, "prompt": "Bye"}, headers=_key_header("k1")
    )
    assert status == 422 and "another input" in error["detail"]
    other_block = "1ff065e9-88e8-4358-9d82-8dc91f622ba9"  # StoreValueBlock (core)
    status, error = ai_api.request(
        "POST", f"/api/blocks/{other_block}/execute", user="alice", json_body={"input": 1}, headers=_key_header("k1")
    )
    assert status == 422 and "another block" in error["detail"]
    # The key is bound to a block execution: a graph execution with it is another request.
    graph = json.loads((EXAMPLES / "calculator.json").read_text())
    _, created = ai_api.request("POST", "/api/graphs", user="alice", json_body={"graph": graph})
    status, error = ai_api.request(
        "POST",
        f"/api/graphs/{created['id']}/execute/1",
        user="alice",
        json_body={"inputs": {"a": 2, "b": 3}},
        headers=_key_header("k1"),
    )
    assert status == 422 and "block execution, not a graph execution" in error["detail"]
    # The external API's block execute is the same kind of request: the same key replays.
    status, replayed = ai_api.request(
        "POST",
        f"/external-api/v1/blocks/{TEXT_GENERATOR}/execute",
        json_body=PROMPT,
        headers={"x-api-key": _key(ai_api, "alice", ["EXECUTE_BLOCK"]), **_key_header("k1")},
    )
    assert status == 200 and replayed["response"] == ["Echo: Hello Ada"]
    assert len(model_server.requests) == 1 and len(_usage_keys()) == 1
    # Keys are per user: bob's "k1" is his own.
    ai_api.request("POST", "/api/auth/user", user="bob")
    assert (
        ai_api.request("POST", PATH, user="bob", json_body={**PROMPT, "prompt": "Bye"}, headers=_key_header("k1"))[0]
        == 200
    )


def test_concurrent_identical_requests_with_one_key_run_once(ai_api, model_server):
    def call(_: int) -> tuple[int, dict]:
        return ai_api.request("POST", PATH, user="alice", json_body=PROMPT, headers=_key_header("together"))

    with ThreadPoolExecutor(max_workers=12) as pool:
        answers = list(pool.map(call, range(12)))
    statuses = [status for status, _ in answers]
    assert set(statuses) <= {200, 409} and statuses.count(200) >= 1, statuses
    assert all(body["response"] == ["Echo: Hello Ada"] for status, body in answers if status == 200)
    assert all("in progress" in body["detail"] for status, body in answers if status == 409)
    assert len(model_server.requests) == 1 and len(_usage_keys()) == 1  # exactly one run, one charge


def test_a_failed_run_frees_its_key_for_a_retry(ai_api, model_server):
    credits.charge("alice", 1000, "drain")
    assert ai_api.request("POST", PATH, user="alice", json_body=PROMPT, headers=_key_header("later"))[0] == 402
    credits.record("alice", credits.TransactionType.GRANT, 100, "top-up")
    status, body = ai_api.request("POST", PATH, user="alice", json_body=PROMPT, headers=_key_header("later"))
    assert status == 200 and body["response"] == ["Echo: Hello Ada"] and len(model_server.requests) == 1


def test_graph_execute_same_request_gives_the_first_execution_anything_else_is_422(ai_api):
    graph = json.loads((EXAMPLES / "calculator.json").read_text())
    _, created = ai_api.request("POST", "/api/graphs", user="alice", json_body={"graph": graph})
    _, other = ai_api.request("POST", "/api/graphs", user="alice", json_body={"graph": graph})
    _, graph_v2 = ai_api.request(
        "PUT", f"/api/graphs/{created['id']}", user="alice", json_body={**created, "description": "v2"}
    )
    path = f"/api/graphs/{created['id']}/execute/1"
    body = {"inputs": {"a": 2, "b": 3}}
    status, first = ai_api.request("POST", path, user="alice", json_body=body, headers=_key_header("g1"))
    assert status == 200, first
    _wait(first["id"])
    credits.charge("alice", credits.get_balance("alice"), "drain")  # a retry is not a new run: no 402
    status, again = ai_api.request("POST", path, user="alice", json_body=body, headers=_key_header("g1"))
    assert status == 200 and again["id"] == first["id"]
    cases = [
        (path, {"inputs": {"a": 2, "b": 4}}, "another inputs"),
        (f"/api/graphs/{other['id']}/execute/1", body, "another graph"),
        (f"/api/graphs/{created['id']}/execute/{graph_v2['version']}", body, "another version"),
        (path, {**body, "credentials_inputs": {"openai_api_key_credentials": {"id": "x"}}}, "credentials_inputs"),
        (path + "?preset_id=p1", body, "preset"),
    ]
    for case_path, case_body, reason in cases:
        path_only, _, query = case_path.partition("?")
        status, error = ai_api.request(
            "POST", path_only, user="alice", json_body=case_body, headers=_key_header("g1"), query=query
        )
        assert status == 422 and reason in error["detail"], (case_path, error)
    status, error = ai_api.request("POST", PATH, user="alice", json_body=PROMPT, headers=_key_header("g1"))
    assert status == 422 and "graph execution, not a block execution" in error["detail"]
    _, executions = ai_api.request("GET", "/api/executions", user="alice")
    assert [e["id"] for e in executions] == [first["id"]]
