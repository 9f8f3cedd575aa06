"""ConnectionsTable layout (WebSocket connections; subscriptions arrive with executions)."""

from __future__ import annotations

import os
from functools import lru_cache

from stratus.db.dynamo import Table

BY_CONNECTION_INDEX = "ByConnection"
CONNECTION_TTL_SECONDS = 2 * 60 * 60  # API Gateway closes WebSocket connections after 2 hours


@lru_cache(maxsize=1)
def connections_table() -> Table:
    return Table(os.environ.get("CONNECTIONS_TABLE", "ConnectionsTable"))


def connection_key(connection_id: str) -> dict[str, str]:
    return {"PK": f"CONN#{connection_id}", "SK": "META"}
