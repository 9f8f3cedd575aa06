"""The blocks API through GraphsFunction: definitions, one-off execution, costs, external API."""

from __future__ import annotations

import pytest

from stratus.blocks.registry import get_block
from stratus.blocks.sdk import BlockCost

CALC = "b1ab9b19-67a6-406d-abf5-2dba76d00c79"


def test_definitions_list_every_block_with_costs(api):
    status, blocks = api.request("GET", "/api/blocks", user="alice")
    assert status == 200 and len(blocks) >= 35
    calculator = next(b for b in blocks if b["id"] == CALC)
    assert calculator["name"] == "CalculatorBlock" and calculator["costs"] == []
    assert {"a", "b", "operation"} <= set(calculator["inputSchema"]["properties"])
    assert "error" in calculator["outputSchema"]["properties"]


def test_execute_a_block_returns_outputs_by_name(api):
    api.request("POST", "/api/auth/user", user="alice")
    status, outputs = api.request(
        "POST", f"/api/blocks/{CALC}/execute", user="alice", json_body={"operation": "Multiply", "a": 6, "b": 7}
    )
    assert status == 200 and outputs == {"result": [42]}
    status, outputs = api.request(
        "POST", f"/api/blocks/{CALC}/execute", user="alice", json_body={"operation": "Divide", "a": 1, "b": 0}
    )
    assert status == 200 and outputs == {"result": [float("inf")]}


def test_execute_errors_are_404_and_422_with_the_failing_fields(api):
    api.request("POST", "/api/auth/user", user="alice")
    status, body = api.request(
        "POST", "/api/blocks/00000000-0000-0000-0000-000000000000/execute", user="alice", json_body={}
    )
    assert status == 404
    status, body = api.request(
        "POST", f"/api/blocks/{CALC}/execute", user="alice", json_body={"operation": "Modulo", "a": 1, "b": 2}
    )
    assert status == 422 and "operation" in body["detail"]["errors"]
    status, body = api.request("POST", f"/api/blocks/{CALC}/execute", user="alice", json_body=[1, 2])
    assert status == 422


@pytest.fixture()
def priced_calculator(monkeypatch):
    block = get_block(CALC)
    monkeypatch.setattr(type(block), "costs", [BlockCost(cost_amount=400)])
    return block


def test_execute_charges_the_block_cost_and_402_when_short(api, priced_calculator):
    api.request("POST", "/api/auth/user", user="alice")  # 1000 sign-up credits
    body = {"operation": "Add", "a": 1, "b": 2}
    for _ in range(2):
        assert api.request("POST", f"/api/blocks/{CALC}/execute", user="alice", json_body=body)[0] == 200
    assert api.request("GET", "/api/credits", user="alice") == (200, {"credits": 200})
    status, error = api.request("POST", f"/api/blocks/{CALC}/execute", user="alice", json_body=body)
    assert status == 402 and "Insufficient balance" in error["detail"]
    assert api.request("GET", "/api/credits", user="alice") == (200, {"credits": 200})
    # An Idempotency-Key makes a retried request charge once.
    headers = {"idempotency-key": "retry-1"}
    api.request(
        "POST", "/api/credits/admin/add_credits", user="root", admin=True, json_body={"user_id": "alice", "amount": 800}
    )
    for _ in range(2):
        assert (
            api.request("POST", f"/api/blocks/{CALC}/execute", user="alice", json_body=body, headers=headers)[0] == 200
        )
    assert api.request("GET", "/api/credits", user="alice") == (200, {"credits": 600})


def _key(api, user: str, permissions: list[str]) -> str:
    status, created = api.request(
        "POST", "/api/api-keys", user=user, json_body={"name": "k", "permissions": permissions}
    )
    assert status == 200
    return created["plain_text_key"]


def test_external_api_blocks_and_graphs_with_permissions(api):
    import json
    from pathlib import Path

    api.request("POST", "/api/auth/user", user="alice")
    reader = _key(api, "alice", ["READ_BLOCK"])
    runner = _key(api, "alice", ["EXECUTE_BLOCK", "WRITE_GRAPH"])
    status, blocks = api.request("GET", "/external-api/v1/blocks", headers={"x-api-key": reader})
    assert status == 200 and len(blocks) >= 35
    assert api.request("GET", "/external-api/v1/blocks", headers={"x-api-key": runner})[0] == 403
    status, outputs = api.request(
        "POST",
        f"/external-api/v1/blocks/{CALC}/execute",
        headers={"x-api-key": runner},
        json_body={"operation": "Subtract", "a": 5, "b": 3},
    )
    assert status == 200 and outputs == {"result": [2]}
    assert (
        api.request(
            "POST",
            f"/external-api/v1/blocks/{CALC}/execute",
            headers={"x-api-key": reader},
            json_body={"operation": "Add", "a": 1, "b": 1},
        )[0]
        == 403
    )
    graph = json.loads((Path(__file__).resolve().parents[2] / "examples" / "calculator.json").read_text())
    status, created = api.request(
        "POST", "/external-api/v1/graphs", headers={"x-api-key": runner}, json_body={"graph": graph}
    )
    assert status == 200 and created["user_id"] == "alice"
    assert (
        api.request("POST", "/external-api/v1/graphs", headers={"x-api-key": reader}, json_body={"graph": graph})[0]
        == 403
    )
    assert [g["id"] for g in api.request("GET", "/api/graphs", user="alice")[1]] == [created["id"]]
