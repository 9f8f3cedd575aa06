"""Library agents: a user's entry for every graph they create (or fork) and every store agent they add.

| item | PK | SK |
|---|---|---|
| library agent | `USER#<user_id>#LIBRARY` | `AGENT#<library_agent_id>` |

The owner is part of the partition key, so another user's id is simply not found (404), and a
user's whole library is one Query. No GSI: a library is small and read whole.

Library agent ids are derived, not random, so that the conditional Put of the entry is also
its uniqueness guard (no separate guard item, no race): one entry per own graph (it follows
the graph's active version) and one per added store graph version.
"""

from __future__ import annotations

import uuid
from typing import Any

from stratus.db.agents_table.table import agents_table
from stratus.db.dynamo import ConditionFailed, key_of

_AGENT_PREFIX = "AGENT#"
_LIBRARY_IDS = uuid.UUID("5d7f2c1e-3a9b-4e60-8c2d-1b7a9e4f6c03")
_LIVE = "attribute_exists(PK) AND is_deleted = :no"


def _library_pk(user_id: str) -> str:
    return f"USER#{user_id}#LIBRARY"


def _agent_key(user_id: str, library_agent_id: str) -> dict[str, str]:
    return key_of(_library_pk(user_id), f"{_AGENT_PREFIX}{library_agent_id}")


def created_agent_id(user_id: str, graph_id: str) -> str:
    """The entry of a graph the user created (or forked): one per graph."""
    return str(uuid.uuid5(_LIBRARY_IDS, f"{user_id}:created:{graph_id}"))


def store_agent_id(user_id: str, graph_id: str, graph_version: int) -> str:
    """The entry of a store agent the user added: one per graph version (AutoGPT's unique key)."""
    return str(uuid.uuid5(_LIBRARY_IDS, f"{user_id}:store:{graph_id}:{graph_version}"))


def add_entry(entry: dict[str, Any]) -> dict[str, Any]:
    """Put the entry (`user_id`, `id`, ...) unless it exists; a soft-deleted one comes back.
    Returns the entry as stored."""
    table = agents_table()
    key = _agent_key(entry["user_id"], entry["id"])
    try:
        table.put({**key, **entry}, condition="attribute_not_exists(PK)")
        return entry
    except ConditionFailed:
        pass
    existing = table.get(key, consistent=True)
    if existing and existing.get("is_deleted"):
        existing = table.update(
            key,
            "SET is_deleted = :no, updated_at = :now",
            values={":no": False, ":now": entry["updated_at"]},
            condition="attribute_exists(PK)",
        )
    return existing or entry


def get_entry(user_id: str, library_agent_id: str) -> dict[str, Any] | None:
    return agents_table().get(_agent_key(user_id, library_agent_id), consistent=True)


def entries_of(user_id: str) -> list[dict[str, Any]]:
    """The user's whole library, deleted entries included: one Query of their partition (all pages)."""
    return agents_table().query_all(
        "PK = :pk AND begins_with(SK, :agent)",
        {":pk": _library_pk(user_id), ":agent": _AGENT_PREFIX},
        consistent=True,
    )


def remove_entry(user_id: str, library_agent_id: str) -> None:
    """Hard delete: for an entry whose graph is gone for good."""
    agents_table().delete(_agent_key(user_id, library_agent_id))


def update_entry(user_id: str, library_agent_id: str, fields: dict[str, Any], now: str) -> None:
    """Set `fields` on a live (not soft-deleted) entry; raises ConditionFailed when there is none."""
    assignments = ", ".join(f"{name} = :{name}" for name in fields)
    agents_table().update(
        _agent_key(user_id, library_agent_id),
        f"SET {assignments}, updated_at = :now",
        values={**{f":{k}": v for k, v in fields.items()}, ":now": now, ":no": False},
        condition=_LIVE,
    )


def soft_delete_entry(user_id: str, library_agent_id: str, now: str) -> None:
    """Hide a live entry (revived when the store agent is added again); raises ConditionFailed when there is none."""
    agents_table().update(
        _agent_key(user_id, library_agent_id),
        "SET is_deleted = :yes, updated_at = :now",
        values={":yes": True, ":no": False, ":now": now},
        condition=_LIVE,
    )
