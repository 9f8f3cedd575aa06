"""MAG model configs per user: a name, an OpenAI-compatible endpoint, a model and its
parameters. The api_key is sealed at rest (`USER#<id> / MODEL#<name>`).

- `get_model_config` returns the config with the api_key decrypted: for run time only.
- `list_model_configs` returns response-ready dicts with the api_key masked (never a key).
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from stratus.clock import now_iso
from stratus.db import users_table
from stratus.db.dynamo import ConditionFailed
from stratus.errors import Conflict, NotFound, Unprocessable
from stratus.integrations.secrets import mask, seal, unseal
from stratus.mag.models import ModelConfig
from stratus.net.egress import check_stored_url

_STORED_FIELDS = set(ModelConfig.model_fields) - {"api_key"}


def check_name(name: str) -> str:
    """Names appear in URLs (/api/mag/models/{name}) and graph nodes' `model_name`."""
    if not name or name != name.strip() or "/" in name or any(ord(ch) < 32 for ch in name):
        raise Unprocessable(f"Invalid model name {name!r}: no '/', control characters or surrounding spaces.")
    return name


def check_base_url(config: ModelConfig) -> None:
    """422 when the egress policy refuses the config's endpoint (the user's key would go there)."""
    check_stored_url(f"Model config {config.name!r} base_url", config.base_url)


def _context(user_id: str, name: str) -> str:
    return f"USER#{user_id}#MODEL#{name}"


def _attributes(
    user_id: str, config: ModelConfig, secret: dict[str, Any] | None, hint: str, created_at: str | None = None
) -> dict[str, Any]:
    now = now_iso()
    return {
        **config.model_dump(include=_STORED_FIELDS, mode="json"),
        "user_id": user_id,
        "secret": secret,  # None for an endpoint without a key (dropped on write)
        "hint": hint,
        "created_at": created_at or now,
        "updated_at": now,
    }


def _sealed(user_id: str, config: ModelConfig) -> tuple[dict[str, Any] | None, str]:
    if not config.api_key:
        return None, ""
    return seal(config.api_key, _context(user_id, config.name)), mask(config.api_key)


def _config_fields(item: dict[str, Any]) -> dict[str, Any]:
    return {field: item[field] for field in _STORED_FIELDS if field in item}


def _public(item: dict[str, Any]) -> dict[str, Any]:
    fields = ModelConfig.model_validate({**_config_fields(item), "api_key": ""}).model_dump(mode="json")
    return {
        **fields,
        "api_key": item.get("hint", ""),
        "created_at": item["created_at"],
        "updated_at": item["updated_at"],
    }


def _stored(user_id: str, name: str) -> dict[str, Any]:
    item = users_table.get_model_config(user_id, name)
    if not item:
        raise NotFound(f"Model config {name!r} not found.")
    return item


def get_model_config(user_id: str, name: str) -> ModelConfig:
    """The config with its api_key decrypted (NotFound when this user has none of that name)."""
    item = _stored(user_id, name)
    api_key = unseal(item["secret"], _context(user_id, name)) if item.get("secret") else ""
    return ModelConfig.model_validate({**_config_fields(item), "api_key": api_key})


def get_model_config_public(user_id: str, name: str) -> dict[str, Any]:
    return _public(_stored(user_id, name))


def list_model_configs(user_id: str) -> list[dict[str, Any]]:
    """Every config of the user, by name, api_key masked (call get_model_config for the key)."""
    items = sorted(users_table.model_configs_of(user_id), key=lambda item: item["name"])
    return [_public(item) for item in items]


def save_model_config(user_id: str, config: ModelConfig, overwrite: bool = True) -> bool:
    """Store `config` (api_key sealed). True if written; with overwrite=False an existing
    config of that name is kept and False returned."""
    check_name(config.name)
    check_base_url(config)
    secret, hint = _sealed(user_id, config)
    try:
        users_table.put_model_config(
            user_id, config.name, _attributes(user_id, config, secret, hint), only_if_new=None if overwrite else True
        )
    except ConditionFailed:
        return False
    return True


def create_model_config(user_id: str, config: ModelConfig) -> dict[str, Any]:
    if not save_model_config(user_id, config, overwrite=False):
        raise Conflict(f"A model config named {config.name!r} already exists.")
    return get_model_config_public(user_id, config.name)


class ModelConfigUpdate(ModelConfig):
    """PUT body: the whole config; the name comes from the path (a body name must match it);
    an omitted or empty api_key, or the masked value a GET showed, keeps the stored key."""

    # Both may be omitted (None) here, unlike on ModelConfig: a deliberate override of the fields' types.
    name: str | None = Field(default=None, min_length=1, max_length=100)  # type: ignore[assignment]
    api_key: str | None = Field(default=None, max_length=4096)  # type: ignore[assignment]


def update_model_config(user_id: str, name: str, update: ModelConfigUpdate) -> dict[str, Any]:
    if update.name is not None and update.name != name:
        raise Unprocessable(f"The body names {update.name!r} but the path {name!r}: renaming is not supported.")
    current = _stored(user_id, name)
    fields = update.model_dump(exclude={"name", "api_key"})
    keep_key = not update.api_key or update.api_key == current.get("hint")
    config = ModelConfig.model_validate({**fields, "name": name, "api_key": "" if keep_key else update.api_key})
    check_base_url(config)
    secret, hint = (current.get("secret"), current.get("hint", "")) if keep_key else _sealed(user_id, config)
    try:
        attributes = _attributes(user_id, config, secret, hint, current["created_at"])
        users_table.put_model_config(user_id, name, attributes, only_if_new=False)
    except ConditionFailed:
        raise NotFound(f"Model config {name!r} not found.") from None
    return get_model_config_public(user_id, name)


def delete_model_config(user_id: str, name: str) -> None:
    _stored(user_id, name)
    users_table.delete_model_config(user_id, name)
