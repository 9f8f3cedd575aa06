"""The table itself, its generic indexes and the writes shared by every item family."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from stratus.config import TablesSettings, get_settings
from stratus.db.dynamo import Table

GSI1, GSI2, GSI3 = "GSI1", "GSI2", "GSI3"  # generic: each item family gives them its own meaning

Op = dict[str, Any]  # one TransactWriteItems entry, built by the item family that owns the key


@lru_cache(maxsize=1)
def agents_table() -> Table:
    return Table(get_settings(TablesSettings).store_table)


def transact(ops: list[Op]) -> None:
    """Write `ops` atomically (raises TransactionCancelled when a condition fails)."""
    agents_table().transact(ops)


def set_or_remove(
    fields: dict[str, Any], extra_set: list[str] | None = None
) -> tuple[str, dict[str, str], dict[str, Any]]:
    """An update expression that SETs the non-None fields and REMOVEs the None ones (the serializer drops nulls)."""
    names, values, sets, removes = {}, {}, list(extra_set or []), []
    for position, (name, value) in enumerate(fields.items()):
        names[f"#f{position}"] = name
        if value is None:
            removes.append(f"#f{position}")
        else:
            values[f":f{position}"] = value
            sets.append(f"#f{position} = :f{position}")
    expression = ("SET " + ", ".join(sets)) if sets else ""
    if removes:
        expression += " REMOVE " + ", ".join(removes)
    return expression.strip(), names, values
