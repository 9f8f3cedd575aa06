"""Keys of a user's library entries and presets in the StoreTable.

| item | PK | SK |
|---|---|---|
| library agent | `USER#<user_id>#LIBRARY` | `AGENT#<library_agent_id>` |
| preset | `USER#<user_id>#PRESETS` | `PRESET#<preset_id>` |

The owner is part of the partition key, so another user's id is simply not found (404), and a
user's whole library (or preset list) is one Query. No GSI: a library is small and read whole.

Library agent ids are derived, not random, so that the conditional Put of the entry is also
its uniqueness guard (no separate guard item, no race): one entry per own graph (it follows
the graph's active version) and one per added store graph version.
"""

from __future__ import annotations

import uuid

AGENT_PREFIX = "AGENT#"
PRESET_PREFIX = "PRESET#"
_LIBRARY_IDS = uuid.UUID("5d7f2c1e-3a9b-4e60-8c2d-1b7a9e4f6c03")


def library_pk(user_id: str) -> str:
    return f"USER#{user_id}#LIBRARY"


def agent_key(user_id: str, library_agent_id: str) -> dict[str, str]:
    return {"PK": library_pk(user_id), "SK": f"{AGENT_PREFIX}{library_agent_id}"}


def created_agent_id(user_id: str, graph_id: str) -> str:
    """The entry of a graph the user created (or forked): one per graph."""
    return str(uuid.uuid5(_LIBRARY_IDS, f"{user_id}:created:{graph_id}"))


def store_agent_id(user_id: str, graph_id: str, graph_version: int) -> str:
    """The entry of a store agent the user added: one per graph version (AutoGPT's unique key)."""
    return str(uuid.uuid5(_LIBRARY_IDS, f"{user_id}:store:{graph_id}:{graph_version}"))


def presets_pk(user_id: str) -> str:
    return f"USER#{user_id}#PRESETS"


def preset_key(user_id: str, preset_id: str) -> dict[str, str]:
    return {"PK": presets_pk(user_id), "SK": f"{PRESET_PREFIX}{preset_id}"}
