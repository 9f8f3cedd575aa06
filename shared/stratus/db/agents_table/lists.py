"""Lists: partitions read a page at a time, each with a `COUNT` item.

A list is a scope of cards, a word's postings, the creators, all listings, or the versions in
one status. Items of a list are keyed by the same SK as the card they point at, so
intersecting lists is a membership test on (list, SK). Counts are kept in the transactions
that add or remove items, except word counts (best effort: they only steer search plans).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from stratus.db.agents_table.table import Op, agents_table
from stratus.db.dynamo import TRANSACTION_LIMIT, TransactionCancelled, backoff, key_of
from stratus.observability import logger

COUNT_SK = "COUNT"


@dataclass(frozen=True)
class Sort:
    """A list's order: its base table SK (index None) or one of its GSIs."""

    index: str | None
    forward: bool


def status_list(status: str) -> str:
    """The versions of every listing in one status."""
    return f"STORE#STATUS#{status}"


def count_key(list_id: str) -> dict[str, str]:
    return key_of(list_id, COUNT_SK)


def add_count_op(list_id: str, delta: int) -> Op:
    return agents_table().update_op(count_key(list_id), "ADD n :d", values={":d": delta})


def add_counts(deltas: dict[str, int]) -> None:
    """ADD each delta to its list's count, outside any other transaction (best effort).

    Not `transact_chunked`: an ADD is not idempotent, so each chunk is retried on its own."""
    ops = [add_count_op(list_id, delta) for list_id, delta in sorted(deltas.items()) if delta]
    for start in range(0, len(ops), TRANSACTION_LIMIT):
        chunk = ops[start : start + TRANSACTION_LIMIT]
        for attempt in range(4):
            try:
                agents_table().transact(chunk)
                break
            except TransactionCancelled:  # a concurrent approval touched the same counters
                backoff(attempt)
        else:
            logger.warning("Store word counts not updated", extra={"count": len(chunk)})


def count(list_id: str) -> int:
    item = agents_table().get(count_key(list_id))
    return int(item["n"]) if item else 0


def counts(list_ids: list[str]) -> dict[str, int]:
    """Each list's count (0 when it has none), one BatchGetItem."""
    found = {list_id: 0 for list_id in list_ids}
    for item in agents_table().batch_get([count_key(list_id) for list_id in list_ids]):
        found[item["PK"]] = int(item.get("n", 0))
    return found


def read(
    list_id: str, prefix: str, sort: Sort, limit: int, start: dict[str, Any] | None = None
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """One page of a list in `sort` order from `start` (a `resume_key`), and whether more follow."""
    if sort.index:
        condition, values = f"{sort.index}PK = :pk", {":pk": list_id}
    else:
        condition, values = "PK = :pk AND begins_with(SK, :prefix)", {":pk": list_id, ":prefix": prefix}
    return agents_table().query(condition, values, index=sort.index, forward=sort.forward, start_key=start, limit=limit)


def resume_key(item: dict[str, Any], sort: Sort) -> dict[str, Any]:
    """Where a read in `sort` order resumes after `item`."""
    key = key_of(item["PK"], item["SK"])
    if sort.index:
        key.update({f"{sort.index}PK": item[f"{sort.index}PK"], f"{sort.index}SK": item[f"{sort.index}SK"]})
    return key


def read_after(list_id: str, prefix: str, after_sk: str | None, limit: int) -> tuple[list[dict[str, Any]], bool]:
    """One page of a list in SK order, after the item keyed `after_sk`; and whether more follow."""
    start = key_of(list_id, after_sk) if after_sk else None
    items, more = read(list_id, prefix, Sort(None, True), limit, start)
    return items, more is not None


def members(list_ids: list[str], sks: list[str]) -> set[tuple[str, str]]:
    """The (list, SK) pairs that exist among every list × every SK."""
    keys = [key_of(list_id, sk) for sk in sks for list_id in list_ids]
    return {(i["PK"], i["SK"]) for i in agents_table().batch_get(keys)} if keys else set()


def items_at(list_id: str, sks: list[str]) -> dict[str, dict[str, Any]]:
    """The items of one list at these SKs, by SK."""
    if not sks:
        return {}
    return {i["SK"]: i for i in agents_table().batch_get([key_of(list_id, sk) for sk in sks])}
