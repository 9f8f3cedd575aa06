"""The ConnectionsTable repository on moto: round trips, and the item layout of its docstring."""

from __future__ import annotations

import time

from stratus.db import connections_table


def test_connections_and_subscriptions_round_trip(aws):
    assert connections_table.get_connection("c1") is None
    connections_table.put_connection("c1", "alice", "t0")
    stored = connections_table.get_connection("c1")
    assert (stored["PK"], stored["SK"], stored["user_id"], stored["connected_at"]) == ("CONN#c1", "META", "alice", "t0")
    assert stored["expires_at"] > time.time() + 3600

    connections_table.put_subscription("alice|graph_exec#e1", "c1", stored["expires_at"])
    connections_table.put_subscription("alice|graph_exec#e1", "c1", stored["expires_at"])  # idempotent
    connections_table.put_subscription("alice|graph_exec#e1", "c0", int(time.time()) - 1)  # expired
    connections_table.put_subscription("alice|graph_exec#e2", "c1", stored["expires_at"])
    assert connections_table.subscribers("alice|graph_exec#e1") == ["c1"]
    assert sorted(connections_table.channels_of("c1")) == ["alice|graph_exec#e1", "alice|graph_exec#e2"]

    connections_table.delete_subscription("alice|graph_exec#e1", "c1")
    assert connections_table.subscribers("alice|graph_exec#e1") == []
    assert connections_table.channels_of("c1") == ["alice|graph_exec#e2"]
    connections_table.delete_connection("c1")
    assert connections_table.get_connection("c1") is None
