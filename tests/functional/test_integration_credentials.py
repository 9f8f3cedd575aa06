"""The integration-block framework: the `credentials` kwarg (the user's stored key, else the
platform's key of the provider, else none) and a loopback FakeService with its endpoint
environment, through the real node runner and the users table on moto."""

from __future__ import annotations

import httpx
import pytest

from localcloud.fakes import FakeService, Reply, Request
from stratus.blocks.credentials import APIKeyCredentials, MissingCredentials, require_credentials
from stratus.blocks.endpoints import ServiceEndpoint
from stratus.executions.node_runner import integration_credentials
from stratus.integrations.credentials import SYSTEM_CREDENTIALS

ECHO = ServiceEndpoint("framework_echo", "https://echo.invalid")


class _EchoFake(FakeService):
    name = "echo"
    endpoints = {"framework_echo": "/echo"}

    def handle(self, request: Request) -> Reply:
        if request.bearer() != "k-123":
            return Reply(401, {"error": "bad key"})
        return Reply(200, {"path": request.path, "q": request.arg("q")})


def _stored(api, provider: str, key: str) -> dict:
    body = {"type": "api_key", "title": "mine", "api_key": key}
    status, created = api.request("POST", f"/api/integrations/{provider}/credentials", user="alice", json_body=body)
    assert status == 201, created
    return {k: created[k] for k in ("id", "provider", "type", "title")}


def test_the_users_stored_key_is_opened_for_the_block(api):
    api.request("POST", "/api/auth/user", user="alice")
    ref = _stored(api, "jina", "jina-secret-1")
    resolved = integration_credentials("alice", ref, "jina", None)
    assert isinstance(resolved, APIKeyCredentials)
    assert resolved.id == ref["id"] and resolved.provider == "jina"
    assert resolved.api_key.get_secret_value() == "jina-secret-1" and "jina-secret-1" not in repr(resolved)


def test_without_credentials_the_platform_key_is_autogpts_system_credentials(monkeypatch):
    monkeypatch.delenv("JINA_API_KEY", raising=False)
    assert integration_credentials("alice", None, "jina", None) is None
    with pytest.raises(MissingCredentials, match="No credentials for jina"):
        require_credentials(None, "jina")
    monkeypatch.setenv("JINA_API_KEY", "platform-jina")
    resolved = integration_credentials("alice", None, "jina", None)
    assert resolved.api_key.get_secret_value() == "platform-jina"
    assert SYSTEM_CREDENTIALS[resolved.id] == "jina"  # AutoGPT's "Use Credits for Jina" id


def test_a_fake_serves_its_endpoint_and_checks_the_key(monkeypatch):
    fake = _EchoFake().start()
    try:
        environment = fake.environment()
        assert environment == {"FRAMEWORK_ECHO_BASE_URL": fake.url + "/echo"}
        assert ECHO.url() == "https://echo.invalid"
        monkeypatch.setenv("FRAMEWORK_ECHO_BASE_URL", environment["FRAMEWORK_ECHO_BASE_URL"] + "/")
        assert ECHO.url() == fake.url + "/echo"
        good = httpx.get(ECHO.url() + "/x", params={"q": "hi"}, headers={"Authorization": "Bearer k-123"})
        assert good.status_code == 200 and good.json() == {"path": "/echo/x", "q": "hi"}
        assert httpx.get(ECHO.url() + "/x").status_code == 401
        assert [r.path for r in fake.requests] == ["/echo/x", "/echo/x"]
        fake.reset()
        assert fake.requests == []
    finally:
        fake.stop()
    monkeypatch.setenv("FRAMEWORK_ECHO_BASE_URL", "ftp://nope")
    with pytest.raises(ValueError, match="FRAMEWORK_ECHO_BASE_URL"):
        ECHO.url()
