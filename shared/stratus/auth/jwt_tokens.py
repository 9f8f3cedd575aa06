"""JWT verification as AutoGPT does it: HS256 or RS256, audience `authenticated`.

The algorithm is fixed by configuration, never taken from the token header, so
`alg: none` and HS256-signed-with-the-public-key (algorithm confusion) both fail.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from stratus.config import JwtSettings, get_settings
from stratus.errors import Unauthorized

ALLOWED_ALGORITHMS = ("HS256", "RS256")


@dataclass(frozen=True)
class Claims:
    user_id: str
    email: str | None
    role: str | None
    name: str | None

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def _verify_key() -> Any:
    settings = get_settings(JwtSettings)
    if settings.jwt_verify_key:
        return settings.jwt_verify_key
    if settings.jwt_verify_key_param:
        from aws_lambda_powertools.utilities import parameters  # lazy: SSM only in AWS-style config

        return parameters.get_parameter(settings.jwt_verify_key_param, decrypt=True, max_age=300)
    raise RuntimeError("No JWT verify key configured: set JWT_VERIFY_KEY or JWT_VERIFY_KEY_PARAM.")


def verify_token(token: str) -> Claims:
    import jwt  # lazy: pyjwt loads `cryptography` (~0.1 s), which only requests need

    settings = get_settings(JwtSettings)
    algorithm = settings.jwt_algorithm
    if algorithm not in ALLOWED_ALGORITHMS:
        raise RuntimeError(f"Unsupported JWT_ALGORITHM {algorithm!r}; use HS256 or RS256.")
    try:
        payload = jwt.decode(
            token,
            _verify_key(),
            algorithms=[algorithm],
            audience=settings.jwt_audience,
            options={"require": ["sub", "exp", "aud"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise Unauthorized("Token has expired.") from exc
    except jwt.InvalidAudienceError as exc:
        raise Unauthorized(f"Invalid token audience: expected '{settings.jwt_audience}'.") from exc
    except jwt.MissingRequiredClaimError as exc:
        raise Unauthorized(f"Token is missing the '{exc.claim}' claim.") from exc
    except jwt.InvalidAlgorithmError as exc:
        raise Unauthorized(f"Token algorithm not allowed: only {algorithm} is accepted.") from exc
    except jwt.InvalidTokenError as exc:
        raise Unauthorized(f"Invalid token: {exc}") from exc
    user_id = payload.get("sub")
    if not isinstance(user_id, str) or not user_id:
        raise Unauthorized("Token 'sub' claim must be the user id.")
    metadata = payload.get("user_metadata") or {}
    return Claims(
        user_id=user_id,
        email=payload.get("email"),
        role=payload.get("role"),
        name=metadata.get("name") if isinstance(metadata, dict) else None,
    )


def issue_token(
    secret: str,
    user_id: str,
    email: str | None = None,
    admin: bool = False,
    ttl_seconds: int = 3600,
    audience: str = "authenticated",
    algorithm: str = "HS256",
) -> str:
    """Mint a token (local development, tests and `make token`); AWS uses your IdP's tokens."""
    import time

    import jwt

    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": user_id,
        "aud": audience,
        "iat": now,
        "exp": now + ttl_seconds,
        "role": "admin" if admin else "authenticated",
    }
    if email:
        claims["email"] = email
    return jwt.encode(claims, secret, algorithm=algorithm)
