"""What the rest of Stratus asks the store: is this graph version public, and count a run."""

from __future__ import annotations

from stratus.db.agents_table import approvals
from stratus.observability import logger
from stratus.store.runs import listing_ran


def is_approved(graph_id: str, version: int) -> bool:
    """An approved graph version is readable and runnable by every user."""
    return approvals.is_approved(graph_id, version)


def record_run(graph_id: str, version: int) -> None:
    """Count one execution of an approved version (the marker's `runs`), then its listing's."""
    marker = approvals.add_run(graph_id, version)
    if marker is None:
        return  # not (or no longer) approved: nothing to count
    if marker.get("owner_id") and marker.get("slug"):
        try:
            listing_ran(marker["owner_id"], marker["slug"])
        except Exception:  # noqa: BLE001 - a counter must never fail the execution that was started
            logger.exception("Store listing runs not counted", extra={"graph_id": graph_id, "version": version})
