"""The ConnectionsTable repository: WebSocket connections and their channel subscriptions.

- `CONN#<connection_id> / META`: the connection (connection_id, user_id, connected_at, expires_at).
- `SUB#<channel> / CONN#<connection_id>`: one subscription; a channel's subscribers are one
  Query. `GSI1PK = CONN#<connection_id>`, `GSI1SK = SUB#<channel>` (GSI `ByConnection`,
  KEYS_ONLY) finds a connection's subscriptions when it goes away.
Every item expires (`expires_at`, TTL) with its connection.
"""

from __future__ import annotations

import time
from functools import lru_cache
from typing import Any

from stratus.config import WebSocketSettings, get_settings
from stratus.db.dynamo import Table, key_of

_BY_CONNECTION_INDEX = "ByConnection"
_CONNECTION_TTL_SECONDS = 2 * 60 * 60  # API Gateway closes WebSocket connections after 2 hours
_CONNECTION_PREFIX = "CONN#"
_SUBSCRIPTION_PREFIX = "SUB#"


@lru_cache(maxsize=1)
def _table() -> Table:
    return Table(get_settings(WebSocketSettings).connections_table)


def _connection_pk(connection_id: str) -> str:
    return f"{_CONNECTION_PREFIX}{connection_id}"


def _channel_pk(channel: str) -> str:
    return f"{_SUBSCRIPTION_PREFIX}{channel}"


def _connection_key(connection_id: str) -> dict[str, str]:
    return key_of(_connection_pk(connection_id), "META")


def _subscription_key(channel: str, connection_id: str) -> dict[str, str]:
    return key_of(_channel_pk(channel), _connection_pk(connection_id))


# --- connections --------------------------------------------------------------------------
def put_connection(connection_id: str, user_id: str, connected_at: str) -> None:
    """Register a connection; it expires (TTL) when API Gateway would close it."""
    _table().put(
        {
            **_connection_key(connection_id),
            "connection_id": connection_id,
            "user_id": user_id,
            "connected_at": connected_at,
            "expires_at": int(time.time()) + _CONNECTION_TTL_SECONDS,
        }
    )


def get_connection(connection_id: str) -> dict[str, Any] | None:
    """The connection item (connection_id, user_id, connected_at, expires_at), consistent."""
    return _table().get(_connection_key(connection_id), consistent=True)


def delete_connection(connection_id: str) -> None:
    _table().delete(_connection_key(connection_id))


# --- subscriptions --------------------------------------------------------------------------
def put_subscription(channel: str, connection_id: str, expires_at: int) -> None:
    """Idempotent. `expires_at` is the connection's, so both expire together."""
    _table().put(
        {
            **_subscription_key(channel, connection_id),
            "GSI1PK": _connection_pk(connection_id),
            "GSI1SK": _channel_pk(channel),
            "connection_id": connection_id,
            "channel": channel,
            "expires_at": expires_at,
        }
    )


def delete_subscription(channel: str, connection_id: str) -> None:
    _table().delete(_subscription_key(channel, connection_id))


def subscribers(channel: str) -> list[str]:
    """Connection ids subscribed to `channel` and not expired, oldest connection id first
    (consistent, all pages)."""
    items = _table().query_all(
        "PK = :pk",
        {":pk": _channel_pk(channel), ":now": int(time.time())},
        # TTL deletes lag by up to two days; an expired item is a closed connection.
        filter_expression="expires_at > :now",
        consistent=True,
    )
    return [item["SK"][len(_CONNECTION_PREFIX) :] for item in items]


def channels_of(connection_id: str) -> list[str]:
    """The channels a connection is subscribed to (eventually consistent: the GSI)."""
    items = _table().query_all("GSI1PK = :pk", {":pk": _connection_pk(connection_id)}, index=_BY_CONNECTION_INDEX)
    return [item["PK"][len(_SUBSCRIPTION_PREFIX) :] for item in items]
