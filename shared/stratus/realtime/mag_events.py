"""MAG progress events: `node_start` and `node_end` of agent node runs, from ExecutionsTable
stream records of node executions of the MAG agent node block. Sent besides the usual
node_execution_event, to the subscribers of the graph execution:

    {"method": "node_start", "channel": "<user>|graph_exec#<id>",
     "data": {"graph_exec_id", "node_exec_id", "node_name", "level"}}
    {"method": "node_end", "channel": ...,
     "data": {"graph_exec_id", "node_exec_id", "node_name", "status"}}

A node starts when its status becomes RUNNING, and ends when it becomes COMPLETED, FAILED or
TERMINATED (each transition is one stream record, so each event is sent once per delivery).
"""

from __future__ import annotations

from typing import Any

from stratus.mag.models import MAG_AGENT_BLOCK_ID

NODE_START = "node_start"
NODE_END = "node_end"
_FINAL = ("COMPLETED", "FAILED", "TERMINATED")


def _old_status(record: dict[str, Any]) -> str | None:
    old = (record.get("dynamodb") or {}).get("OldImage") or {}
    return (old.get("status") or {}).get("S")


def mag_node_events(record: dict[str, Any], node: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(method, data) of the MAG progress events one node record carries (none for other blocks)."""
    if node.get("block_id") != MAG_AGENT_BLOCK_ID:
        return []
    status, before = node.get("status"), _old_status(record)
    inputs = node.get("input_data") or {}
    base = {
        "graph_exec_id": node["graph_exec_id"],
        "node_exec_id": node["node_exec_id"],
        "node_name": inputs.get("node_name") or node["node_id"],
    }
    if status == "RUNNING" and before != "RUNNING":
        level = inputs.get("level")
        return [(NODE_START, {**base, "level": int(level) if level is not None else None})]
    if status in _FINAL and before not in _FINAL:
        return [(NODE_END, {**base, "status": status})]
    return []
