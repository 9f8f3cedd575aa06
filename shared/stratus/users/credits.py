"""The credits ledger: balance in cents, one transaction per idempotency key.

Every change is a single DynamoDB transaction of two items: the balance item
(optimistic version check, never below zero) and the transaction item (created
only if its idempotency key is new). A repeated key returns the first result and
changes nothing; concurrent writers retry on the version check.
"""

from __future__ import annotations

import random
import time
from enum import Enum
from typing import Any

from pydantic import BaseModel

from stratus.clock import now_iso
from stratus.db.dynamo import TransactionCancelled
from stratus.db.users_table import TX_BY_TIME_INDEX, balance_key, transaction_key, users_table
from stratus.errors import BadRequest, Conflict, InsufficientBalance

MAX_ATTEMPTS = 200
_CONDITION_FAILED = "ConditionalCheckFailed"


class TransactionType(str, Enum):
    TOP_UP = "TOP_UP"
    USAGE = "USAGE"
    GRANT = "GRANT"
    REFUND = "REFUND"


class Transaction(BaseModel):
    transaction_key: str
    transaction_time: str
    transaction_type: TransactionType
    amount: int
    running_balance: int
    description: str | None = None
    metadata: dict[str, Any] | None = None


class TransactionHistory(BaseModel):
    transactions: list[Transaction]
    next_transaction_time: str | None
    next_cursor: str | None


def transaction_item(
    user_id: str,
    idempotency_key: str,
    tx_type: TransactionType,
    amount: int,
    running_balance: int,
    description: str | None = None,
    metadata: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The stored form of one ledger transaction (also used for the sign-up grant)."""
    created_at = now_iso()
    return {
        **transaction_key(user_id, idempotency_key),
        "tx_time_key": f"{created_at}#{idempotency_key}",
        "transaction_key": idempotency_key,
        "transaction_time": created_at,
        "transaction_type": tx_type.value,
        "amount": amount,
        "running_balance": running_balance,
        "description": description,
        "metadata": metadata,
    }


def balance_item(user_id: str, balance: int, version: int = 1) -> dict[str, Any]:
    return {**balance_key(user_id), "balance": balance, "version": version, "updated_at": now_iso()}


def get_balance(user_id: str) -> int:
    item = users_table().get(balance_key(user_id), consistent=True)
    return int(item["balance"]) if item else 0


def _signed_amount(tx_type: TransactionType, amount: int) -> int:
    if amount <= 0:
        raise BadRequest("Amount must be a positive number of credits.")
    return -amount if tx_type is TransactionType.USAGE else amount


def record(
    user_id: str,
    tx_type: TransactionType,
    amount: int,
    idempotency_key: str,
    description: str | None = None,
    metadata: dict[str, Any] | None = None,
) -> Transaction:
    """Apply one transaction. USAGE subtracts `amount`; the others add it.

    Raises InsufficientBalance (nothing written) when a charge would overdraw.
    """
    if not idempotency_key:
        raise BadRequest("An idempotency key is required for every credit transaction.")
    delta = _signed_amount(tx_type, amount)
    table = users_table()
    for attempt in range(MAX_ATTEMPTS):
        current = table.get(balance_key(user_id), consistent=True)
        balance = int(current["balance"]) if current else 0
        version = int(current["version"]) if current else 0
        new_balance = balance + delta
        if new_balance < 0:
            existing = _existing(user_id, idempotency_key)  # a replay of a charge that went through
            if existing:
                return existing
            raise InsufficientBalance(balance, amount)
        tx = transaction_item(user_id, idempotency_key, tx_type, delta, new_balance, description, metadata)
        if current:
            guard = table.update_op(
                balance_key(user_id),
                "SET balance = :balance, version = :next, updated_at = :now",
                values={
                    ":balance": new_balance,
                    ":next": version + 1,
                    ":now": tx["transaction_time"],
                    ":version": version,
                },
                condition="version = :version",
            )
        else:
            guard = table.put_op(balance_item(user_id, new_balance), condition="attribute_not_exists(PK)")
        try:
            table.transact([guard, table.put_op(tx, condition="attribute_not_exists(PK)")])
            return Transaction.model_validate(tx)
        except TransactionCancelled as cancelled:
            key_used = cancelled.codes[1] == _CONDITION_FAILED
            existing = _existing(user_id, idempotency_key) if key_used else None
            if existing:
                return existing
            # The balance moved under us: read it again after a full-jitter backoff.
            time.sleep(random.uniform(0, min(0.1, 0.002 * 2**attempt)))
    raise Conflict("The balance is changing too fast; try the request again.")


def _existing(user_id: str, idempotency_key: str) -> Transaction | None:
    item = users_table().get(transaction_key(user_id, idempotency_key), consistent=True)
    return Transaction.model_validate(item) if item else None


def get_transaction(user_id: str, idempotency_key: str) -> Transaction | None:
    """The transaction made under this key, if any."""
    return _existing(user_id, idempotency_key)


def charge(
    user_id: str,
    amount: int,
    idempotency_key: str,
    description: str | None = None,
    metadata: dict[str, Any] | None = None,
) -> Transaction:
    return record(user_id, TransactionType.USAGE, amount, idempotency_key, description, metadata)


def list_transactions(
    user_id: str, limit: int = 100, cursor: str | None = None, transaction_type: TransactionType | None = None
) -> TransactionHistory:
    """Newest first. `cursor` is a transaction time (AutoGPT) or a `next_cursor` from a page."""
    table = users_table()
    condition = "PK = :pk"
    values: dict[str, Any] = {":pk": f"USER#{user_id}"}
    if cursor:
        condition += " AND tx_time_key < :cursor"
        values[":cursor"] = cursor
    filter_expression = None
    if transaction_type:
        filter_expression = "transaction_type = :tx_type"
        values[":tx_type"] = transaction_type.value
    found: list[dict[str, Any]] = []
    start_key = None
    while len(found) < limit:
        items, start_key = table.query(
            condition,
            values,
            index=TX_BY_TIME_INDEX,
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
    last = found[-1] if (found and more) else None
    return TransactionHistory(
        transactions=[Transaction.model_validate(item) for item in found],
        next_transaction_time=last["transaction_time"] if last else None,
        next_cursor=last["tx_time_key"] if last else None,
    )
