"""Channel subscriptions of WebSocket connections (stored by stratus.db.connections_table)."""

from __future__ import annotations

from stratus.db import connections_table


def subscribe(connection_id: str, channel: str, expires_at: int) -> None:
    """Idempotent. `expires_at` is the connection's, so both expire together."""
    connections_table.put_subscription(channel, connection_id, expires_at)


def unsubscribe(connection_id: str, channel: str) -> None:
    connections_table.delete_subscription(channel, connection_id)


def subscribers(channel: str) -> list[str]:
    """Connection ids subscribed to `channel`, oldest connection id first (never a Scan)."""
    return connections_table.subscribers(channel)


def channels_of(connection_id: str) -> list[str]:
    """The channels a connection is subscribed to (eventually consistent: the GSI)."""
    return connections_table.channels_of(connection_id)


def drop_all(connection_id: str) -> None:
    """Delete every subscription of a connection. One a request: a connection has few."""
    for channel in channels_of(connection_id):
        unsubscribe(connection_id, channel)
