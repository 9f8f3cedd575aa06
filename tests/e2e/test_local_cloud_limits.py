"""Input limits through the local cloud: a 1 MB graph input runs to COMPLETED by reference and
reads back whole; a too-deep input and an oversized body are refused with nothing stored."""

from __future__ import annotations

import httpx

from stratus.payload_limits import MAX_REQUEST_BYTES
from tests.e2e.conftest import auth, wait_final
from tests.functional.test_input_limits import echo_graph, nested


def _meta_count(cloud, user: str) -> int:
    response = cloud.client("dynamodb").query(
        TableName="ExecutionsTable",
        IndexName="ByUser",
        KeyConditionExpression="GSI1PK = :pk",
        ExpressionAttributeValues={":pk": {"S": f"USER#{user}"}},
        Select="COUNT",
    )
    return response["Count"]


def test_a_one_megabyte_input_runs_and_oversized_or_deep_inputs_are_refused(cloud):
    user = "limits-alice"
    big = "m" * 1_000_000
    with httpx.Client(base_url=cloud.http, timeout=60) as http:
        http.post("/api/auth/user", headers=auth(user))
        graph = http.post("/api/graphs", headers=auth(user), json={"graph": echo_graph()}).json()
        path = f"/api/graphs/{graph['id']}/execute/1"

        deep = http.post(path, headers=auth(user), json={"inputs": {"text": nested(200)}})
        assert deep.status_code == 422 and deep.json()["detail"].startswith("inputs.text.a.a"), deep.text
        oversized = http.post(
            path,
            headers={**auth(user), "content-type": "application/json"},
            content=b'{"inputs": {"text": "' + b"x" * MAX_REQUEST_BYTES + b'"}}',
        )
        assert oversized.status_code == 413 and str(MAX_REQUEST_BYTES) in oversized.json()["detail"]
        assert _meta_count(cloud, user) == 0

        started = http.post(path, headers=auth(user), json={"inputs": {"text": big}})
        assert started.status_code == 200, started.text[:500]
        final = wait_final(cloud, started.json()["id"], timeout=90)
        assert final["status"] == "COMPLETED" and set(final["inputs"]["text"]) == {"$s3"}
        read = http.get(f"/api/graphs/{graph['id']}/executions/{final['id']}", headers=auth(user))
        assert read.status_code == 200
        assert read.json()["inputs"]["text"] == big and read.json()["outputs"]["echo"] == [big]
