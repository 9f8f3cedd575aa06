"""ConnectionsTable layout: WebSocket connections and their channel subscriptions.

- `CONN#<connection_id> / META`: the connection (user_id, connected_at, expires_at).
- `SUB#<channel> / CONN#<connection_id>`: one subscription; a channel's subscribers are one
  Query. `GSI1PK = CONN#<connection_id>`, `GSI1SK = SUB#<channel>` (GSI `ByConnection`,
  KEYS_ONLY) finds a connection's subscriptions when it goes away.
Every item expires (`expires_at`, TTL) with its connection.
"""

from __future__ import annotations

import os
from functools import lru_cache

from stratus.db.dynamo import Table

BY_CONNECTION_INDEX = "ByConnection"
CONNECTION_TTL_SECONDS = 2 * 60 * 60  # API Gateway closes WebSocket connections after 2 hours
CONNECTION_PREFIX = "CONN#"
SUBSCRIPTION_PREFIX = "SUB#"


@lru_cache(maxsize=1)
def connections_table() -> Table:
    return Table(os.environ.get("CONNECTIONS_TABLE", "ConnectionsTable"))


def connection_pk(connection_id: str) -> str:
    return f"{CONNECTION_PREFIX}{connection_id}"


def channel_pk(channel: str) -> str:
    return f"{SUBSCRIPTION_PREFIX}{channel}"


def connection_key(connection_id: str) -> dict[str, str]:
    return {"PK": connection_pk(connection_id), "SK": "META"}


def subscription_key(channel: str, connection_id: str) -> dict[str, str]:
    return {"PK": channel_pk(channel), "SK": connection_pk(connection_id)}


def subscription_index_keys(channel: str, connection_id: str) -> dict[str, str]:
    return {"GSI1PK": connection_pk(connection_id), "GSI1SK": channel_pk(channel)}


def connection_id_of(sort_key: str) -> str:
    """The connection id in a subscription's sort key `CONN#<id>`."""
    return sort_key[len(CONNECTION_PREFIX) :]


def channel_of(partition_key: str) -> str:
    """The channel in a subscription's partition key `SUB#<channel>`."""
    return partition_key[len(SUBSCRIPTION_PREFIX) :]
