"""Integration credentials and MAG model configs through the handler: sealed at rest, never
returned or logged, scoped to their owner, and resolved for blocks at run time."""

from __future__ import annotations

import json
import logging
import time

import pytest

from stratus.config import TablesSettings, get_settings
from stratus.db.dynamo import Table
from stratus.errors import NotFound, Unprocessable
from stratus.integrations import model_configs
from stratus.integrations.credentials import resolve_api_key
from stratus.mag.models import ModelConfig

SECRET = "sk-test-5f3a9c1e7b2d4a6f8e0c1b3d5a7f9e2c"
MODEL_SECRET = "sk-model-0a1b2c3d4e5f6a7b8c9d0e1f2a3b"


def _create(api, user="alice", provider="openai", **fields):
    body = {"type": "api_key", "title": "My OpenAI key", "api_key": SECRET, **fields}
    status, created = api.request("POST", f"/api/integrations/{provider}/credentials", user=user, json_body=body)
    assert status == 201, created
    return created


def _stored_items(user: str) -> list[dict]:
    # The raw partition: what is at rest, whatever the repository shows.
    items, _ = Table(get_settings(TablesSettings).users_table).query(
        "PK = :pk", {":pk": f"USER#{user}"}, consistent=True
    )
    return items


def test_create_list_get_delete_never_show_the_key(api):
    created = _create(api)
    assert created["provider"] == "openai" and created["type"] == "api_key"
    assert created["title"] == "My OpenAI key" and created["hint"] == "sk-...9e2c"
    responses = [created]
    status, listed = api.request("GET", "/api/integrations/credentials", user="alice")
    assert status == 200 and [c["id"] for c in listed] == [created["id"]]
    responses.append(listed)
    status, by_provider = api.request("GET", "/api/integrations/openai/credentials", user="alice")
    assert status == 200 and by_provider == listed
    assert api.request("GET", "/api/integrations/anthropic/credentials", user="alice") == (200, [])
    status, got = api.request("GET", f"/api/integrations/openai/credentials/{created['id']}", user="alice")
    assert status == 200 and got == created
    responses.append(got)
    assert SECRET not in json.dumps(responses) and SECRET[6:-4] not in json.dumps(responses)
    assert not any(SECRET in str(item) for item in _stored_items("alice"))  # sealed at rest
    status, deleted = api.request("DELETE", f"/api/integrations/openai/credentials/{created['id']}", user="alice")
    assert (status, deleted) == (200, {"deleted": True})
    assert api.request("GET", "/api/integrations/credentials", user="alice") == (200, [])
    assert api.request("GET", f"/api/integrations/openai/credentials/{created['id']}", user="alice")[0] == 404


def test_another_users_id_or_another_provider_is_not_found(api):
    created = _create(api)
    path = f"/api/integrations/openai/credentials/{created['id']}"
    assert api.request("GET", path, user="mallory")[0] == 404
    assert api.request("DELETE", path, user="mallory")[0] == 404
    assert api.request("GET", "/api/integrations/credentials", user="mallory") == (200, [])
    assert api.request("GET", f"/api/integrations/anthropic/credentials/{created['id']}", user="alice")[0] == 404
    assert api.request("DELETE", f"/api/integrations/anthropic/credentials/{created['id']}", user="alice")[0] == 404
    assert api.request("GET", path, user="alice")[0] == 200  # still there


@pytest.mark.parametrize(
    "provider, body, where",
    [
        ("openai", {"type": "oauth2", "api_key": SECRET}, "type"),
        ("openai", {"type": "api_key"}, "api_key"),
        ("openai", {"type": "api_key", "api_key": "   "}, "api_key"),
        ("openai", {"type": "api_key", "api_key": SECRET, "expires_at": -5}, "expires_at"),
        ("OpenAI", {"type": "api_key", "api_key": SECRET}, None),
        ("open.ai", {"type": "api_key", "api_key": SECRET}, None),
    ],
)
def test_bad_credentials_are_422_and_store_nothing(api, provider, body, where):
    status, answer = api.request("POST", f"/api/integrations/{provider}/credentials", user="alice", json_body=body)
    assert status == 422, answer
    if where:
        assert answer["detail"][0]["loc"][:2] == ["body", where]
    else:
        assert "provider" in answer["detail"]
    assert SECRET not in json.dumps(answer)
    assert _stored_items("alice") == []


def test_resolve_api_key_for_blocks(api):
    created = _create(api)
    meta = {"id": created["id"], "provider": "openai", "type": "api_key", "title": created["title"]}
    assert resolve_api_key("alice", meta) == SECRET
    assert resolve_api_key("alice", {"id": created["id"]}) == SECRET  # provider optional
    assert resolve_api_key("alice", None) is None
    assert resolve_api_key("alice", {}) is None
    assert resolve_api_key("alice", {"provider": "openai"}) is None
    with pytest.raises(NotFound):
        resolve_api_key("mallory", meta)
    with pytest.raises(NotFound):
        resolve_api_key("alice", {**meta, "provider": "anthropic"})
    with pytest.raises(NotFound):
        resolve_api_key("alice", {**meta, "id": "no-such-id"})


def test_expired_credentials_are_refused_at_run_time(api):
    created = _create(api, expires_at=int(time.time()) - 60)
    with pytest.raises(Unprocessable, match="expired"):
        resolve_api_key("alice", {"id": created["id"], "provider": "openai"})


def test_secrets_never_reach_the_logs(api, capsys, caplog):
    from stratus.observability import logger

    caplog.set_level(logging.DEBUG)
    previous = logger.log_level
    logger.setLevel("DEBUG")
    try:
        created = _create(api)
        resolve_api_key("alice", {"id": created["id"]})
        api.request(
            "POST",
            "/api/integrations/openai/credentials",
            user="alice",
            json_body={"type": "api_key", "api_key": SECRET, "expires_at": "soon"},
        )
        api.request(
            "POST",
            "/api/mag/models",
            user="alice",
            json_body={
                "name": "gpt",
                "base_url": "https://api.example.com/v1",
                "model": "gpt-4o-mini",
                "api_key": MODEL_SECRET,
            },
        )
        api.request(
            "POST",
            "/api/mag/models",
            user="alice",
            json_body={
                "name": "bad",
                "base_url": "https://api.example.com/v1",
                "model": "m",
                "api_key": MODEL_SECRET,
                "temperature": 9,
            },
        )
        model_configs.get_model_config("alice", "gpt")
    finally:
        logger.setLevel(previous)
    captured = capsys.readouterr()
    logged = captured.out + captured.err + caplog.text
    assert "Making request" in logged  # DEBUG capture on: botocore logged every request's params
    assert SECRET not in logged and MODEL_SECRET not in logged


# --- MAG model configs ------------------------------------------------------------------
def _model(**fields):
    return {
        "name": "deepseek",
        "base_url": "https://api.example.com/v1",
        "model": "deepseek-chat",
        "api_key": MODEL_SECRET,
        "temperature": 0.2,
        **fields,
    }


def test_model_configs_crud_with_masked_keys(api):
    status, created = api.request("POST", "/api/mag/models", user="alice", json_body=_model())
    assert status == 201 and created["api_key"] == "sk-...2a3b" and created["temperature"] == 0.2
    status, listed = api.request("GET", "/api/mag/models", user="alice")
    assert status == 200 and [m["name"] for m in listed] == ["deepseek"]
    status, got = api.request("GET", "/api/mag/models/deepseek", user="alice")
    assert status == 200 and got == created
    assert MODEL_SECRET not in json.dumps([created, listed, got])
    assert not any(MODEL_SECRET in str(item) for item in _stored_items("alice"))
    # The run-time view is decrypted.
    config = model_configs.get_model_config("alice", "deepseek")
    assert config.api_key == MODEL_SECRET and config.parameters() == {"temperature": 0.2}
    status, body = api.request("POST", "/api/mag/models", user="alice", json_body=_model(api_key="other"))
    assert status == 409 and "deepseek" in body["detail"]
    assert model_configs.get_model_config("alice", "deepseek").api_key == MODEL_SECRET
    status, deleted = api.request("DELETE", "/api/mag/models/deepseek", user="alice")
    assert (status, deleted) == (200, {"deleted": True})
    assert api.request("GET", "/api/mag/models/deepseek", user="alice")[0] == 404
    with pytest.raises(NotFound):
        model_configs.get_model_config("alice", "deepseek")


def test_update_keeps_the_key_unless_a_new_one_is_given(api):
    api.request("POST", "/api/mag/models", user="alice", json_body=_model())
    for kept in ({}, {"api_key": ""}, {"api_key": "sk-...2a3b"}):
        body = {k: v for k, v in _model(model="deepseek-reasoner", **kept).items() if k != "api_key" or kept}
        status, updated = api.request("PUT", "/api/mag/models/deepseek", user="alice", json_body=body)
        assert status == 200 and updated["model"] == "deepseek-reasoner", updated
        assert model_configs.get_model_config("alice", "deepseek").api_key == MODEL_SECRET
    status, updated = api.request(
        "PUT", "/api/mag/models/deepseek", user="alice", json_body=_model(api_key="sk-new-key-00000000000000000001")
    )
    assert status == 200 and updated["api_key"] == "sk-...0001"
    assert model_configs.get_model_config("alice", "deepseek").api_key == "sk-new-key-00000000000000000001"
    status, body = api.request("PUT", "/api/mag/models/deepseek", user="alice", json_body=_model(name="renamed"))
    assert status == 422 and "renaming" in body["detail"]
    assert api.request("PUT", "/api/mag/models/missing", user="alice", json_body=_model(name=None))[0] == 404


def test_model_configs_belong_to_their_user(api):
    api.request("POST", "/api/mag/models", user="alice", json_body=_model())
    assert api.request("GET", "/api/mag/models/deepseek", user="mallory")[0] == 404
    assert api.request("PUT", "/api/mag/models/deepseek", user="mallory", json_body=_model())[0] == 404
    assert api.request("DELETE", "/api/mag/models/deepseek", user="mallory")[0] == 404
    assert api.request("GET", "/api/mag/models", user="mallory") == (200, [])
    with pytest.raises(NotFound):
        model_configs.get_model_config("mallory", "deepseek")
    # Same name, another user: a separate config.
    assert api.request("POST", "/api/mag/models", user="mallory", json_body=_model(api_key=""))[0] == 201
    assert model_configs.get_model_config("mallory", "deepseek").api_key == ""
    assert model_configs.get_model_config("alice", "deepseek").api_key == MODEL_SECRET


@pytest.mark.parametrize(
    "body, where",
    [
        (_model(temperature=3), "temperature"),
        (_model(base_url=""), "base_url"),
        ({"name": "x", "base_url": "http://h/v1"}, "model"),
        (_model(name="a/b"), None),
        (_model(name=" padded"), None),
    ],
)
def test_bad_model_configs_are_422_and_store_nothing(api, body, where):
    status, answer = api.request("POST", "/api/mag/models", user="alice", json_body=body)
    assert status == 422, answer
    if where:
        assert answer["detail"][0]["loc"][:2] == ["body", where]
    else:
        assert "model name" in answer["detail"]
    assert MODEL_SECRET not in json.dumps(answer)
    assert _stored_items("alice") == []


def test_save_model_config_without_overwrite_keeps_the_existing_one(aws):
    config = ModelConfig(name="local", base_url="https://api.example.com/v1", model="m", api_key=MODEL_SECRET)
    assert model_configs.save_model_config("alice", config, overwrite=False) is True
    other = config.model_copy(update={"api_key": "sk-replaced", "model": "n"})
    assert model_configs.save_model_config("alice", other, overwrite=False) is False
    assert model_configs.get_model_config("alice", "local") == config
    assert model_configs.save_model_config("alice", other) is True
    assert model_configs.get_model_config("alice", "local") == other
    assert [m["api_key"] for m in model_configs.list_model_configs("alice")] == ["****"]
