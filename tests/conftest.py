"""Shared fixtures: moto in-process with the template's resources, and handler invocation."""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent

TEST_JWT_SECRET = "test-secret-for-stratus-unit-tests-0123456789"
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_NAMESPACE": "StratusTest",
        "POWERTOOLS_SERVICE_NAME": "stratus-tests",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
        "USERS_TABLE": "UsersTable",
        "SIGNUP_CREDITS": "1000",
        "JWT_VERIFY_KEY": TEST_JWT_SECRET,
        "GRAPHS_TABLE": "GraphsTable",
        "EXECUTIONS_TABLE": "ExecutionsTable",
        "VALUES_BUCKET": "stratus-valuesbucket",
        "BLOCK_FUNCTION_CORE_ARN": "arn:aws:lambda:us-east-1:123456789012:function:BlockCoreFunction",
        "BLOCK_FUNCTION_AI_ARN": "arn:aws:lambda:us-east-1:123456789012:function:BlockAiFunction",
        "BLOCK_FUNCTION_INTEGRATIONS_ARN": "arn:aws:lambda:us-east-1:123456789012:function:BlockIntegrationsFunction",
        "CREDENTIALS_KEY_ID": "alias/CredentialsKey",  # what the local Stack's !Ref CredentialsKey gives
        "STORE_TABLE": "StoreTable",
        "CONNECTIONS_TABLE": "ConnectionsTable",
    }
)
# Every function validates its settings when its app.py is imported (stratus.config.require):
# the variables no test above gives a real value get one that passes validation. A test that
# needs a real one sets it (monkeypatch.setenv); the e2e tier's local cloud gives each function
# its template's values instead.
COLD_START_PLACEHOLDERS = {
    "GRAPH_EXECUTION_STATE_MACHINE_ARN": "arn:aws:states:us-east-1:123456789012:stateMachine:placeholder",
    "SCHEDULE_GROUP": "placeholder-schedule-group",
    "SCHEDULED_RUN_FUNCTION_ARN": "arn:aws:lambda:us-east-1:123456789012:function:placeholder",
    "SCHEDULER_ROLE_ARN": "arn:aws:iam::123456789012:role/placeholder",
    "WEBSOCKET_MANAGEMENT_ENDPOINT": "http://127.0.0.1:9/placeholder",  # nothing listens on port 9
}
for _name, _value in COLD_START_PLACEHOLDERS.items():
    os.environ.setdefault(_name, _value)
os.environ.pop("AWS_ENDPOINT_URL", None)

from localcloud import moto_fidelity  # noqa: E402
from localcloud.apigw import HttpRouter, http_event  # noqa: E402
from localcloud.lambda_runner import LambdaRunner  # noqa: E402
from localcloud.provision import create_buckets, create_kms_keys, create_tables  # noqa: E402
from localcloud.stack import Stack  # noqa: E402
from stratus.config import reset_settings  # noqa: E402

moto_fidelity.apply()


def _settings_follow(method):
    """Settings are read once per container; a test that changes the environment through
    monkeypatch (set, delete, and the undo at its end) reads them again."""

    def changed(self, *args, **kwargs):
        result = method(self, *args, **kwargs)
        reset_settings()
        return result

    return changed


pytest.MonkeyPatch.setenv = _settings_follow(pytest.MonkeyPatch.setenv)  # type: ignore[method-assign]
pytest.MonkeyPatch.delenv = _settings_follow(pytest.MonkeyPatch.delenv)  # type: ignore[method-assign]
pytest.MonkeyPatch.undo = _settings_follow(pytest.MonkeyPatch.undo)  # type: ignore[method-assign]


@pytest.fixture(autouse=True)
def _fresh_settings() -> Iterator[None]:
    reset_settings()
    yield
    reset_settings()


@pytest.fixture(scope="session")
def stack() -> Stack:
    return Stack(ROOT / "template.yaml")


@pytest.fixture()
def aws(stack: Stack):
    """A fresh moto account with the template's tables, buckets and KMS keys (the functional
    tier overrides this with one shared account: tests/functional/conftest.py)."""
    with moto_account(stack):
        yield


@contextlib.contextmanager
def moto_account(stack: Stack) -> Iterator[None]:
    """A new moto account holding the template's tables, buckets and KMS keys."""
    from moto import mock_aws

    from stratus.aws import client
    from stratus.store import cache as store_cache

    client.cache_clear()
    store_cache.invalidate()  # the in-Lambda store cache must not outlive a moto account
    with mock_aws():
        create_tables(stack, client("dynamodb"))
        create_buckets(stack, client("s3"))
        create_kms_keys(stack, client("kms"))
        yield
    client.cache_clear()


def token(user_id: str, email: str | None = None, admin: bool = False, **kwargs: Any) -> str:
    from stratus.auth.jwt_tokens import issue_token

    return issue_token(TEST_JWT_SECRET, user_id, email=email, admin=admin, **kwargs)


class Api:
    """Calls a template function's handler with API Gateway v2 events, like the gateway does."""

    def __init__(self, stack: Stack):
        functions = stack.functions()
        # Keep the test settings (local key, table names) over the template's AWS wiring.
        for spec in functions.values():
            spec.environment = {k: v for k, v in spec.environment.items() if k.startswith("POWERTOOLS_SERVICE")}
        self.runner = LambdaRunner(functions)
        self.router = HttpRouter(stack.http_routes())

    def request(
        self,
        method: str,
        path: str,
        *,
        user: str | None = None,
        admin: bool = False,
        email: str | None = None,
        headers: dict[str, str] | None = None,
        json_body: Any = None,
        raw_body: bytes | None = None,
        query: str = "",
    ) -> tuple[int, Any]:
        all_headers = {"content-type": "application/json", **(headers or {})}
        if user:
            all_headers["authorization"] = f"Bearer {token(user, email=email, admin=admin)}"
        body = raw_body if raw_body is not None else (json.dumps(json_body).encode() if json_body is not None else b"")
        matched = self.router.match(method, path)
        assert matched, f"no route for {method} {path}"
        route_key, function, params = matched
        event = http_event(method, path, route_key, all_headers, query, body, params)
        result = self.runner.invoke(function, event)
        assert not result.errored, result.payload
        response = result.payload
        text = response.get("body") or ""
        try:
            return response["statusCode"], json.loads(text) if text else None
        except json.JSONDecodeError:
            return response["statusCode"], text


@pytest.fixture(scope="session")
def _api(stack: Stack) -> Api:
    return Api(stack)


@pytest.fixture()
def api(aws, _api: Api) -> Api:
    return _api


class FakeManagementApi:
    """API Gateway's @connections endpoint at the true edge: records posts, 410 for gone ids."""

    def __init__(self):
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.live: set[str] = set()
        self.posted: list[tuple[str, str]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                connection_id = self.path.rsplit("/", 1)[-1]
                body = self.rfile.read(int(self.headers.get("content-length") or 0)).decode()
                if connection_id not in fake.live:
                    payload = b'{"message": "GoneException"}'
                    self.send_response(410)
                    self.send_header("x-amzn-ErrorType", "GoneException")
                else:
                    fake.posted.append((connection_id, body))
                    payload = b""
                    self.send_response(200)
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/ws"
        # A short poll: shutdown() waits for it, once per test that uses the fake.
        threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True).start()

    def messages(self, connection_id: str) -> list[dict]:
        return [json.loads(body) for cid, body in self.posted if cid == connection_id]


@pytest.fixture()
def management(monkeypatch):
    fake = FakeManagementApi()
    monkeypatch.setenv("WEBSOCKET_MANAGEMENT_ENDPOINT", fake.url)
    yield fake
    fake.server.shutdown()


@contextlib.contextmanager
def serve_echo() -> Iterator[str]:
    """An HTTP service at the true edge, on loopback: POST answers {"path", "echo": <JSON body>};
    yields its URL, allowed through the egress policy while it runs."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            payload = json.dumps({"path": self.path, "echo": json.loads(body or b"null")}).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        with allowed_egress(url):
            yield url
    finally:
        server.shutdown()


@pytest.fixture(scope="session")
def echo_server():
    with serve_echo() as url:
        yield url


def wait_for_state_machine(state_machine_arn: str, graph_exec_id: str, timeout: float = 30) -> dict:
    """describe_execution of a graph execution's state machine run once it is no longer RUNNING."""
    import time

    from stratus.aws import client

    arn = state_machine_arn.replace(":stateMachine:", ":execution:") + f":{graph_exec_id}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        described = client("stepfunctions").describe_execution(executionArn=arn)
        if described["status"] != "RUNNING":
            return described
        time.sleep(0.05)
    raise AssertionError("state machine still running")


@contextlib.contextmanager
def allowed_egress(*urls: str) -> Iterator[None]:
    """EGRESS_ALLOW_LIST opened for these loopback fakes (host:port each) while the block runs,
    as the local cloud opens it for its own fakes; everything else stays refused. On exit only
    these entries go (fixtures of other scopes may have added theirs meanwhile)."""
    from urllib.parse import urlsplit

    added = [urlsplit(url).netloc for url in urls]
    entries = [entry for entry in os.environ.get("EGRESS_ALLOW_LIST", "").split(",") if entry]
    os.environ["EGRESS_ALLOW_LIST"] = ",".join([*entries, *added])
    reset_settings()
    try:
        yield
    finally:
        remaining = [entry for entry in os.environ.get("EGRESS_ALLOW_LIST", "").split(",") if entry]
        for entry in added:
            if entry in remaining:
                remaining.remove(entry)
        if remaining:
            os.environ["EGRESS_ALLOW_LIST"] = ",".join(remaining)
        else:
            os.environ.pop("EGRESS_ALLOW_LIST", None)
        reset_settings()


@pytest.fixture(scope="module")
def model_server() -> Iterator[Any]:
    """The loopback model server (localcloud.fake_openai: OpenAI chat completions and Anthropic
    messages), egress opened for it, one per test module."""
    from localcloud.fake_openai import FakeOpenAI

    server = FakeOpenAI().start()
    with allowed_egress(server.url):
        yield server
    server.stop()


@pytest.fixture(scope="session")
def service_fakes() -> Iterator[Any]:
    """Every outside-service fake of localcloud.fakes, started once, the blocks' base URLs
    pointed at them and egress opened for them (as the local cloud does). Reset per use:
    `service_fakes.reset()`; one fake: `service_fakes[FakeJina]`."""
    from localcloud.fakes import start_fakes

    fakes = start_fakes()
    environment = fakes.environment()
    saved = {name: os.environ.get(name) for name in environment}
    os.environ.update(environment)
    with allowed_egress(*(service.url for service in fakes.services)):
        yield fakes
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    fakes.stop()


@pytest.fixture()
def fake(model_server: Any) -> Any:
    """The module's model server with its recorded requests and directives cleared."""
    model_server.reset()
    return model_server


@contextlib.contextmanager
def recorded_calls(service: str) -> Iterator[list[str]]:
    """The operations the code under test sends to one AWS service, in order."""
    from stratus.aws import client

    calls: list[str] = []

    def count(event_name, **kwargs):
        calls.append(event_name.split(".")[-1])

    events = client(service).meta.events
    events.register(f"before-call.{service}", count)
    try:
        yield calls
    finally:
        events.unregister(f"before-call.{service}", count)


@pytest.fixture()
def dynamodb_calls():
    """The DynamoDB operations the code under test sends, in order (access-pattern budgets)."""
    with recorded_calls("dynamodb") as calls:
        yield calls


_TIERS = ("unit", "functional", "e2e")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Each test is marked with its tier, the folder it lives in (`make unit|functional|e2e`)."""
    for item in items:
        tier = next((part for part in Path(item.fspath).relative_to(ROOT / "tests").parts if part in _TIERS), None)
        if tier:
            item.add_marker(getattr(pytest.mark, tier))
