"""End-to-end fixtures: the local cloud as a real process on free loopback ports."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from localcloud import discovery
from localcloud.settings import DEFAULT_JWT_SECRET
from stratus.auth.jwt_tokens import issue_token
from tests.conftest import COLD_START_PLACEHOLDERS

ROOT = Path(__file__).resolve().parents[2]
# The default local secret, so the committed events/ (signed with it) work against this cloud.
E2E_SECRET = DEFAULT_JWT_SECRET
READY = "Stratus local cloud ready: "


class CloudProcess:
    def __init__(
        self,
        state_dir: Path,
        template: Path | None = None,
        secret: str = E2E_SECRET,
        extra_env: dict[str, str] | None = None,
    ):
        self.state_dir = state_dir
        self.template = template
        self.secret = secret
        self.extra_env = extra_env or {}
        self.process: subprocess.Popen | None = None
        self.output: list[str] = []

    def start(self, timeout: float = 60) -> CloudProcess:
        args = [
            sys.executable,
            "-m",
            "localcloud",
            "--http-port",
            "0",
            "--ws-port",
            "0",
            "--state-dir",
            str(self.state_dir),
        ]
        if self.template:
            args += ["--template", str(self.template)]
        # Not the in-process tiers' settings: the cloud gives each function its template's values
        # (a placeholder would also reach the cloud's own code, which reads its environment).
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("AWS_", "JWT_", "USERS_", "MOTO_")) and k not in COLD_START_PLACEHOLDERS
        }
        env["STRATUS_JWT_SECRET"] = self.secret
        env.update(self.extra_env)
        self.process = subprocess.Popen(
            args, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        ready = threading.Event()

        def read() -> None:
            for line in self.process.stdout:  # type: ignore[union-attr]
                self.output.append(line)
                if line.startswith(READY):
                    urls = line[len(READY) :].split()
                    self.http, self.ws = urls[0], (urls[1] if len(urls) > 1 else "")
                    ready.set()

        threading.Thread(target=read, daemon=True).start()
        if not ready.wait(timeout):
            self.stop()
            raise RuntimeError("local cloud did not start:\n" + "".join(self.output))
        found = discovery.find(self.state_dir)
        self.aws, self.mcp = found["aws"], found.get("mcp", "")
        return self

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()

    def client(self, service: str):
        import boto3

        return boto3.client(
            service,
            endpoint_url=self.aws,
            region_name="us-east-1",
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )


def e2e_token(user_id: str, admin: bool = False) -> str:
    return issue_token(E2E_SECRET, user_id, email=f"{user_id}@example.com", admin=admin)


def auth(user_id: str, admin: bool = False) -> dict[str, str]:
    return {"Authorization": f"Bearer {e2e_token(user_id, admin)}"}


@pytest.fixture(scope="session")
def test_model():
    """A loopback model server of the tests' own (to inspect its requests), allowed by the cloud."""
    from localcloud.fake_openai import FakeOpenAI

    with FakeOpenAI() as server:
        yield server


@pytest.fixture(scope="session")
def cloud(tmp_path_factory, test_model):
    # Outbound requests go to the cloud's own fakes only; the tests' model server is allowed too.
    allowed = {"STRATUS_EGRESS_ALLOW_LIST": test_model.url.split("/")[2]}
    process = CloudProcess(tmp_path_factory.mktemp("cloud-state"), extra_env=allowed).start()
    yield process
    process.stop()


def run_to_end(cloud: CloudProcess, http, user: str, graph: dict, inputs: dict, timeout: float = 60) -> dict:
    """Upload a graph, execute it over HTTP, and wait for its final status in the table."""
    created = http.post("/api/graphs", headers=auth(user), json={"graph": graph})
    assert created.status_code == 200, created.text
    started = http.post(f"/api/graphs/{created.json()['id']}/execute/1", headers=auth(user), json={"inputs": inputs})
    assert started.status_code == 200, started.text
    return wait_final(cloud, started.json()["id"], timeout)


def wait_final(cloud: CloudProcess, graph_exec_id: str, timeout: float = 60) -> dict:
    from boto3.dynamodb.types import TypeDeserializer

    table = cloud.client("dynamodb")

    def final():
        item = table.get_item(
            TableName="ExecutionsTable", Key={"PK": {"S": f"GEXEC#{graph_exec_id}"}, "SK": {"S": "META"}}
        ).get("Item")
        if item and item["status"]["S"] in ("COMPLETED", "FAILED", "TERMINATED"):
            return {k: TypeDeserializer().deserialize(v) for k, v in item.items()}
        return None

    return wait_for(final, timeout=timeout, interval=0.1)


def node_items(cloud: CloudProcess, graph_exec_id: str) -> list[dict]:
    from boto3.dynamodb.types import TypeDeserializer

    response = cloud.client("dynamodb").query(
        TableName="ExecutionsTable",
        KeyConditionExpression="PK = :pk AND begins_with(SK, :node)",
        ExpressionAttributeValues={":pk": {"S": f"GEXEC#{graph_exec_id}"}, ":node": {"S": "NODE#"}},
    )
    return [{k: TypeDeserializer().deserialize(v) for k, v in i.items()} for i in response["Items"]]


def wait_for(predicate, timeout: float = 15, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("condition not met in time")


FINAL_STATUSES = ("COMPLETED", "FAILED", "TERMINATED")


async def events_until_final(socket, timeout: float = 60) -> list[dict]:
    """Every message on a subscribed WebSocket up to the execution's final graph_execution_event."""
    import asyncio

    messages = []
    while True:
        message = json.loads(await asyncio.wait_for(socket.recv(), timeout))
        messages.append(message)
        if message.get("method") == "graph_execution_event" and message["data"]["status"] in FINAL_STATUSES:
            return messages


def pretty(value) -> str:
    return json.dumps(value, indent=1, default=str)
