"""The credits ledger on moto's DynamoDB: idempotency, no overdraft, concurrency."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from stratus.errors import BadRequest, InsufficientBalance
from stratus.users import credits
from stratus.users.credits import TransactionType


def _ledger_sum(user_id: str) -> int:
    history = credits.list_transactions(user_id, limit=100)
    total, cursor = sum(t.amount for t in history.transactions), history.next_cursor
    while cursor:
        history = credits.list_transactions(user_id, limit=100, cursor=cursor)
        total += sum(t.amount for t in history.transactions)
        cursor = history.next_cursor
    return total


def test_repeated_idempotency_key_changes_nothing(aws):
    credits.record("u", TransactionType.TOP_UP, 500, "topup-1")
    first = credits.charge("u", 120, "node-exec-1")
    again = credits.charge("u", 120, "node-exec-1")
    assert again == first
    assert credits.get_balance("u") == 380
    assert _ledger_sum("u") == 380


def test_charge_that_would_overdraw_fails_cleanly(aws):
    credits.record("u", TransactionType.GRANT, 50, "grant")
    with pytest.raises(InsufficientBalance) as raised:
        credits.charge("u", 51, "too-much")
    assert raised.value.status_code == 402 and "50" in str(raised.value.detail)
    assert credits.get_balance("u") == 50
    assert [t.transaction_key for t in credits.list_transactions("u").transactions] == ["grant"]


def test_refund_and_running_balance(aws):
    credits.record("u", TransactionType.TOP_UP, 100, "t")
    credits.charge("u", 30, "c")
    refund = credits.record("u", TransactionType.REFUND, 30, "r")
    assert refund.running_balance == 100 and refund.amount == 30
    assert [t.running_balance for t in credits.list_transactions("u").transactions] == [100, 70, 100]


def test_non_positive_amounts_and_missing_keys_are_rejected(aws):
    with pytest.raises(BadRequest):
        credits.charge("u", 0, "zero")
    with pytest.raises(BadRequest):
        credits.record("u", TransactionType.TOP_UP, 10, "")


def test_200_concurrent_charges_against_100_credits(aws):
    credits.record("u", TransactionType.GRANT, 100, "grant")

    def charge(n: int) -> bool:
        try:
            credits.charge("u", 1, f"charge-{n}")
            return True
        except InsufficientBalance:
            return False

    with ThreadPoolExecutor(max_workers=50) as pool:
        results = list(pool.map(charge, range(200)))
    assert results.count(True) == 100
    assert credits.get_balance("u") == 0
    assert _ledger_sum("u") == credits.get_balance("u")
