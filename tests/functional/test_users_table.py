"""The UsersTable repository on moto: round trips, and the item layout of docs/data-model.md."""

from __future__ import annotations

import pytest

from stratus.config import TablesSettings, get_settings
from stratus.db import users_table
from stratus.db.dynamo import ConditionFailed, Table, TransactionCancelled
from stratus.users.models import Transaction, TransactionType


def _raw() -> Table:
    return Table(get_settings(TablesSettings).users_table)


def _tx(key: str, amount: int, balance: int, at: str = "2024-01-01T00:00:00+00:00") -> Transaction:
    return Transaction(
        transaction_key=key,
        transaction_time=at,
        transaction_type=TransactionType.USAGE if amount < 0 else TransactionType.TOP_UP,
        amount=amount,
        running_balance=balance,
    )


def test_user_profile_email_balance_and_grant_round_trip(aws):
    profile = {"id": "u1", "email": "a@example.com", "timezone": "not-set", "created_at": "t0", "updated_at": "t0"}
    users_table.create_user("u1", profile, "a@example.com", 50, _tx("signup-grant", 50, 50))
    assert users_table.get_profile("u1") == {**profile, "PK": "USER#u1", "SK": "PROFILE"}
    assert _raw().get({"PK": "EMAIL#a@example.com", "SK": "EMAIL"}) == {
        "PK": "EMAIL#a@example.com",
        "SK": "EMAIL",
        "user_id": "u1",
    }
    assert users_table.get_balance("u1") == users_table.Balance(50, 1)
    with pytest.raises(TransactionCancelled) as again:
        users_table.create_user("u2", {**profile, "id": "u2"}, "a@example.com", 0, None)
    assert again.value.codes[1] == "ConditionalCheckFailed"  # the email guard

    users_table.change_email("u1", "b@example.com", "a@example.com", "t1")
    assert users_table.get_profile("u1")["email"] == "b@example.com"
    assert _raw().get({"PK": "EMAIL#a@example.com", "SK": "EMAIL"}) is None
    users_table.set_timezone("u1", "Europe/Paris", "t2")
    users_table.set_preferences("u1", {"AGENT_RUN": False}, 7, "t3")
    stored = users_table.get_profile("u1")
    assert (stored["timezone"], stored["preferences"], stored["daily_limit"]) == (
        "Europe/Paris",
        {"AGENT_RUN": False},
        7,
    )
    with pytest.raises(ConditionFailed):
        users_table.set_timezone("nobody", "UTC", "t4")


def test_ledger_transactions_page_and_batch_get(aws):
    users_table.apply_transaction("u1", _tx("k1", 100, 100, "2024-01-01"), seen=None)
    users_table.apply_transaction("u1", _tx("k2", -30, 70, "2024-01-02"), seen=users_table.Balance(100, 1))
    with pytest.raises(TransactionCancelled) as stale:  # the version moved on
        users_table.apply_transaction("u1", _tx("k3", -10, 90, "2024-01-03"), seen=users_table.Balance(100, 1))
    assert stale.value.codes[0] == "ConditionalCheckFailed"
    assert users_table.get_balance("u1") == users_table.Balance(70, 2)
    assert _raw().get({"PK": "USER#u1", "SK": "TX#k2"})["tx_time_key"] == "2024-01-02#k2"
    assert users_table.get_transaction("u1", "k2") == _tx("k2", -30, 70, "2024-01-02")

    first = users_table.ledger_page("u1", 1, None, None)
    assert [t.transaction_key for t in first.transactions] == ["k2"] and first.next_cursor == "2024-01-02#k2"
    rest = users_table.ledger_page("u1", 5, first.next_cursor, None)
    assert [t.transaction_key for t in rest.transactions] == ["k1"] and rest.next_cursor is None
    top_ups = users_table.ledger_page("u1", 5, None, "TOP_UP")
    assert [t.transaction_key for t in top_ups.transactions] == ["k1"]

    found = users_table.transactions_by_keys("u1", ["k1", "k2", "missing"])
    assert sorted(t.transaction_key for t in found) == ["k1", "k2"]
    assert users_table.transactions_by_keys("u1", []) == []


def test_api_keys_credentials_and_model_configs(aws):
    item = users_table.put_api_key("digest", "u1", "key1", {"status": "ACTIVE", "created_at": "t0"})
    assert (item["PK"], item["SK"], item["GSI1PK"], item["GSI1SK"]) == (
        "APIKEY#digest",
        "APIKEY",
        "USER#u1#APIKEYS",
        "APIKEY#key1",
    )
    assert users_table.get_api_key_by_digest("digest") == item
    assert users_table.get_owned_api_key("u1", "key1") == item
    assert users_table.get_owned_api_key("u2", "key1") is None
    assert users_table.api_keys_of("u1") == [item]
    revoked = users_table.update_api_key(item, {"status": "REVOKED", "revoked_at": "t1"}, owner="u1")
    assert (revoked["status"], revoked["revoked_at"]) == ("REVOKED", "t1")
    with pytest.raises(ConditionFailed):
        users_table.update_api_key(item, {"status": "SUSPENDED"}, owner="u1", unless_status="REVOKED")
    with pytest.raises(ConditionFailed):
        users_table.update_api_key(item, {"name": "x"}, owner="u2")
    users_table.touch_api_key(item, "t2")
    assert users_table.get_api_key_by_digest("digest")["last_used_at"] == "t2"

    users_table.put_credentials("u1", "c1", {"id": "c1", "provider": "openai"})
    assert users_table.get_credentials("u1", "c1") == {
        "PK": "USER#u1",
        "SK": "CRED#c1",
        "id": "c1",
        "provider": "openai",
    }
    assert [c["id"] for c in users_table.credentials_of("u1")] == ["c1"]
    users_table.delete_credentials("u1", "c1")
    assert users_table.get_credentials("u1", "c1") is None

    users_table.put_model_config("u1", "m1", {"name": "m1"}, only_if_new=True)
    with pytest.raises(ConditionFailed):
        users_table.put_model_config("u1", "m1", {"name": "m1"}, only_if_new=True)
    with pytest.raises(ConditionFailed):
        users_table.put_model_config("u1", "m2", {"name": "m2"}, only_if_new=False)
    users_table.put_model_config("u1", "m1", {"name": "m1", "model": "x"})
    assert users_table.get_model_config("u1", "m1") == {"PK": "USER#u1", "SK": "MODEL#m1", "name": "m1", "model": "x"}
    assert [m["name"] for m in users_table.model_configs_of("u1")] == ["m1"]
    users_table.delete_model_config("u1", "m1")
    assert users_table.model_configs_of("u1") == []
