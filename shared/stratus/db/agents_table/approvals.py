"""Approval markers: `APPROVED#<graph_id> / V#<version:06d>` exists exactly while that graph
version is approved in the store. Graphs and executions ask through stratus.store.access."""

from __future__ import annotations

from typing import Any

from stratus.db.agents_table.table import Op, agents_table, set_or_remove
from stratus.db.dynamo import ConditionFailed, key_of


def approval_key(graph_id: str, version: int) -> dict[str, str]:
    return key_of(f"APPROVED#{graph_id}", f"V#{version:06d}")


def is_approved(graph_id: str, version: int) -> bool:
    return agents_table().get(approval_key(graph_id, version), consistent=True) is not None


def add_run(graph_id: str, version: int) -> dict[str, Any] | None:
    """ADD one run to the marker; None when the version is not (or no longer) approved."""
    try:
        return agents_table().update(
            approval_key(graph_id, version), "ADD runs :one", values={":one": 1}, condition="attribute_exists(PK)"
        )
    except ConditionFailed:
        return None


def marker_ops(
    listing: dict[str, Any], before: dict[int, dict[str, Any]], after: dict[int, dict[str, Any]]
) -> list[Op]:
    """Put the markers of graph versions newly approved, delete those no approved version names.

    `before`/`after`: {graph version: {"id": listing version id, "at": approval ms}}."""
    table = agents_table()
    ops = []
    for graph_version, entry in after.items():
        if graph_version in before and before[graph_version]["id"] == entry["id"]:
            continue
        expression, names, values = set_or_remove(
            {
                "graph_id": listing["graph_id"],
                "graph_version": graph_version,
                "owner_id": listing["owner_id"],
                "slug": listing["slug"],
                "listing_id": listing["listing_id"],
                "store_listing_version_id": entry["id"],
                "approved_at": entry["approved_at"],
            }
        )
        ops.append(table.update_op(approval_key(listing["graph_id"], graph_version), expression, names, values))
    for graph_version in before.keys() - after.keys():
        ops.append(table.delete_op(approval_key(listing["graph_id"], graph_version)))
    return ops
