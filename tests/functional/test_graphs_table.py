"""The GraphsTable repository on moto: round trips, and the item layout of docs/data-model.md."""

from __future__ import annotations

import pytest

from stratus.db import graphs_table
from stratus.db.dynamo import ConditionFailed, TransactionCancelled


def _version(graph_id: str, version: int, user_id: str = "u1") -> dict:
    return {"id": graph_id, "version": version, "user_id": user_id, "name": "g", "created_at": "t0", "body": "{}"}


def test_create_save_activate_list_and_delete(aws):
    graphs_table.create_graphs([_version("g1", 1), _version("sub", 1)])
    active = graphs_table.get_active("g1")
    assert (active["PK"], active["SK"], active["GSI1PK"], active["GSI1SK"], active["latest_version"]) == (
        "GRAPH#g1",
        "ACTIVE",
        "USER#u1#GRAPHS",
        "g1",
        1,
    )
    assert graphs_table.get_version_item("g1", 1)["SK"] == "V#000001"
    with pytest.raises(TransactionCancelled):
        graphs_table.create_graphs([_version("g1", 1)])

    graphs_table.save_version(_version("g1", 2), seen_latest=1, activate=False)
    assert (graphs_table.get_active("g1")["version"], graphs_table.get_active("g1")["latest_version"]) == (1, 2)
    with pytest.raises(TransactionCancelled):  # the latest version moved on
        graphs_table.save_version(_version("g1", 3), seen_latest=1, activate=True)
    graphs_table.save_version(_version("g1", 3), seen_latest=2, activate=True)
    assert graphs_table.get_active("g1")["version"] == 3
    graphs_table.activate_version(graphs_table.get_version_item("g1", 1), seen_latest=3)
    assert graphs_table.get_active("g1")["version"] == 1
    with pytest.raises(ConditionFailed):
        graphs_table.activate_version(_version("g1", 2, user_id="u2"), seen_latest=3)

    items = graphs_table.get_items([("g1", None), ("g1", 2), ("g1", 9), ("sub", None), ("g1", None)])
    assert sorted(items, key=str) == [("g1", 2), ("g1", None), ("sub", None)]
    assert items[("g1", 2)]["version"] == 2
    active, versions = graphs_table.graph_items("g1")
    assert active["version"] == 1 and [v["version"] for v in versions] == [1, 2, 3]
    assert sorted(item["id"] for item in graphs_table.owned_actives("u1")) == ["g1", "sub"]

    assert graphs_table.delete_graph("g1") == 3
    assert graphs_table.graph_items("g1") == (None, [])


def test_mag_names_and_mcp_servers(aws):
    graphs_table.create_graphs([_version("m1", 1)], mag_name="writer")
    assert graphs_table.get_mag_graph_id("u1", "writer") == "m1"
    assert graphs_table.mag_names("u1") == [
        {"PK": "USER#u1#MAG", "SK": "NAME#writer", "name": "writer", "graph_id": "m1", "created_at": "t0"}
    ]
    with pytest.raises(graphs_table.MagNameTaken):
        graphs_table.create_graphs([_version("m2", 1)], mag_name="writer")
    assert graphs_table.get_active("m2") is None  # nothing of the refused graph was written
    assert graphs_table.delete_graph("m1", mag_name=("u1", "writer")) == 1
    assert graphs_table.get_mag_graph_id("u1", "writer") is None

    graphs_table.put_mcp_servers_item("u1", {"names": ["a"], "revision": 1}, seen_revision=0)
    with pytest.raises(ConditionFailed):
        graphs_table.put_mcp_servers_item("u1", {"names": ["b"], "revision": 1}, seen_revision=0)
    graphs_table.put_mcp_servers_item("u1", {"names": ["b"], "revision": 2}, seen_revision=1)
    assert graphs_table.get_mcp_servers_item("u1") == {
        "PK": "USER#u1#MAG",
        "SK": "MCP_SERVERS",
        "names": ["b"],
        "revision": 2,
    }
