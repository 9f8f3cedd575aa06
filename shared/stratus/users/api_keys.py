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
from stratus.db.dynamo import ConditionFailed
from stratus.db.users_table import BY_USER_INDEX, api_key_key, api_key_owner_keys, users_table
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
    item = {
        **api_key_key(generated.lookup_digest),
        **api_key_owner_keys(user_id, key_id),
        "key_id": key_id,
        "user_id": user_id,
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
    users_table().put(item, condition="attribute_not_exists(PK)")
    return CreateAPIKeyResponse(api_key=_public(item), plain_text_key=generated.plain_text)


def _owned_item(user_id: str, key_id: str) -> dict[str, Any]:
    """The key item, only if `user_id` owns it: other users' keys are simply not found."""
    owner = api_key_owner_keys(user_id, key_id)
    items, _ = users_table().query(
        "GSI1PK = :pk AND GSI1SK = :sk",
        {":pk": owner["GSI1PK"], ":sk": owner["GSI1SK"]},
        index=BY_USER_INDEX,
    )
    if not items:
        raise NotFound(f"API key {key_id} not found.")
    return items[0]


def list_api_keys(user_id: str) -> list[APIKeyWithoutHash]:
    owner_pk = api_key_owner_keys(user_id, "")["GSI1PK"]
    items: list[dict[str, Any]] = []
    start_key = None
    while True:
        page, start_key = users_table().query(
            "GSI1PK = :pk", {":pk": owner_pk}, index=BY_USER_INDEX, start_key=start_key
        )
        items.extend(page)
        if not start_key:
            break
    items.sort(key=lambda item: item["created_at"], reverse=True)
    return [_public(item) for item in items]


def get_api_key(user_id: str, key_id: str) -> APIKeyWithoutHash:
    return _public(_owned_item(user_id, key_id))


def _update_owned(
    user_id: str,
    key_id: str,
    expression: str,
    values: dict[str, Any],
    names: dict[str, str],
    extra_condition: str | None = None,
) -> APIKeyWithoutHash:
    item = _owned_item(user_id, key_id)
    condition = "user_id = :owner"
    if extra_condition:
        condition += f" AND {extra_condition}"
    try:
        updated = users_table().update(
            {"PK": item["PK"], "SK": item["SK"]},
            expression,
            values={**values, ":owner": user_id},
            names=names,
            condition=condition,
        )
    except ConditionFailed as failed:
        raise Conflict(f"API key {key_id} is revoked and can no longer change.") from failed
    return _public(updated)


def revoke_api_key(user_id: str, key_id: str) -> APIKeyWithoutHash:
    return _update_owned(
        user_id,
        key_id,
        "SET #status = :revoked, revoked_at = :now",
        {":revoked": APIKeyStatus.REVOKED.value, ":now": now_iso()},
        {"#status": "status"},
    )


def suspend_api_key(user_id: str, key_id: str) -> APIKeyWithoutHash:
    return _update_owned(
        user_id,
        key_id,
        "SET #status = :suspended",
        {":suspended": APIKeyStatus.SUSPENDED.value, ":revoked": APIKeyStatus.REVOKED.value},
        {"#status": "status"},
        extra_condition="#status <> :revoked",
    )


def update_permissions(user_id: str, key_id: str, permissions: list[APIKeyPermission]) -> APIKeyWithoutHash:
    return _update_owned(
        user_id,
        key_id,
        "SET #permissions = :permissions",
        {":permissions": sorted({p.value for p in permissions}), ":revoked": APIKeyStatus.REVOKED.value},
        {"#status": "status", "#permissions": "permissions"},
        extra_condition="#status <> :revoked",
    )


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
    table = users_table()
    item = table.get(api_key_key(lookup_digest(raw_key)), consistent=True)
    if not item or not verify_key(raw_key, item["hash"], item["salt"]):
        raise Unauthorized("Invalid API key.")
    if item["status"] != APIKeyStatus.ACTIVE.value:
        raise Unauthorized(f"API key is {item['status'].lower()}.")
    if permission.value not in item["permissions"]:
        raise Forbidden(f"API key lacks the {permission.value} permission.")
    table.update({"PK": item["PK"], "SK": item["SK"]}, "SET last_used_at = :now", values={":now": now_iso()})
    return AuthenticatedKey(key_id=item["key_id"], user_id=item["user_id"], permissions=item["permissions"])
