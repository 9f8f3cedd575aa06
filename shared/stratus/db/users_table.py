"""UsersTable layout: every key of every item kind lives here (see docs/data-model.md)."""

from __future__ import annotations

from functools import lru_cache

from stratus.config import get_settings
from stratus.db.dynamo import Table

# Local secondary index: a user's ledger in time order (strongly consistent reads).
TX_BY_TIME_INDEX = "TxByTime"
# Global secondary index: items owned by a user that live under another partition (API keys).
BY_USER_INDEX = "ByUser"


@lru_cache(maxsize=1)
def users_table() -> Table:
    return Table(get_settings().users_table)


def profile_key(user_id: str) -> dict[str, str]:
    return {"PK": f"USER#{user_id}", "SK": "PROFILE"}


def email_key(email: str) -> dict[str, str]:
    return {"PK": f"EMAIL#{email.lower()}", "SK": "EMAIL"}


def balance_key(user_id: str) -> dict[str, str]:
    return {"PK": f"USER#{user_id}", "SK": "CREDIT"}


def transaction_key(user_id: str, idempotency_key: str) -> dict[str, str]:
    return {"PK": f"USER#{user_id}", "SK": f"TX#{idempotency_key}"}


def api_key_key(lookup_digest: str) -> dict[str, str]:
    return {"PK": f"APIKEY#{lookup_digest}", "SK": "APIKEY"}


def api_key_owner_keys(user_id: str, key_id: str) -> dict[str, str]:
    return {"GSI1PK": f"USER#{user_id}#APIKEYS", "GSI1SK": f"APIKEY#{key_id}"}


CREDENTIALS_PREFIX = "CRED#"
MODEL_CONFIG_PREFIX = "MODEL#"


def credentials_key(user_id: str, credentials_id: str) -> dict[str, str]:
    return {"PK": f"USER#{user_id}", "SK": f"{CREDENTIALS_PREFIX}{credentials_id}"}


def model_config_key(user_id: str, name: str) -> dict[str, str]:
    return {"PK": f"USER#{user_id}", "SK": f"{MODEL_CONFIG_PREFIX}{name}"}


def user_items(user_id: str, sk_prefix: str) -> list[dict]:
    """Every item of one kind in a user's partition (credentials, model configs), all pages."""
    items: list[dict] = []
    start_key = None
    while True:
        page, start_key = users_table().query(
            "PK = :pk AND begins_with(SK, :prefix)",
            {":pk": f"USER#{user_id}", ":prefix": sk_prefix},
            start_key=start_key,
            consistent=True,
        )
        items.extend(page)
        if not start_key:
            return items
