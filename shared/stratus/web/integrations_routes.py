"""Routes of a user's integration credentials (/api/integrations) and MAG model configs
(/api/mag/models), hosted by UsersFunction. Responses never carry a stored secret."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from stratus.integrations import credentials, model_configs
from stratus.mag.models import ModelConfig
from stratus.web.auth import current_user_id

router = APIRouter()
UserId = Annotated[str, Depends(current_user_id)]


# --- integration credentials -----------------------------------------------------------
@router.get("/api/integrations/credentials", response_model=list[credentials.CredentialsMeta])
def list_credentials(user_id: UserId) -> list[credentials.CredentialsMeta]:
    return credentials.list_credentials(user_id)


@router.get("/api/integrations/{provider}/credentials", response_model=list[credentials.CredentialsMeta])
def list_provider_credentials(user_id: UserId, provider: str) -> list[credentials.CredentialsMeta]:
    return credentials.list_credentials(user_id, provider)


@router.post("/api/integrations/{provider}/credentials", status_code=201, response_model=credentials.CredentialsMeta)
def create_credentials(
    user_id: UserId, provider: str, body: credentials.CreateAPIKeyCredentials
) -> credentials.CredentialsMeta:
    return credentials.create_credentials(user_id, provider, body)


@router.get("/api/integrations/{provider}/credentials/{credentials_id}", response_model=credentials.CredentialsMeta)
def get_credentials(user_id: UserId, provider: str, credentials_id: str) -> credentials.CredentialsMeta:
    return credentials.get_credentials(user_id, provider, credentials_id)


@router.delete("/api/integrations/{provider}/credentials/{credentials_id}")
def delete_credentials(user_id: UserId, provider: str, credentials_id: str) -> dict[str, bool]:
    credentials.delete_credentials(user_id, provider, credentials_id)
    return {"deleted": True}


# --- MAG model configs -----------------------------------------------------------------
@router.get("/api/mag/models")
def list_models(user_id: UserId) -> list[dict[str, Any]]:
    return model_configs.list_model_configs(user_id)


@router.post("/api/mag/models", status_code=201)
def create_model(user_id: UserId, body: ModelConfig) -> dict[str, Any]:
    return model_configs.create_model_config(user_id, body)


@router.get("/api/mag/models/{name}")
def get_model(user_id: UserId, name: str) -> dict[str, Any]:
    return model_configs.get_model_config_public(user_id, name)


@router.put("/api/mag/models/{name}")
def update_model(user_id: UserId, name: str, body: model_configs.ModelConfigUpdate) -> dict[str, Any]:
    return model_configs.update_model_config(user_id, name, body)


@router.delete("/api/mag/models/{name}")
def delete_model(user_id: UserId, name: str) -> dict[str, bool]:
    model_configs.delete_model_config(user_id, name)
    return {"deleted": True}
