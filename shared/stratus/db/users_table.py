"""The UsersTable repository: every key and every read and write of the table (docs/data-model.md).

Services pass attributes and models; this module adds the keys and writes the conditions.
A transaction that fails raises `TransactionCancelled`; each function says in which order its
items are written, so a service can tell which condition failed.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from typing import Any, NamedTuple

from stratus.config import TablesSettings, get_settings
from stratus.db.dynamo import Table, key_of
from stratus.users.models import Transaction

# Local secondary index: a user's ledger in time order (strongly consistent reads).
_TX_BY_TIME_INDEX = "TxByTime"
# Global secondary index: items owned by a user that live under another partition (API keys).
_BY_USER_INDEX = "ByUser"
_CREDENTIALS_PREFIX = "CRED#"
_MODEL_CONFIG_PREFIX = "MODEL#"
_IF_NEW = "attribute_not_exists(PK)"
_IF_EXISTS = "attribute_exists(PK)"


@lru_cache(maxsize=1)
def _table() -> Table:
    return Table(get_settings(TablesSettings).users_table)


def _user_pk(user_id: str) -> str:
    return f"USER#{user_id}"


def _profile_key(user_id: str) -> dict[str, str]:
    return key_of(_user_pk(user_id), "PROFILE")


def _email_key(email: str) -> dict[str, str]:
    return key_of(f"EMAIL#{email.lower()}", "EMAIL")


def _balance_key(user_id: str) -> dict[str, str]:
    return key_of(_user_pk(user_id), "CREDIT")


def _transaction_key(user_id: str, idempotency_key: str) -> dict[str, str]:
    return key_of(_user_pk(user_id), f"TX#{idempotency_key}")


def settle_ledger_key(charge_key: str) -> str:
    """The ledger key that settles a prepaid charge (a refund of what it did not use, or the excess)."""
    return f"{charge_key}#settle"


def usage_ledger_key(node_exec_id: str) -> str:
    """The ledger key of a node execution's charge after its run (SECOND costs)."""
    return f"{node_exec_id}#usage"


def _api_key_key(lookup_digest: str) -> dict[str, str]:
    return key_of(f"APIKEY#{lookup_digest}", "APIKEY")


def _api_keys_pk(user_id: str) -> str:
    return f"USER#{user_id}#APIKEYS"


def _api_key_sk(key_id: str) -> str:
    return f"APIKEY#{key_id}"


def _credentials_key(user_id: str, credentials_id: str) -> dict[str, str]:
    return key_of(_user_pk(user_id), f"{_CREDENTIALS_PREFIX}{credentials_id}")


def _model_config_key(user_id: str, name: str) -> dict[str, str]:
    return key_of(_user_pk(user_id), f"{_MODEL_CONFIG_PREFIX}{name}")


def _key_of_item(item: dict[str, Any]) -> dict[str, str]:
    return key_of(item["PK"], item["SK"])


def _user_items(user_id: str, sk_prefix: str) -> list[dict[str, Any]]:
    """Every item of one kind in a user's partition, all pages."""
    return _table().query_all(
        "PK = :pk AND begins_with(SK, :prefix)",
        {":pk": _user_pk(user_id), ":prefix": sk_prefix},
        consistent=True,
    )


# --- profile and email guard -------------------------------------------------------------
def get_profile(user_id: str) -> dict[str, Any] | None:
    return _table().get(_profile_key(user_id), consistent=True)


def create_user(
    user_id: str, profile: dict[str, Any], email: str | None, balance: int, grant: Transaction | None
) -> None:
    """One transaction, each item only if new, in this order: the profile, the email guard
    (when `email`), the balance and the sign-up grant (when `grant`)."""
    table = _table()
    operations = [table.put_op({**profile, **_profile_key(user_id)}, condition=_IF_NEW)]
    if email:
        operations.append(table.put_op({**_email_key(email), "user_id": user_id}, condition=_IF_NEW))
    updated_at = grant.transaction_time if grant else profile["created_at"]
    operations.append(table.put_op(_balance_item(user_id, balance, 1, updated_at), condition=_IF_NEW))
    if grant:
        operations.append(table.put_op(_transaction_item(user_id, grant), condition=_IF_NEW))
    table.transact(operations)


def change_email(user_id: str, email: str, old_email: str | None, now: str) -> None:
    """One transaction, in this order: claim the new address (free or already this user's),
    set it on the profile (still holding `old_email`), release the old address (when any)."""
    table = _table()
    profile_values: dict[str, Any] = {":email": email, ":now": now}
    if old_email:
        profile_condition = "attribute_exists(PK) AND email = :old"
        profile_values[":old"] = old_email
    else:
        profile_condition = "attribute_exists(PK) AND attribute_not_exists(email)"
    operations = [
        table.put_op(
            {**_email_key(email), "user_id": user_id},
            condition="attribute_not_exists(PK) OR user_id = :user_id",
            values={":user_id": user_id},
        ),
        table.update_op(
            _profile_key(user_id),
            "SET email = :email, updated_at = :now",
            values=profile_values,
            condition=profile_condition,
        ),
    ]
    if old_email:
        operations.append(
            table.delete_op(_email_key(old_email), condition="user_id = :user_id", values={":user_id": user_id})
        )
    table.transact(operations)


def set_timezone(user_id: str, timezone: str, now: str) -> None:
    """Raises ConditionFailed when the user has no profile."""
    _table().update(
        _profile_key(user_id),
        "SET #tz = :tz, updated_at = :now",
        names={"#tz": "timezone"},
        values={":tz": timezone, ":now": now},
        condition=_IF_EXISTS,
    )


def set_preferences(user_id: str, preferences: dict[str, bool], daily_limit: int | None, now: str) -> None:
    """Raises ConditionFailed when the user has no profile; a None `daily_limit` keeps it."""
    expression = "SET preferences = :prefs, updated_at = :now"
    values: dict[str, Any] = {":prefs": preferences, ":now": now}
    if daily_limit is not None:
        expression += ", daily_limit = :limit"
        values[":limit"] = daily_limit
    _table().update(_profile_key(user_id), expression, values=values, condition=_IF_EXISTS)


# --- balance and ledger ------------------------------------------------------------------
class Balance(NamedTuple):
    balance: int  # cents
    version: int  # optimistic lock: every change increments it


def _balance_item(user_id: str, balance: int, version: int, updated_at: str) -> dict[str, Any]:
    return {**_balance_key(user_id), "balance": balance, "version": version, "updated_at": updated_at}


def _transaction_item(user_id: str, transaction: Transaction) -> dict[str, Any]:
    return {
        **transaction.model_dump(),
        **_transaction_key(user_id, transaction.transaction_key),
        "tx_time_key": _tx_time_key(transaction),
        "transaction_type": transaction.transaction_type.value,
    }


def _tx_time_key(transaction: Transaction) -> str:
    return f"{transaction.transaction_time}#{transaction.transaction_key}"


def get_balance(user_id: str) -> Balance | None:
    item = _table().get(_balance_key(user_id), consistent=True)
    return Balance(int(item["balance"]), int(item["version"])) if item else None


def apply_transaction(user_id: str, transaction: Transaction, seen: Balance | None) -> None:
    """One transaction, in this order: set the balance to `transaction.running_balance` (only if
    it is still `seen`: its version, or no balance item when None), put the ledger item (only
    if its idempotency key is new)."""
    table = _table()
    if seen:
        guard = table.update_op(
            _balance_key(user_id),
            "SET balance = :balance, version = :next, updated_at = :now",
            values={
                ":balance": transaction.running_balance,
                ":next": seen.version + 1,
                ":now": transaction.transaction_time,
                ":version": seen.version,
            },
            condition="version = :version",
        )
    else:
        item = _balance_item(user_id, transaction.running_balance, 1, transaction.transaction_time)
        guard = table.put_op(item, condition=_IF_NEW)
    table.transact([guard, table.put_op(_transaction_item(user_id, transaction), condition=_IF_NEW)])


def get_transaction(user_id: str, idempotency_key: str) -> Transaction | None:
    item = _table().get(_transaction_key(user_id, idempotency_key), consistent=True)
    return Transaction.model_validate(item) if item else None


def transactions_by_keys(user_id: str, idempotency_keys: Iterable[str]) -> list[Transaction]:
    """The user's ledger transactions made under these keys (those that exist), consistent."""
    keys = [_transaction_key(user_id, key) for key in idempotency_keys]
    return [Transaction.model_validate(item) for item in _table().batch_get(keys, consistent=True)] if keys else []


class LedgerPage(NamedTuple):
    transactions: list[Transaction]
    next_cursor: str | None  # for `ledger_page(before=...)`; None on the last page


def ledger_page(user_id: str, limit: int, before: str | None, transaction_type: str | None) -> LedgerPage:
    """Up to `limit` transactions newest first, older than the cursor `before` (a transaction
    time or a `next_cursor`), of one type when given."""
    condition = "PK = :pk"
    values: dict[str, Any] = {":pk": _user_pk(user_id)}
    if before:
        condition += " AND tx_time_key < :cursor"
        values[":cursor"] = before
    filter_expression = None
    if transaction_type:
        filter_expression = "transaction_type = :tx_type"
        values[":tx_type"] = transaction_type
    found: list[dict[str, Any]] = []
    start_key = None
    while len(found) < limit:  # a filter can leave pages short: read on until the page is full
        items, start_key = _table().query(
            condition,
            values,
            index=_TX_BY_TIME_INDEX,
            forward=False,
            limit=limit - len(found),
            start_key=start_key,
            consistent=True,
            filter_expression=filter_expression,
        )
        found.extend(items)
        if not start_key:
            break
    more = start_key is not None and len(found) == limit
    return LedgerPage(
        [Transaction.model_validate(item) for item in found], found[-1]["tx_time_key"] if found and more else None
    )


# --- API keys ------------------------------------------------------------------------------
def put_api_key(lookup_digest: str, user_id: str, key_id: str, attributes: dict[str, Any]) -> dict[str, Any]:
    """Store a new key (its digest must be new); returns the stored item."""
    item = {
        **attributes,
        **_api_key_key(lookup_digest),
        "GSI1PK": _api_keys_pk(user_id),
        "GSI1SK": _api_key_sk(key_id),
        "key_id": key_id,
        "user_id": user_id,
    }
    _table().put(item, condition=_IF_NEW)
    return item


def get_api_key_by_digest(lookup_digest: str) -> dict[str, Any] | None:
    return _table().get(_api_key_key(lookup_digest), consistent=True)


def get_owned_api_key(user_id: str, key_id: str) -> dict[str, Any] | None:
    """The key item, only if `user_id` owns it (the owner is part of the index key)."""
    items, _ = _table().query(
        "GSI1PK = :pk AND GSI1SK = :sk",
        {":pk": _api_keys_pk(user_id), ":sk": _api_key_sk(key_id)},
        index=_BY_USER_INDEX,
    )
    return items[0] if items else None


def api_keys_of(user_id: str) -> list[dict[str, Any]]:
    return _table().query_all("GSI1PK = :pk", {":pk": _api_keys_pk(user_id)}, index=_BY_USER_INDEX)


def update_api_key(
    stored: dict[str, Any], changes: dict[str, Any], owner: str, unless_status: str | None = None
) -> dict[str, Any]:
    """SET `changes` on a stored key item, only if `owner` owns it and (when given) its status is
    not `unless_status`; returns the updated item. Raises ConditionFailed otherwise."""
    names = {f"#a{i}": name for i, name in enumerate(changes)}
    values: dict[str, Any] = {f":a{i}": value for i, value in enumerate(changes.values())}
    values[":owner"] = owner
    condition = "user_id = :owner"
    if unless_status is not None:
        names["#status"] = "status"
        values[":unless_status"] = unless_status
        condition += " AND #status <> :unless_status"
    expression = "SET " + ", ".join(f"{name} = :{name[1:]}" for name in names if name != "#status")
    return _table().update(_key_of_item(stored), expression, names=names, values=values, condition=condition)


def touch_api_key(stored: dict[str, Any], now: str) -> None:
    _table().update(_key_of_item(stored), "SET last_used_at = :now", values={":now": now})


# --- integration credentials ------------------------------------------------------------------
def put_credentials(user_id: str, credentials_id: str, attributes: dict[str, Any]) -> None:
    _table().put({**attributes, **_credentials_key(user_id, credentials_id)}, condition=_IF_NEW)


def get_credentials(user_id: str, credentials_id: str) -> dict[str, Any] | None:
    return _table().get(_credentials_key(user_id, credentials_id), consistent=True)


def credentials_of(user_id: str) -> list[dict[str, Any]]:
    return _user_items(user_id, _CREDENTIALS_PREFIX)


def delete_credentials(user_id: str, credentials_id: str) -> None:
    _table().delete(_credentials_key(user_id, credentials_id))


# --- MAG model configs ------------------------------------------------------------------------
def put_model_config(user_id: str, name: str, attributes: dict[str, Any], only_if_new: bool | None = None) -> None:
    """`only_if_new`: True for a name that must be free, False for one that must exist, None
    for either. Raises ConditionFailed when the condition does not hold."""
    condition = None if only_if_new is None else (_IF_NEW if only_if_new else _IF_EXISTS)
    _table().put({**attributes, **_model_config_key(user_id, name)}, condition=condition)


def get_model_config(user_id: str, name: str) -> dict[str, Any] | None:
    return _table().get(_model_config_key(user_id, name), consistent=True)


def model_configs_of(user_id: str) -> list[dict[str, Any]]:
    return _user_items(user_id, _MODEL_CONFIG_PREFIX)


def delete_model_config(user_id: str, name: str) -> None:
    _table().delete(_model_config_key(user_id, name))


# --- block key-value data (PersistInformationBlock / RetrieveInformationBlock) ----------------
_KV_PREFIX = "KV#"
# A sort key holds at most 1,024 bytes; the item at most 400 KB (the rest: keys and attributes).
KV_KEY_MAX_BYTES = 1_024 - len(_KV_PREFIX)
KV_DATA_MAX_BYTES = 380_000


def _kv_key(user_id: str, storage_key: str) -> dict[str, str]:
    return key_of(_user_pk(user_id), f"{_KV_PREFIX}{storage_key}")


def get_kv_data(user_id: str, storage_key: str) -> str | None:
    """The JSON text stored under a user's key, or None (AutoGPT's get_execution_kv_data)."""
    item = _table().get(_kv_key(user_id, storage_key), consistent=True)
    return item.get("data") if item else None


def put_kv_data(user_id: str, storage_key: str, data: str, node_exec_id: str, now: str) -> None:
    """Create or replace a user's key (AutoGPT's set_execution_kv_data upsert): `data` is JSON
    text, `node_exec_id` the node execution that wrote it last."""
    _table().put({**_kv_key(user_id, storage_key), "data": data, "node_exec_id": node_exec_id, "updated_at": now})
