"""What an integration block gets as its `credentials` run kwarg, and how it declares the field.

AutoGPT's blocks are written `async def run(self, input_data, *, credentials: APIKeyCredentials,
**kwargs)`; Stratus passes the same: the node's credentials resolved by the node runner
(stratus.executions.node_runner) to an `APIKeyCredentials` or `OAuth2Credentials` holding the
plain secret, or None when neither the user nor the platform has a key for the provider (the
block then fails with `missing_credentials`). Secrets are `SecretStr`: they never show in a
repr or a log line. Blocks reach no data access: these are plain values.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel, Field, SecretStr


class APIKeyCredentials(BaseModel):
    id: str
    provider: str
    title: str | None = None
    type: Literal["api_key"] = "api_key"
    api_key: SecretStr
    expires_at: int | None = None

    def auth_header(self) -> str:
        return f"Bearer {self.api_key.get_secret_value()}"


class OAuth2Credentials(BaseModel):
    id: str
    provider: str
    title: str | None = None
    type: Literal["oauth2"] = "oauth2"
    username: str | None = None
    access_token: SecretStr
    access_token_expires_at: int | None = None
    refresh_token: SecretStr | None = None
    refresh_token_expires_at: int | None = None
    scopes: list[str] = Field(default_factory=list)
    metadata: dict[str, Any] = Field(default_factory=dict)

    def auth_header(self) -> str:
        return f"Bearer {self.access_token.get_secret_value()}"


BlockCredentials = APIKeyCredentials | OAuth2Credentials


class MissingCredentials(RuntimeError):
    """No usable credentials for the block's provider (neither the user's nor the platform's)."""


def require_credentials(credentials: BlockCredentials | None, provider: str) -> BlockCredentials:
    """The run's credentials, or MissingCredentials naming the provider."""
    if credentials is None:
        raise MissingCredentials(
            f"No credentials for {provider}: select {provider} credentials on the block "
            "(or the deployment must configure a platform key for it)."
        )
    return credentials


def credentials_field(
    provider: str | Sequence[str],
    *,
    types: Sequence[str] = ("api_key",),
    scopes: Sequence[str] = (),
    description: str = "",
    title: str = "Credentials",
) -> Any:
    """A block's `credentials` input as AutoGPT's CredentialsField declares it: an object
    {id, provider, type, title} with the provider, types and required scopes in its schema."""
    providers = [provider] if isinstance(provider, str) else list(provider)
    extra: dict[str, Any] = {"credentials_provider": providers, "credentials_types": list(types)}
    if scopes:
        extra["credentials_scopes"] = list(scopes)
    return Field(default_factory=dict, title=title, description=description, json_schema_extra=extra)
