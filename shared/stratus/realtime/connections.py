"""WebSocket connections: register, forget, and post through the management API."""

from __future__ import annotations

from typing import Any

from stratus.aws import client
from stratus.clock import now_iso
from stratus.config import WebSocketSettings, get_settings
from stratus.db import connections_table
from stratus.realtime import subscriptions


def register(connection_id: str, user_id: str) -> None:
    connections_table.put_connection(connection_id, user_id, now_iso())


def get(connection_id: str) -> dict[str, Any] | None:
    return connections_table.get_connection(connection_id)


def forget(connection_id: str) -> None:
    """Delete the connection and its subscriptions (ones made in the last instant may be missed
    by the eventually consistent index; their TTL removes them)."""
    subscriptions.drop_all(connection_id)
    connections_table.delete_connection(connection_id)


def _management() -> Any:
    return client("apigatewaymanagementapi", endpoint_url=get_settings(WebSocketSettings).websocket_management_endpoint)


def post(connection_id: str, message: str) -> bool:
    """Send one message. A gone connection (410) is forgotten and reported as False."""
    from botocore.exceptions import ClientError  # loaded by the client already; kept off import time

    try:
        _management().post_to_connection(ConnectionId=connection_id, Data=message.encode())
        return True
    except ClientError as error:
        if (
            error.response["Error"]["Code"] == "GoneException"
            or error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 410
        ):
            forget(connection_id)
            return False
        raise
