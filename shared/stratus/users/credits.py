"""The credits ledger: balance in cents, one transaction per idempotency key.

Every change is a single DynamoDB transaction of two items (stratus.db.users_table): the
balance item (optimistic version check, never below zero) and the transaction item (created
only if its idempotency key is new). A repeated key returns the first result and changes
nothing; concurrent writers retry on the version check.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from stratus.clock import now_iso
from stratus.db import users_table
from stratus.db.dynamo import TransactionCancelled, backoff
from stratus.errors import BadRequest, Conflict, InsufficientBalance
from stratus.users.models import Transaction, TransactionType

MAX_ATTEMPTS = 200
_CONDITION_FAILED = "ConditionalCheckFailed"


class TransactionHistory(BaseModel):
    transactions: list[Transaction]
    next_transaction_time: str | None
    next_cursor: str | None


def new_transaction(
    idempotency_key: str,
    tx_type: TransactionType,
    amount: int,
    running_balance: int,
    description: str | None = None,
    metadata: dict[str, Any] | None = None,
) -> Transaction:
    """A transaction made now (also used for the sign-up grant); `amount` is signed."""
    return Transaction(
        transaction_key=idempotency_key,
        transaction_time=now_iso(),
        transaction_type=tx_type,
        amount=amount,
        running_balance=running_balance,
        description=description,
        metadata=metadata,
    )


def get_balance(user_id: str) -> int:
    current = users_table.get_balance(user_id)
    return current.balance if current else 0


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
    for attempt in range(MAX_ATTEMPTS):
        current = users_table.get_balance(user_id)
        balance = current.balance if current else 0
        new_balance = balance + delta
        if new_balance < 0:
            existing = get_transaction(user_id, idempotency_key)  # a replay of a charge that went through
            if existing:
                return existing
            raise InsufficientBalance(balance, amount)
        tx = new_transaction(idempotency_key, tx_type, delta, new_balance, description, metadata)
        try:
            users_table.apply_transaction(user_id, tx, seen=current)
            return tx
        except TransactionCancelled as cancelled:
            key_used = cancelled.codes[1] == _CONDITION_FAILED
            existing = get_transaction(user_id, idempotency_key) if key_used else None
            if existing:
                return existing
            backoff(attempt)  # the balance moved under us: read it again
    raise Conflict("The balance is changing too fast; try the request again.")


def get_transaction(user_id: str, idempotency_key: str) -> Transaction | None:
    """The transaction made under this key, if any."""
    return users_table.get_transaction(user_id, idempotency_key)


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
    page = users_table.ledger_page(user_id, limit, cursor, transaction_type.value if transaction_type else None)
    last = page.transactions[-1] if page.next_cursor else None
    return TransactionHistory(
        transactions=page.transactions,
        next_transaction_time=last.transaction_time if last else None,
        next_cursor=page.next_cursor,
    )
