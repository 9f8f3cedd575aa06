"""UsersFunction: /api/auth/*, /api/credits*, /api/api-keys*, /api/integrations/*, /api/mag/models*,
/external-api/v1/me.

Thin handlers: parse, call the domain in `stratus.users`, shape the response.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import Body, Depends, Query
from pydantic import BaseModel, Field

from stratus.auth.api_keys import APIKeyPermission
from stratus.auth.jwt_tokens import Claims
from stratus.config import UsersSettings, require
from stratus.observability import metrics
from stratus.users import api_keys, credits
from stratus.users import service as users
from stratus.users.models import NotificationPreference, NotificationPreferenceUpdate, User
from stratus.web.app import create_app, lambda_handler
from stratus.web.auth import admin_user_id, api_key_with, current_claims, current_user_id
from stratus.web.integrations_routes import router as integrations_router

require(UsersSettings)  # cold start: fails here, naming any missing or invalid variable

app = create_app("Stratus users")
app.include_router(integrations_router)
UserId = Annotated[str, Depends(current_user_id)]


# --- user -------------------------------------------------------------------------------
@app.post("/api/auth/user", response_model=User)
def get_or_create_user(claims: Annotated[Claims, Depends(current_claims)]) -> User:
    return users.get_or_create_user(claims)


class EmailUpdate(BaseModel):
    email: str = Field(min_length=3, max_length=320)


@app.post("/api/auth/user/email")
def update_email(user_id: UserId, body: Annotated[str | EmailUpdate, Body()]) -> dict[str, str]:
    address = body.email if isinstance(body, EmailUpdate) else body
    return {"email": users.update_email(user_id, address)}


class TimezoneBody(BaseModel):
    timezone: str = Field(min_length=1, max_length=64)


@app.get("/api/auth/user/timezone", response_model=TimezoneBody)
def get_timezone(user_id: UserId) -> TimezoneBody:
    return TimezoneBody(timezone=users.get_timezone(user_id))


@app.post("/api/auth/user/timezone", response_model=TimezoneBody)
def set_timezone(user_id: UserId, body: TimezoneBody) -> TimezoneBody:
    return TimezoneBody(timezone=users.set_timezone(user_id, body.timezone))


@app.get("/api/auth/user/preferences", response_model=NotificationPreference)
def get_preferences(user_id: UserId) -> NotificationPreference:
    return users.get_preferences(user_id)


@app.post("/api/auth/user/preferences", response_model=NotificationPreference)
def update_preferences(user_id: UserId, body: NotificationPreferenceUpdate) -> NotificationPreference:
    return users.update_preferences(user_id, body)


# --- credits ----------------------------------------------------------------------------
@app.get("/api/credits")
def get_credits(user_id: UserId) -> dict[str, int]:
    return {"credits": credits.get_balance(user_id)}


@app.get("/api/credits/transactions", response_model=credits.TransactionHistory)
def get_transactions(
    user_id: UserId,
    transaction_time: Annotated[str | None, Query(description="Return transactions older than this.")] = None,
    transaction_type: credits.TransactionType | None = None,
    transaction_count_limit: Annotated[int, Query(ge=1, le=100)] = 100,
) -> credits.TransactionHistory:
    return credits.list_transactions(user_id, transaction_count_limit, transaction_time, transaction_type)


class AddCreditsRequest(BaseModel):
    user_id: str = Field(min_length=1)
    amount: int = Field(gt=0, le=10_000_000)
    comments: str = Field(default="", max_length=1000)
    idempotency_key: str | None = Field(default=None, max_length=200)


@app.post("/api/credits/admin/add_credits")
def add_credits(admin_id: Annotated[str, Depends(admin_user_id)], body: AddCreditsRequest) -> dict[str, Any]:
    users.get_user(body.user_id)  # 404 for an unknown user rather than an orphan balance
    tx = credits.record(
        body.user_id,
        credits.TransactionType.GRANT,
        body.amount,
        body.idempotency_key or f"admin-grant-{uuid.uuid4()}",
        description=body.comments or "Admin grant",
        metadata={"admin_user_id": admin_id},
    )
    metrics.add_metric(name="CreditsGranted", unit="Count", value=body.amount)
    return {"new_balance": tx.running_balance, "transaction_key": tx.transaction_key}


# --- API keys ---------------------------------------------------------------------------
@app.post("/api/api-keys", response_model=api_keys.CreateAPIKeyResponse)
def create_api_key(user_id: UserId, body: api_keys.CreateAPIKeyRequest) -> api_keys.CreateAPIKeyResponse:
    metrics.add_metric(name="ApiKeysCreated", unit="Count", value=1)
    return api_keys.create_api_key(user_id, body)


@app.get("/api/api-keys", response_model=list[api_keys.APIKeyWithoutHash])
def list_api_keys(user_id: UserId) -> list[api_keys.APIKeyWithoutHash]:
    return api_keys.list_api_keys(user_id)


@app.get("/api/api-keys/{key_id}", response_model=api_keys.APIKeyWithoutHash)
def get_api_key(user_id: UserId, key_id: str) -> api_keys.APIKeyWithoutHash:
    return api_keys.get_api_key(user_id, key_id)


@app.delete("/api/api-keys/{key_id}", response_model=api_keys.APIKeyWithoutHash)
def revoke_api_key(user_id: UserId, key_id: str) -> api_keys.APIKeyWithoutHash:
    return api_keys.revoke_api_key(user_id, key_id)


@app.post("/api/api-keys/{key_id}/suspend", response_model=api_keys.APIKeyWithoutHash)
def suspend_api_key(user_id: UserId, key_id: str) -> api_keys.APIKeyWithoutHash:
    return api_keys.suspend_api_key(user_id, key_id)


@app.put("/api/api-keys/{key_id}/permissions", response_model=api_keys.APIKeyWithoutHash)
def update_api_key_permissions(
    user_id: UserId, key_id: str, body: api_keys.UpdatePermissionsRequest
) -> api_keys.APIKeyWithoutHash:
    return api_keys.update_permissions(user_id, key_id, body.permissions)


# --- external API -----------------------------------------------------------------------
@app.get("/external-api/v1/me")
def external_me(
    key: Annotated[api_keys.AuthenticatedKey, Depends(api_key_with(APIKeyPermission.IDENTITY))],
) -> dict[str, Any]:
    user = users.get_user(key.user_id)
    return {"user_id": user.id, "user_email": user.email, "name": user.name, "timezone": user.timezone}


handler = lambda_handler(app)
