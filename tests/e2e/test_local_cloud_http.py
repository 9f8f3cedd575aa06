"""The local cloud over real HTTP on loopback: routing, events, errors, invoke."""

from __future__ import annotations

import json
import subprocess
import sys

import httpx

from localcloud.sample_events import EVENTS_DIR, all_samples
from localcloud.stack import Stack
from tests.e2e.conftest import ROOT, auth


def test_user_flow_through_the_gateway(cloud):
    with httpx.Client(base_url=cloud.http, timeout=30) as http:
        response = http.post("/api/auth/user", headers=auth("e2e-alice"))
        assert response.status_code == 200 and response.json()["id"] == "e2e-alice"
        assert http.get("/api/credits", headers=auth("e2e-alice")).json() == {"credits": 1000}
        created = http.post(
            "/api/api-keys", headers=auth("e2e-alice"), json={"name": "cli", "permissions": ["IDENTITY"]}
        ).json()
        me = http.get("/external-api/v1/me", headers={"X-API-Key": created["plain_text_key"]})
        assert me.status_code == 200 and me.json()["user_id"] == "e2e-alice"


def test_query_strings_path_parameters_and_errors(cloud):
    with httpx.Client(base_url=cloud.http, timeout=30) as http:
        http.post("/api/auth/user", headers=auth("e2e-bob"))
        page = http.get("/api/credits/transactions", params={"transaction_count_limit": 1}, headers=auth("e2e-bob"))
        assert page.status_code == 200 and len(page.json()["transactions"]) == 1
        missing = http.get("/api/api-keys/does-not-exist", headers=auth("e2e-bob"))
        assert missing.status_code == 404 and "not found" in missing.json()["detail"]
        assert http.get("/api/credits").status_code == 401
        bad = http.post(
            "/api/auth/user/timezone",
            headers={**auth("e2e-bob"), "content-type": "application/json"},
            content=b"{broken",
        )
        assert bad.status_code == 422
        assert http.get("/no/such/route").status_code == 404
        assert http.get("/api/openapi.json").json()["info"]["title"] == "Stratus users"


def test_binary_body_reaches_the_function_base64_encoded(cloud):
    with httpx.Client(base_url=cloud.http, timeout=30) as http:
        response = http.post(
            "/api/auth/user/timezone",
            headers={**auth("e2e-carol"), "content-type": "application/octet-stream"},
            content=bytes(range(256)),
        )
        # FastAPI receives the decoded bytes and rejects them as a JSON body: a 422, not a 500.
        assert response.status_code == 422


def test_invoke_every_sample_event_against_the_running_cloud(cloud):
    stack = Stack(ROOT / "template.yaml")
    samples = all_samples(stack.http_routes())
    assert {function for function, _ in samples.values()} == set(stack.functions())
    for name, (function, _) in samples.items():
        completed = subprocess.run(
            [
                sys.executable,
                "-m",
                "localcloud.invoke",
                function,
                "--event",
                str(EVENTS_DIR / f"{name}.json"),
                "--state-dir",
                str(cloud.state_dir),
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert completed.returncode == 0, (name, completed.stdout, completed.stderr)
        result = json.loads(completed.stdout)
        if "requestContext" in json.loads((EVENTS_DIR / f"{name}.json").read_text()):  # API events only
            assert result["statusCode"] == 200, (name, result)
