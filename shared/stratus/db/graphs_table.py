"""GraphsTable layout: one partition per graph (see docs/data-model.md)."""

from __future__ import annotations

import os
from functools import lru_cache

from stratus.db.dynamo import Table

BY_OWNER_INDEX = "ByOwner"
ACTIVE_SK = "ACTIVE"
VERSION_PREFIX = "V#"


@lru_cache(maxsize=1)
def graphs_table() -> Table:
    return Table(os.environ.get("GRAPHS_TABLE", "GraphsTable"))


def graph_pk(graph_id: str) -> str:
    return f"GRAPH#{graph_id}"


def version_key(graph_id: str, version: int) -> dict[str, str]:
    return {"PK": graph_pk(graph_id), "SK": f"{VERSION_PREFIX}{version:06d}"}


def active_key(graph_id: str) -> dict[str, str]:
    return {"PK": graph_pk(graph_id), "SK": ACTIVE_SK}


def owner_pk(user_id: str) -> str:
    return f"USER#{user_id}#GRAPHS"


# MAG graphs are addressed by name per user; the name items and the MCP server registry share
# the user's MAG partition (see docs/data-model.md).
def mag_pk(user_id: str) -> str:
    return f"USER#{user_id}#MAG"


MAG_NAME_PREFIX = "NAME#"


def mag_name_key(user_id: str, name: str) -> dict[str, str]:
    return {"PK": mag_pk(user_id), "SK": f"{MAG_NAME_PREFIX}{name}"}


def mag_servers_key(user_id: str) -> dict[str, str]:
    return {"PK": mag_pk(user_id), "SK": "MCP_SERVERS"}
