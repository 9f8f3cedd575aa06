"""AutoGPT's WebSocket protocol: the envelope {method, data?, success?, channel?, error?},
channel names, subscription requests and the execution events pushed to subscribers."""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic import BaseModel, ValidationError

HEARTBEAT = "heartbeat"
SUBSCRIBE_GRAPH_EXECUTION = "subscribe_graph_execution"
SUBSCRIBE_GRAPH_EXECUTIONS = "subscribe_graph_executions"
UNSUBSCRIBE = "unsubscribe"
SUBSCRIPTION_METHODS = (SUBSCRIBE_GRAPH_EXECUTION, SUBSCRIBE_GRAPH_EXECUTIONS, UNSUBSCRIBE)
GRAPH_EXECUTION_EVENT = "graph_execution_event"
NODE_EXECUTION_EVENT = "node_execution_event"

# Ids become part of a channel name: no '|' or '#', so one user's request can never spell a
# channel outside their own "<user_id>|" prefix, and the key stays far below DynamoDB's limits.
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:\-]{0,127}")


class WsMessage(BaseModel):
    method: str
    data: Any = None
    success: bool | None = None
    channel: str | None = None
    error: str | None = None

    def to_json(self) -> str:
        return self.model_dump_json(exclude_none=True)


def parse_message(body: str | None) -> WsMessage:
    """The client's message, or ValueError with a sentence the client can act on."""
    if not body:
        raise ValueError('Empty message: send JSON like {"method": "heartbeat"}.')
    try:
        return WsMessage.model_validate(json.loads(body))
    except (json.JSONDecodeError, ValidationError) as exc:
        raise ValueError("Invalid message: expected JSON with a string 'method'.") from exc


def heartbeat_reply() -> WsMessage:
    return WsMessage(method=HEARTBEAT, data="pong", success=True)


def error_reply(method: str, error: str) -> WsMessage:
    return WsMessage(method=method, success=False, error=error)


def subscription_reply(method: str, channel: str) -> WsMessage:
    """AutoGPT acknowledges (un)subscribe by echoing the method with the channel."""
    return WsMessage(method=method, success=True, channel=channel)


# Channels ------------------------------------------------------------------------------


def graph_execution_channel(user_id: str, graph_exec_id: str) -> str:
    return f"{user_id}|graph_exec#{graph_exec_id}"


def graph_executions_channel(user_id: str, graph_id: str) -> str:
    return f"{user_id}|graph#{graph_id}|executions"


def owns_channel(user_id: str, channel: str) -> bool:
    return channel.startswith(f"{user_id}|")


def requested_channel(method: str, user_id: str, data: Any) -> str:
    """The channel a subscription message names, always under `user_id`; ValueError otherwise.

    `unsubscribe` takes AutoGPT's {graph_exec_id}, or {graph_id} to leave a graph's channel.
    """
    if method == SUBSCRIBE_GRAPH_EXECUTIONS:
        channel = graph_executions_channel(user_id, _id_field(method, data, "graph_id"))
    elif method == UNSUBSCRIBE and isinstance(data, dict) and "graph_exec_id" not in data and "graph_id" in data:
        channel = graph_executions_channel(user_id, _id_field(method, data, "graph_id"))
    elif method in (SUBSCRIBE_GRAPH_EXECUTION, UNSUBSCRIBE):
        channel = graph_execution_channel(user_id, _id_field(method, data, "graph_exec_id"))
    else:
        raise ValueError(f"Unknown method {method!r}.")
    if not owns_channel(user_id, channel):  # unreachable with a well-formed user id; kept as the guard
        raise ValueError("Channel outside the user's own executions.")
    return channel


def _id_field(method: str, data: Any, field: str) -> str:
    value = data.get(field) if isinstance(data, dict) else None
    if not isinstance(value, str) or not _ID.fullmatch(value):
        raise ValueError(
            f'{method} needs data {{"{field}": "<id>"}}: an id of letters, digits, '
            "'-', '_', '.' or ':' (at most 128)."
        )
    return value


# Events --------------------------------------------------------------------------------


def graph_execution_data(execution: dict[str, Any]) -> dict[str, Any]:
    """AutoGPT's graph_execution_update from an ExecutionsTable META item."""
    stats = execution.get("stats") or {}
    return {
        "event_type": "graph_execution_update",
        "id": execution["id"],
        "user_id": execution["user_id"],
        "graph_id": execution["graph_id"],
        "graph_version": execution.get("graph_version"),
        "status": execution["status"],
        "inputs": execution.get("inputs") or {},
        "outputs": execution.get("outputs") or {},
        "started_at": execution.get("started_at"),
        "ended_at": execution.get("ended_at"),
        "stats": {
            "cost": stats.get("cost", 0),
            "duration": stats.get("duration", 0.0),
            "node_exec_count": stats.get("node_exec_count", 0),
            "node_error_count": stats.get("node_error_count", 0),
            "error": stats.get("error"),
            "input_token_count": stats.get("input_token_count", 0),
            "output_token_count": stats.get("output_token_count", 0),
            "llm_call_count": stats.get("llm_call_count", 0),
        },
    }


def node_execution_data(node: dict[str, Any]) -> dict[str, Any]:
    """AutoGPT's node_execution_update from an ExecutionsTable node item."""
    return {
        "event_type": "node_execution_update",
        "graph_exec_id": node["graph_exec_id"],
        "node_exec_id": node["node_exec_id"],
        "node_id": node["node_id"],
        "block_id": node["block_id"],
        "status": node["status"],
        "input_data": node.get("input_data") or {},
        "output_data": node.get("output_data") or {},
        "add_time": node.get("add_time"),
        "queue_time": node.get("queue_time"),
        "start_time": node.get("start_time"),
        "end_time": node.get("end_time"),
        "stats": node.get("stats"),
    }


def event_message(method: str, channel: str, data: dict[str, Any]) -> str:
    """An event as sent. allow_nan: blocks can output inf/nan; they go out as the Infinity and
    NaN tokens, as the REST API sends them."""
    return json.dumps(
        {"method": method, "channel": channel, "data": data}, allow_nan=True, separators=(",", ":"), default=str
    )
