"""FastAPI dependencies: the JWT user, the admin, and API keys with a permission."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Depends, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from stratus.auth.api_keys import APIKeyPermission
from stratus.auth.jwt_tokens import Claims, verify_token
from stratus.errors import Forbidden, Unauthorized
from stratus.observability import logger
from stratus.users.api_keys import AuthenticatedKey, authenticate

_bearer = HTTPBearer(auto_error=False)
_api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False)


def current_claims(credentials: HTTPAuthorizationCredentials | None = Security(_bearer)) -> Claims:
    if credentials is None:
        raise Unauthorized("Authorization header is missing: send 'Authorization: Bearer <token>'.")
    claims = verify_token(credentials.credentials)
    logger.append_keys(user_id=claims.user_id)
    return claims


def current_user_id(claims: Claims = Depends(current_claims)) -> str:
    return claims.user_id


def admin_user_id(claims: Claims = Depends(current_claims)) -> str:
    if not claims.is_admin:
        raise Forbidden("Admin access required.")
    return claims.user_id


def api_key_with(permission: APIKeyPermission) -> Callable[..., AuthenticatedKey]:
    def dependency(raw_key: str | None = Security(_api_key_header)) -> AuthenticatedKey:
        key = authenticate(raw_key, permission)
        logger.append_keys(user_id=key.user_id, api_key_id=key.key_id)
        return key

    return dependency
