"""Settings read from the environment once per container."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True)
class Settings:
    users_table: str
    signup_credits: int
    jwt_algorithm: str
    jwt_audience: str
    # A verify key given directly (local runs, tests) wins over the SSM parameter name.
    jwt_verify_key: str | None
    jwt_verify_key_param: str | None
    low_balance_threshold: int


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings(
        users_table=os.environ.get("USERS_TABLE", "UsersTable"),
        signup_credits=int(os.environ.get("SIGNUP_CREDITS", "0")),
        jwt_algorithm=os.environ.get("JWT_ALGORITHM", "HS256"),
        jwt_audience=os.environ.get("JWT_AUDIENCE", "authenticated"),
        jwt_verify_key=os.environ.get("JWT_VERIFY_KEY") or None,
        jwt_verify_key_param=os.environ.get("JWT_VERIFY_KEY_PARAM") or None,
        low_balance_threshold=int(os.environ.get("LOW_BALANCE_THRESHOLD", "500")),
    )
