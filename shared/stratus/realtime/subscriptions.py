"""Channel subscriptions of WebSocket connections, in the ConnectionsTable (never a Scan)."""

from __future__ import annotations

import time

from stratus.db.connections_table import (
    BY_CONNECTION_INDEX,
    channel_of,
    channel_pk,
    connection_id_of,
    connection_pk,
    connections_table,
    subscription_index_keys,
    subscription_key,
)


def subscribe(connection_id: str, channel: str, expires_at: int) -> None:
    """Idempotent. `expires_at` is the connection's, so both expire together."""
    connections_table().put(
        {
            **subscription_key(channel, connection_id),
            **subscription_index_keys(channel, connection_id),
            "connection_id": connection_id,
            "channel": channel,
            "expires_at": expires_at,
        }
    )


def unsubscribe(connection_id: str, channel: str) -> None:
    connections_table().delete(subscription_key(channel, connection_id))


def subscribers(channel: str) -> list[str]:
    """Connection ids subscribed to `channel`, oldest connection id first (one Query per page)."""
    found: list[str] = []
    start: dict | None = None
    while True:
        items, start = connections_table().query(
            "PK = :pk",
            {":pk": channel_pk(channel), ":now": int(time.time())},
            # TTL deletes lag by up to two days; an expired item is a closed connection.
            filter_expression="expires_at > :now",
            start_key=start,
            consistent=True,
        )
        found.extend(connection_id_of(item["SK"]) for item in items)
        if not start:
            return found


def channels_of(connection_id: str) -> list[str]:
    """The channels a connection is subscribed to (eventually consistent: the GSI)."""
    channels: list[str] = []
    start: dict | None = None
    while True:
        items, start = connections_table().query(
            "GSI1PK = :pk", {":pk": connection_pk(connection_id)}, index=BY_CONNECTION_INDEX, start_key=start
        )
        channels.extend(channel_of(item["PK"]) for item in items)
        if not start:
            return channels


def drop_all(connection_id: str) -> None:
    """Delete every subscription of a connection. One a request: a connection has few."""
    for channel in channels_of(connection_id):
        unsubscribe(connection_id, channel)
