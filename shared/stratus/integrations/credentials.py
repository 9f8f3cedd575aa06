"""A user's integration credentials (AutoGPT's API-key credentials), stored sealed.

Items live in the user's partition (`USER#<id> / CRED#<id>`), so another user's id is simply
not found. Responses carry metadata and a masked hint, never the key; blocks get the key at
run time through `resolve_api_key`.
"""

from __future__ import annotations

import re
import time
import uuid
from typing import Any, Literal

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator

from stratus.blocks.credentials import APIKeyCredentials, BlockCredentials
from stratus.clock import now_iso
from stratus.db import users_table
from stratus.errors import NotFound, Unprocessable
from stratus.integrations.secrets import mask, seal, unseal
from stratus.payload_limits import check_structure

PROVIDER_PATTERN = re.compile(r"^[a-z0-9_-]{1,64}$")

# AutoGPT's system credentials ("Use Credits for …", its integrations credentials store): every
# AutoGPT user has them, so a graph made there may name them. Here they mean the platform's key
# of that provider (a node naming one runs as a node without credentials of its own).
SYSTEM_CREDENTIALS: dict[str, str] = {
    "744fdc56-071a-4761-b5a5-0af0ce10a2b5": "ollama",
    "6b9fc200-4726-4973-86c9-cd526f5ce5db": "replicate",
    "53c25cb8-e3ee-465c-a4d1-e75a4c899c2a": "openai",
    "aad82a89-9794-4ebb-977f-d736aa5260a3": "aiml_api",
    "24e5d942-d9e3-4798-8151-90143ee55629": "anthropic",
    "4ec22295-8f97-4dd1-b42b-2c6957a02545": "groq",
    "b5a0e27d-0c98-4df3-a4b9-10193e1f3c40": "open_router",
    "d44045af-1c33-4833-9e19-752313214de2": "llama_api",
    "c4e6d1a0-3b5f-4789-a8e2-9b123456789f": "v0",
    "96b83908-2789-4dec-9968-18f0ece4ceb3": "nvidia",
    "fdb7f412-f519-48d1-9b5f-d2f73d0e01fe": "revid",
    "760f84fc-b270-42de-91f6-08efe1b512d0": "ideogram",
    "7f7b0654-c36b-4565-8fa7-9a52575dfae2": "d_id",
    "7f26de70-ba0d-494e-ba76-238e65e7b45f": "jina",
    "66f20754-1b81-48e4-91d0-f4f0dd82145f": "unreal",
    "6c0f5bd0-9008-4638-9d79-4b40b631803e": "fal",
    "96153e04-9c6c-4486-895f-5bb683b1ecec": "exa",
    "78d19fd7-4d59-4a16-8277-3ce310acf2b7": "e2b",
    "3b1bdd16-8818-4bc2-8cbb-b23f9a3439ed": "screenshotone",
    "ed55ac19-356e-4243-a6cb-bc599e9b716f": "mem0",
    "544c62b5-1d0f-4156-8fb4-9525f11656eb": "apollo",
    "3bcdbda3-84a3-46af-8fdb-bfd2472298b8": "smartlead",
    "63a6e279-2dc2-448e-bf57-85776f7176dc": "zerobounce",
    "9aa1bde0-4947-4a70-a20c-84daa3850d52": "google_maps",
}


def check_provider(provider: str) -> str:
    if not PROVIDER_PATTERN.match(provider):
        raise Unprocessable(f"Invalid provider {provider!r}: use 1-64 lowercase letters, digits, '_' or '-'.")
    return provider


class CreateAPIKeyCredentials(BaseModel):
    """POST body (AutoGPT's APIKeyCredentials without an id)."""

    type: Literal["api_key"] = "api_key"
    title: str | None = Field(default=None, max_length=200)
    api_key: str = Field(min_length=1, max_length=4096)
    expires_at: int | None = Field(
        default=None, gt=0, description="Unix time (seconds) after which the key is refused."
    )

    @model_validator(mode="before")
    @classmethod
    def _within_limits(cls, data: Any) -> Any:
        check_structure(data, "credentials")  # the whole body, unknown fields too (a 422 naming the path)
        return data

    @field_validator("api_key")
    @classmethod
    def _not_blank(cls, api_key: str) -> str:
        if not api_key.strip():
            raise ValueError("api_key is blank")
        return api_key.strip()


class CredentialsMeta(BaseModel):
    """What a response shows of stored credentials: never the key."""

    id: str
    provider: str
    type: str
    title: str | None = None
    expires_at: int | None = None
    hint: str = Field(description="The key masked: its first 3 and last 4 characters at most.")
    created_at: str


def _context(user_id: str, credentials_id: str) -> str:
    # Bound into the ciphertext: the sealed key opens only in this user's item of this id.
    return f"USER#{user_id}#CRED#{credentials_id}"


def _meta(item: dict[str, Any]) -> CredentialsMeta:
    return CredentialsMeta(
        id=item["id"],
        provider=item["provider"],
        type=item["type"],
        title=item.get("title"),
        expires_at=item.get("expires_at"),
        hint=item["hint"],
        created_at=item["created_at"],
    )


def create_credentials(user_id: str, provider: str, body: CreateAPIKeyCredentials) -> CredentialsMeta:
    check_provider(provider)
    credentials_id = str(uuid.uuid4())
    item = {
        "id": credentials_id,
        "user_id": user_id,
        "provider": provider,
        "type": body.type,
        "title": body.title or f"{provider} API key",
        "expires_at": body.expires_at,
        "hint": mask(body.api_key),
        "secret": seal(body.api_key, _context(user_id, credentials_id)),
        "created_at": now_iso(),
    }
    users_table.put_credentials(user_id, credentials_id, item)
    return _meta(item)


def list_credentials(user_id: str, provider: str | None = None) -> list[CredentialsMeta]:
    items = users_table.credentials_of(user_id)
    if provider is not None:
        items = [item for item in items if item["provider"] == check_provider(provider)]
    items.sort(key=lambda item: item["created_at"])
    return [_meta(item) for item in items]


def _item(user_id: str, credentials_id: str, provider: str | None) -> dict[str, Any]:
    item = users_table.get_credentials(user_id, credentials_id) if credentials_id else None
    if not item or (provider is not None and item["provider"] != provider):
        suffix = f" for provider {provider}" if provider else ""
        raise NotFound(f"Credentials {credentials_id} not found{suffix}.")
    return item


def get_credentials(user_id: str, provider: str | None, credentials_id: str) -> CredentialsMeta:
    """This user's credentials of that id (and provider, when one is given), else NotFound."""
    return _meta(_item(user_id, credentials_id, check_provider(provider) if provider else None))


def delete_credentials(user_id: str, provider: str, credentials_id: str) -> None:
    _item(user_id, credentials_id, check_provider(provider))  # NotFound for another provider's
    users_table.delete_credentials(user_id, credentials_id)


def resolve_api_key(user_id: str, credentials: dict | None) -> str | None:
    """The plain API key a block's `credentials` field {id, provider, type, title} points at.

    None when no credentials are given (the block falls back to the platform's key); NotFound
    when the id is not one of this user's credentials or names another provider; Unprocessable
    when the stored key has expired.
    """
    if not credentials or not credentials.get("id"):
        return None
    credentials_id = str(credentials["id"])
    item = _item(user_id, credentials_id, credentials.get("provider") or None)
    if item.get("expires_at") and int(item["expires_at"]) <= time.time():
        raise Unprocessable(f"Credentials {credentials_id} ({item.get('title')}) have expired.")
    return unseal(item["secret"], _context(user_id, credentials_id))


def resolve_block_credentials(user_id: str, credentials: dict[str, Any]) -> BlockCredentials:
    """The credentials a block runs with (stratus.blocks.credentials), secrets opened, from the
    node's usable `credentials` {id, provider, type, title}. OAuth2 credentials come back with a
    fresh access token (refreshed first when it expires soon: stratus.integrations.oauth2).
    NotFound / Unprocessable as `resolve_api_key`."""
    credentials_id = str(credentials["id"])
    item = _item(user_id, credentials_id, credentials.get("provider") or None)
    if item["type"] == "oauth2":
        from stratus.integrations.oauth2 import fresh_oauth2_credentials  # only OAuth2 nodes need it

        return fresh_oauth2_credentials(user_id, item)
    return APIKeyCredentials(
        id=credentials_id,
        provider=item["provider"],
        title=item.get("title"),
        api_key=SecretStr(resolve_api_key(user_id, credentials) or ""),
        expires_at=item.get("expires_at"),
    )


def usable_credentials(user_id: str, credentials: Any, providers: list[str]) -> dict[str, Any] | None:
    """`credentials` {id, provider, type, title} when they name credentials of this user for one
    of `providers` (expired ones included: using them fails clearly), else None: no id, one of
    AutoGPT's system credentials, another provider's, or an id this user does not have (an
    imported graph's reference to its author's account). None means the platform's key."""
    if not isinstance(credentials, dict) or not credentials.get("id") or not isinstance(credentials["id"], str):
        return None
    if credentials["id"] in SYSTEM_CREDENTIALS:
        return None
    named = credentials.get("provider")
    if named and providers and named not in providers:
        return None
    item = users_table.get_credentials(user_id, credentials["id"])
    if not item or (providers and item["provider"] not in providers):
        return None
    return credentials
