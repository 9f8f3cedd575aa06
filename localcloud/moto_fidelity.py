"""Make moto's DynamoDB behave like DynamoDB under concurrency.

DynamoDB applies each write, and each transaction, atomically and isolated from reads.
moto checks conditions and writes items in plain Python, so two threads can interleave
between the check and the write. One lock around every item operation restores the
guarantee our conditional writes and transactions rely on. Used by the local cloud and
by the tests that run moto in-process.
"""

from __future__ import annotations

import functools
import threading

_LOCK = threading.RLock()
_ITEM_OPERATIONS = (
    "put_item", "get_item", "update_item", "delete_item", "query", "scan",
    "transact_write_items", "execute_statement", "execute_transaction",
)
_applied = False


def apply() -> None:
    global _applied
    if _applied:
        return
    from moto.dynamodb.models import DynamoDBBackend

    for name in _ITEM_OPERATIONS:
        original = getattr(DynamoDBBackend, name)

        @functools.wraps(original)
        def locked(self, *args, __original=original, **kwargs):
            with _LOCK:
                return __original(self, *args, **kwargs)

        setattr(DynamoDBBackend, name, locked)
    _applied = True
