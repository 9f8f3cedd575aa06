"""User-stored endpoints (model base_url, MCP server urls) are checked when saved: 422, nothing written."""

from __future__ import annotations

import pytest

METADATA_URLS = [
    "http://169.254.169.254/v1",
    "http://[::ffff:169.254.169.254]/v1",
    "http://127.0.0.1:8000/v1",
    "http://0.0.0.0:8000/v1",
    "http://[64:ff9b::a9fe:a9fe]/v1",
]


@pytest.mark.parametrize("url", METADATA_URLS)
def test_a_model_config_base_url_on_a_non_public_address_is_422(api, url: str) -> None:
    body = {"name": "m", "base_url": url, "api_key": "sk-user-secret", "model": "gpt-4o-mini"}
    status, answer = api.request("POST", "/api/mag/models", user="alice", json_body=body)
    assert status == 422 and "base_url" in answer["detail"] and "public addresses only" in answer["detail"]
    assert api.request("GET", "/api/mag/models", user="alice")[1] == []


def test_a_model_config_update_is_checked_too(api) -> None:
    body = {"name": "m", "base_url": "https://api.example.com/v1", "api_key": "sk-user-secret", "model": "x"}
    assert api.request("POST", "/api/mag/models", user="alice", json_body=body)[0] == 201
    status, _ = api.request(
        "PUT", "/api/mag/models/m", user="alice", json_body={**body, "base_url": "http://169.254.169.254/"}
    )
    assert status == 422
    [stored] = api.request("GET", "/api/mag/models", user="alice")[1]
    assert stored["base_url"] == "https://api.example.com/v1"


@pytest.mark.parametrize("url", METADATA_URLS)
def test_an_mcp_server_url_on_a_non_public_address_is_422(api, url: str) -> None:
    body = {"mcpServers": {"meta": {"transportType": "streamable_http", "url": url}}}
    status, answer = api.request("PUT", "/api/mag/mcp", user="alice", json_body=body)
    assert status == 422 and "MCP server 'meta' url" in answer["detail"]
    assert api.request("GET", "/api/mag/mcp", user="alice")[1]["mcpServers"] == {}
