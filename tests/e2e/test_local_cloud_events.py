"""Event sources, real ASL on moto, timeouts and restarts, on a fixture template and the real one."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.e2e.conftest import ROOT, CloudProcess, auth, wait_for

FIXTURE = ROOT / "tests" / "fixtures" / "eventsources" / "template.yaml"


@pytest.fixture(scope="module")
def fixture_cloud(tmp_path_factory):
    process = CloudProcess(tmp_path_factory.mktemp("fixture-state"), template=FIXTURE).start()
    yield process
    process.stop()


def _recorded(cloud, kind: str) -> list[dict]:
    items = cloud.client("dynamodb").scan(TableName="EventsTable")["Items"]
    items.sort(key=lambda item: int(item["at"]["N"]))  # delivery order
    return [json.loads(i["payload"]["S"]) for i in items if i["kind"]["S"] == kind]


def test_stream_records_reach_the_function_in_batches(fixture_cloud):
    dynamodb = fixture_cloud.client("dynamodb")
    for n in range(3):
        dynamodb.put_item(TableName="SourceTable", Item={"id": {"S": f"item-{n}"}})
    dynamodb.delete_item(TableName="SourceTable", Key={"id": {"S": "item-0"}})

    def delivered():
        keys = [
            (k, name) for batch in _recorded(fixture_cloud, "stream") for k, name in zip(batch["keys"], batch["names"])
        ]
        return keys if len(keys) >= 4 else None

    keys = wait_for(delivered)
    assert keys == [("item-0", "INSERT"), ("item-1", "INSERT"), ("item-2", "INSERT"), ("item-0", "REMOVE")]


def test_a_record_that_always_fails_is_skipped_and_the_rest_are_delivered(fixture_cloud):
    dynamodb = fixture_cloud.client("dynamodb")
    for key in ("before-poison", "poison-1", "after-poison"):
        dynamodb.put_item(TableName="SourceTable", Item={"id": {"S": key}})

    def delivered():
        keys = [k for batch in _recorded(fixture_cloud, "stream") for k in batch["keys"]]
        return keys if "after-poison" in keys else None

    keys = wait_for(delivered)
    # Bisected down to the poison record, which alone is retried once and skipped.
    assert keys.index("before-poison") < keys.index("after-poison") and "poison-1" not in keys
    dynamodb.put_item(TableName="SourceTable", Item={"id": {"S": "later"}})
    assert wait_for(lambda: "later" in [k for b in _recorded(fixture_cloud, "stream") for k in b["keys"]])


def test_state_machine_runs_real_asl_with_in_process_lambda_and_emits_status(fixture_cloud):
    sfn = fixture_cloud.client("stepfunctions")
    machine = sfn.list_state_machines()["stateMachines"][0]["stateMachineArn"]
    execution = sfn.start_execution(stateMachineArn=machine, name="echo-1", input=json.dumps({"n": 7}))

    def finished():
        described = sfn.describe_execution(executionArn=execution["executionArn"])
        return described if described["status"] != "RUNNING" else None

    described = wait_for(finished, timeout=30)
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"]) == {"echo": {"n": 7}, "function": "EchoFunction"}
    statuses = wait_for(lambda: [s for s in _recorded(fixture_cloud, "status") if s["name"] == "echo-1"])
    assert statuses == [{"status": "SUCCEEDED", "name": "echo-1"}]


def test_function_timeout_is_enforced(fixture_cloud):
    client = fixture_cloud.client("lambda")
    response = client.invoke(FunctionName="SlowFunction", Payload=b"{}")
    assert response.get("FunctionError")
    assert "timed out" in json.loads(response["Payload"].read())["errorMessage"]


def test_restart_keeps_users_and_keys(tmp_path, monkeypatch):
    first = CloudProcess(tmp_path / "state").start()
    try:
        with httpx.Client(base_url=first.http, timeout=30) as http:
            http.post("/api/auth/user", headers=auth("durable"))
            http.post("/api/auth/user/timezone", headers=auth("durable"), json={"timezone": "Asia/Tokyo"})
            key = http.post(
                "/api/api-keys", headers=auth("durable"), json={"name": "keep", "permissions": ["IDENTITY"]}
            ).json()["plain_text_key"]
            sealed = http.post(
                "/api/integrations/openai/credentials",
                headers=auth("durable"),
                json={"type": "api_key", "title": "kept", "api_key": DURABLE_SECRET},
            )
            assert sealed.status_code == 201, sealed.text
        local_key = first.client("kms").describe_key(KeyId="alias/CredentialsKey")["KeyMetadata"]["KeyId"]
    finally:
        first.stop()
    assert (tmp_path / "state" / "snapshot.json").exists()
    second = CloudProcess(tmp_path / "state").start()
    try:
        with httpx.Client(base_url=second.http, timeout=30) as http:
            assert http.get("/api/auth/user/timezone", headers=auth("durable")).json() == {"timezone": "Asia/Tokyo"}
            assert http.get("/api/credits", headers=auth("durable")).json() == {"credits": 1000}
            me = http.get("/external-api/v1/me", headers={"X-API-Key": key})
            assert me.status_code == 200 and me.json()["user_id"] == "durable"
        # The local KMS key came back (same id, same material): sealed credentials still open,
        # as a block Lambda of this cloud opens them at run time.
        assert second.client("kms").describe_key(KeyId="alias/CredentialsKey")["KeyMetadata"]["KeyId"] == local_key
        assert _resolve_against(second, monkeypatch, "durable", sealed.json()["id"]) == DURABLE_SECRET
    finally:
        second.stop()


DURABLE_SECRET = "sk-durable-0123456789abcdef0123456789"


def _resolve_against(cloud, monkeypatch, user_id: str, credentials_id: str) -> str | None:
    from stratus.aws import client
    from stratus.integrations import secrets
    from stratus.integrations.credentials import resolve_api_key

    with monkeypatch.context() as patched:
        patched.setenv("AWS_ENDPOINT_URL", cloud.aws)
        patched.setenv("AWS_ACCESS_KEY_ID", "local")
        patched.setenv("AWS_SECRET_ACCESS_KEY", "local")
        client.cache_clear()
        secrets.clear_cache()
        try:
            return resolve_api_key(user_id, {"id": credentials_id, "provider": "openai"})
        finally:
            client.cache_clear()
            secrets.clear_cache()
