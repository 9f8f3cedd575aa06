"""What the rest of Stratus asks the store: is this graph version public, and count a run."""

from __future__ import annotations

from stratus.db.store_table import approved_key, store_table


def is_approved(graph_id: str, version: int) -> bool:
    """An approved graph version is readable and runnable by every user."""
    return store_table().get(approved_key(graph_id, version), consistent=True) is not None


def record_run(graph_id: str, version: int) -> None:
    """Count one execution of an approved version (the marker's `runs`), then its listing's."""
    from stratus.db.dynamo import ConditionFailed

    try:
        marker = store_table().update(
            approved_key(graph_id, version), "ADD runs :one", values={":one": 1}, condition="attribute_exists(PK)"
        )
    except ConditionFailed:
        return  # not (or no longer) approved: nothing to count
    if marker.get("owner_id") and marker.get("slug"):
        from stratus.observability import logger
        from stratus.store.runs import listing_ran

        try:
            listing_ran(marker["owner_id"], marker["slug"])
        except Exception:  # noqa: BLE001 - a counter must never fail the execution that was started
            logger.exception("Store listing runs not counted", extra={"graph_id": graph_id, "version": version})
