"""Execution progress for WebSocket subscribers, from ExecutionsTable stream records.

A batch is handled in two phases. Planning turns records into AutoGPT events and looks up
each channel's subscribers; nothing is sent yet, so a failure there (a throttled Query) fails
the batch and its retry sends nothing twice. Delivery then posts each connection's messages
in stream order, connections in parallel; a failed post is logged and never retried, since
progress events are superseded by the next one.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from stratus.db.dynamo import deserialize
from stratus.executions.values import resolve
from stratus.observability import logger
from stratus.realtime import connections, subscriptions
from stratus.realtime.mag_events import mag_node_events
from stratus.realtime.protocol import (
    GRAPH_EXECUTION_EVENT,
    NODE_EXECUTION_EVENT,
    event_message,
    graph_execution_channel,
    graph_execution_data,
    graph_executions_channel,
    node_execution_data,
)

# What a subscriber sees change, per item kind: a MODIFY that leaves these alone sends nothing.
VISIBLE_FIELDS: dict[str, tuple[str, ...]] = {"graph": ("status", "outputs"), "node": ("status", "output_data")}
# Value maps per kind: (pin → value) maps and (output name → [values]) maps; both may hold {"$s3": key}.
VALUE_MAPS: dict[str, tuple[str, ...]] = {"graph": ("inputs",), "node": ("input_data",)}
OUTPUT_MAPS: dict[str, tuple[str, ...]] = {"graph": ("outputs",), "node": ("output_data",)}
MAX_MESSAGE_BYTES = 128 * 1024  # API Gateway's limit for one WebSocket message
MAX_PARALLEL_CONNECTIONS = 8


@dataclass
class Delivery:
    events: int = 0  # (record, channel) events with at least one subscriber
    sent: int = 0
    gone: int = 0  # connections found closed (410) and forgotten
    failed: int = 0  # posts that failed otherwise (too large, throttled after retries)


def notify(records: list[dict[str, Any]]) -> Delivery:
    """Send the events of a batch of stream records to their channels' subscribers."""
    subscribers = _cached(subscriptions.subscribers)
    queues: dict[str, list[str]] = {}  # connection id → messages, in stream order
    delivery = Delivery()
    for record in records:
        for channel, message in _events(record, subscribers):
            delivery.events += 1
            for connection_id in subscribers(channel):
                queues.setdefault(connection_id, []).append(message)
    for sent, gone, failed in _deliver(queues):
        delivery.sent += sent
        delivery.gone += gone
        delivery.failed += failed
    return delivery


def changed_image(record: dict[str, Any]) -> dict[str, Any] | None:
    """The raw new image of an INSERT or MODIFY of a graph or node execution that changed
    something user-visible; None for anything else (REMOVE, static values, shares)."""
    if record.get("eventName") not in ("INSERT", "MODIFY"):
        return None
    change = record.get("dynamodb") or {}
    new = change.get("NewImage")
    fields = VISIBLE_FIELDS.get(((new or {}).get("kind") or {}).get("S", ""))
    if not new or fields is None:
        return None
    old = change.get("OldImage")
    if record["eventName"] == "MODIFY" and old is not None and all(old.get(f) == new.get(f) for f in fields):
        return None
    return new


def _events(record: dict[str, Any], subscribers: Callable[[str], list[str]]) -> list[tuple[str, str]]:
    """(channel, message) for each watched channel of one record."""
    raw = changed_image(record)
    if raw is None:
        return []
    try:
        item = deserialize(raw)
        kind = item["kind"]
        build: Callable[[dict[str, Any]], dict[str, Any]]
        if kind == "graph":
            method, build = GRAPH_EXECUTION_EVENT, graph_execution_data
            channels = [
                graph_execution_channel(item["user_id"], item["id"]),
                graph_executions_channel(item["user_id"], item["graph_id"]),
            ]
        else:
            method, build = NODE_EXECUTION_EVENT, node_execution_data
            channels = [graph_execution_channel(item["user_id"], item["graph_exec_id"])]
        watched = [channel for channel in channels if subscribers(channel)]
        if not watched:
            return []
        full, plain = build(_with_values(item, kind)), build(item)
        progress = mag_node_events(record, item) if kind == "node" else []  # MAG node_start / node_end
    except (KeyError, TypeError, ValueError):
        # A malformed item would fail every retry of the batch; skip it, loudly.
        logger.exception("Skipping an execution record that is not an event", extra={"event_id": record.get("eventID")})
        return []
    return [(channel, _fitting(method, channel, full, plain)) for channel in watched] + [
        (channel, event_message(name, channel, data)) for name, data in progress for channel in watched
    ]


def _with_values(item: dict[str, Any], kind: str) -> dict[str, Any]:
    """The item with {"$s3": key} references replaced by their values (references kept if a
    value cannot be read: the REST API still serves the execution)."""
    try:
        resolved = dict(item)
        for field in VALUE_MAPS[kind]:
            resolved[field] = {pin: resolve(value) for pin, value in (item.get(field) or {}).items()}
        for field in OUTPUT_MAPS[kind]:
            resolved[field] = {
                name: [resolve(value) for value in values] for name, values in (item.get(field) or {}).items()
            }
        return resolved
    except Exception:  # S3 errors and a missing object alike: degrade to references
        logger.exception("Could not resolve stored values; sending references")
        return item


def _fitting(method: str, channel: str, full: dict[str, Any], plain: dict[str, Any]) -> str:
    """The event with values, or with references when values exceed a WebSocket message."""
    message = event_message(method, channel, full)
    if len(message.encode()) <= MAX_MESSAGE_BYTES or full is plain:
        return message
    return event_message(method, channel, plain)


def _deliver(queues: dict[str, list[str]]) -> list[tuple[int, int, int]]:
    if not queues:
        return []
    # One worker per connection at a time keeps each connection's messages in order.
    with ThreadPoolExecutor(max_workers=min(MAX_PARALLEL_CONNECTIONS, len(queues))) as pool:
        return list(pool.map(_send_in_order, queues.keys(), queues.values()))


def _send_in_order(connection_id: str, messages: list[str]) -> tuple[int, int, int]:
    """(sent, gone, failed) for one connection; stops at a gone (410) connection."""
    from botocore.exceptions import BotoCoreError, ClientError

    sent = failed = 0
    for message in messages:
        try:
            if not connections.post(connection_id, message):
                return sent, 1, failed
            sent += 1
        except (BotoCoreError, ClientError):
            failed += 1
            logger.exception("Could not post an execution event", extra={"connection_id": connection_id})
    return sent, 0, failed


def _cached(lookup: Callable[[str], list[str]]) -> Callable[[str], list[str]]:
    """`lookup` memoised for one batch: a channel's subscribers are read once per batch."""
    seen: dict[str, list[str]] = {}

    def cached(channel: str) -> list[str]:
        if channel not in seen:
            seen[channel] = lookup(channel)
        return seen[channel]

    return cached
