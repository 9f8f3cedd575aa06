"""Bulk writes the store needs beyond `Table`: batched puts/deletes and counter transactions.

Postings and word counts are written outside the approval transaction (a description can
hold hundreds of words, a transaction at most 100 items); readers only trust a posting
whose card exists, so a posting written early or deleted late never shows anything.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterable
from typing import Any

from stratus.aws import client
from stratus.db.dynamo import Table, TransactionCancelled, serialize
from stratus.observability import logger

BATCH_WRITE_LIMIT = 25
TRANSACTION_LIMIT = 100


def batch_write(table: Table, puts: Iterable[dict[str, Any]] = (), deletes: Iterable[dict[str, Any]] = ()) -> None:
    requests = [{"PutRequest": {"Item": serialize(item)}} for item in puts]
    requests += [{"DeleteRequest": {"Key": serialize(key)}} for key in deletes]
    dynamodb = client("dynamodb")
    for start in range(0, len(requests), BATCH_WRITE_LIMIT):
        pending: dict[str, Any] = {table.name: requests[start : start + BATCH_WRITE_LIMIT]}
        for attempt in range(8):
            unprocessed = dynamodb.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
            if not unprocessed:
                break
            pending = unprocessed
            time.sleep(min(0.05 * 2**attempt, 1.0))


def add_counts(table: Table, deltas: dict[str, int], count_sk: str) -> None:
    """ADD each delta to `<pk> / <count_sk>` (best effort: counts only steer search plans)."""
    updates = [
        table.update_op({"PK": pk, "SK": count_sk}, "ADD n :d", values={":d": delta})
        for pk, delta in sorted(deltas.items())
        if delta
    ]
    for start in range(0, len(updates), TRANSACTION_LIMIT):
        chunk = updates[start : start + TRANSACTION_LIMIT]
        for attempt in range(4):
            try:
                table.transact(chunk)
                break
            except TransactionCancelled:  # a concurrent approval touched the same counters
                time.sleep(0.02 * 2**attempt)
        else:
            logger.warning("Store word counts not updated", extra={"count": len(chunk)})


def backoff(attempt: int) -> None:
    """Full-jitter backoff before re-reading after a lost optimistic race."""
    time.sleep(random.uniform(0, min(0.1, 0.002 * 2**attempt)))
