"""API keys: create (shown once), list, get, revoke, suspend, permissions, authenticate."""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import BaseModel, Field

from stratus.auth.api_keys import (
    APIKeyPermission,
    APIKeyStatus,
    generate_key,
    looks_like_key,
    lookup_digest,
    verify_key,
)
from stratus.clock import now_iso
from stratus.db import users_table
from stratus.db.dynamo import ConditionFailed
from stratus.errors import Conflict, Forbidden, NotFound, Unauthorized


class APIKeyWithoutHash(BaseModel):
    """AutoGPT's public view of a key: never the key, never its hash."""

    id: str
    name: str
    prefix: str
    postfix: str
    status: APIKeyStatus
    permissions: list[APIKeyPermission]
    created_at: str
    last_used_at: str | None = None
    revoked_at: str | None = None
    description: str | None = None
    user_id: str


class CreateAPIKeyRequest(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    permissions: list[APIKeyPermission] = Field(min_length=1)
    description: str | None = Field(default=None, max_length=1000)


class CreateAPIKeyResponse(BaseModel):
    api_key: APIKeyWithoutHash
    plain_text_key: str


class UpdatePermissionsRequest(BaseModel):
    permissions: list[APIKeyPermission] = Field(min_length=1)


def _public(item: dict[str, Any]) -> APIKeyWithoutHash:
    return APIKeyWithoutHash(
        id=item["key_id"],
        name=item["name"],
        prefix=item["head"],
        postfix=item["tail"],
        status=item["status"],
        permissions=item["permissions"],
        created_at=item["created_at"],
        last_used_at=item.get("last_used_at"),
        revoked_at=item.get("revoked_at"),
        description=item.get("description"),
        user_id=item["user_id"],
    )


def create_api_key(user_id: str, request: CreateAPIKeyRequest) -> CreateAPIKeyResponse:
    generated = generate_key()
    key_id = str(uuid.uuid4())
    attributes = {
        "name": request.name,
        "description": request.description,
        "head": generated.head,
        "tail": generated.tail,
        "hash": generated.hash,
        "salt": generated.salt,
        "permissions": sorted({p.value for p in request.permissions}),
        "status": APIKeyStatus.ACTIVE.value,
        "created_at": now_iso(),
    }
    item = users_table.put_api_key(generated.lookup_digest, user_id, key_id, attributes)
    return CreateAPIKeyResponse(api_key=_public(item), plain_text_key=generated.plain_text)


def _owned_item(user_id: str, key_id: str) -> dict[str, Any]:
    """The key item, only if `user_id` owns it: other users' keys are simply not found."""
    item = users_table.get_owned_api_key(user_id, key_id)
    if not item:
        raise NotFound(f"API key {key_id} not found.")
    return item


def list_api_keys(user_id: str) -> list[APIKeyWithoutHash]:
    items = users_table.api_keys_of(user_id)
    items.sort(key=lambda item: item["created_at"], reverse=True)
    return [_public(item) for item in items]


def get_api_key(user_id: str, key_id: str) -> APIKeyWithoutHash:
    return _public(_owned_item(user_id, key_id))


def _update_owned(user_id: str, key_id: str, changes: dict[str, Any], unless_revoked: bool) -> APIKeyWithoutHash:
    item = _owned_item(user_id, key_id)
    try:
        updated = users_table.update_api_key(
            item, changes, owner=user_id, unless_status=APIKeyStatus.REVOKED.value if unless_revoked else None
        )
    except ConditionFailed as failed:
        raise Conflict(f"API key {key_id} is revoked and can no longer change.") from failed
    return _public(updated)


def revoke_api_key(user_id: str, key_id: str) -> APIKeyWithoutHash:
    changes = {"status": APIKeyStatus.REVOKED.value, "revoked_at": now_iso()}
    return _update_owned(user_id, key_id, changes, unless_revoked=False)


def suspend_api_key(user_id: str, key_id: str) -> APIKeyWithoutHash:
    return _update_owned(user_id, key_id, {"status": APIKeyStatus.SUSPENDED.value}, unless_revoked=True)


def update_permissions(user_id: str, key_id: str, permissions: list[APIKeyPermission]) -> APIKeyWithoutHash:
    changes = {"permissions": sorted({p.value for p in permissions})}
    return _update_owned(user_id, key_id, changes, unless_revoked=True)


class AuthenticatedKey(BaseModel):
    key_id: str
    user_id: str
    permissions: list[APIKeyPermission]


def authenticate(raw_key: str | None, permission: APIKeyPermission) -> AuthenticatedKey:
    """401 for a missing, unknown, suspended or revoked key; 403 when it lacks `permission`."""
    if not raw_key:
        raise Unauthorized("Missing API key: send it in the X-API-Key header.")
    if not looks_like_key(raw_key):
        raise Unauthorized("Invalid API key.")
    item = users_table.get_api_key_by_digest(lookup_digest(raw_key))
    if not item or not verify_key(raw_key, item["hash"], item["salt"]):
        raise Unauthorized("Invalid API key.")
    if item["status"] != APIKeyStatus.ACTIVE.value:
        raise Unauthorized(f"API key is {item['status'].lower()}.")
    if permission.value not in item["permissions"]:
        raise Forbidden(f"API key lacks the {permission.value} permission.")
    users_table.touch_api_key(item, now_iso())
    return AuthenticatedKey(key_id=item["key_id"], user_id=item["user_id"], permissions=item["permissions"])
