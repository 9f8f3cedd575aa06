"""Execution state in DynamoDB: the META item, node executions, static values.

The orchestrator loads a whole execution with one Query of its partition and writes each
step's changes in transactions, so a re-run step finds its own work already done.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from stratus.clock import now_iso
from stratus.db.executions_table import (
    META_SK,
    NODE_PREFIX,
    STATIC_PREFIX,
    execution_pk,
    executions_table,
    meta_key,
    node_key,
    static_key,
)
from stratus.db.graphs_table import get_version_item
from stratus.engine.scheduler import EngineState
from stratus.errors import NotFound
from stratus.executions import values
from stratus.executions.models import NodeExecution
from stratus.graphs.models import Graph

TRANSACTION_LIMIT = 100


@lru_cache(maxsize=32)
def version_item(graph_id: str, version: int) -> dict[str, Any]:
    """A stored graph version's item (immutable, so cached per container)."""
    item = get_version_item(graph_id, version)
    if not item:
        raise NotFound(f"Graph {graph_id} version {version} not found.")
    return item


@lru_cache(maxsize=32)
def graph_version(graph_id: str, version: int) -> Graph:
    """A stored graph version (immutable, so cached per container)."""
    import json

    item = version_item(graph_id, version)
    body = json.loads(item["body"])
    return Graph(id=graph_id, version=version, name=item.get("name", ""), nodes=body["nodes"], links=body["links"])


def load(graph_exec_id: str) -> tuple[dict[str, Any], EngineState]:
    items: list[dict[str, Any]] = []
    start_key = None
    while True:
        page, start_key = executions_table().query(
            "PK = :pk", {":pk": execution_pk(graph_exec_id)}, consistent=True, start_key=start_key
        )
        items.extend(page)
        if not start_key:
            break
    meta = next((i for i in items if i["SK"] == META_SK), None)
    if meta is None:
        raise NotFound(f"Execution {graph_exec_id} not found.")
    state = EngineState(graph_exec_id, graph_version(meta["graph_id"], int(meta["graph_version"])), now=now_iso)
    for item in sorted(items, key=lambda i: int(i.get("seq", 0))):
        if item["SK"].startswith(NODE_PREFIX):
            node_exec = node_from_item(item)
            state.add(node_exec)
            if item.get("routed") is False and item["status"] in ("COMPLETED", "FAILED"):
                state.unrouted.add(node_exec.node_exec_id)
        elif item["SK"].startswith(STATIC_PREFIX):
            state.static_values[(item["node_id"], item["pin"])] = values.resolve(item["value"])
    return meta, state


def node_from_item(item: dict[str, Any]) -> NodeExecution:
    return NodeExecution(
        node_exec_id=item["node_exec_id"],
        graph_exec_id=item["graph_exec_id"],
        node_id=item["node_id"],
        block_id=item["block_id"],
        status=item["status"],
        seq=int(item.get("seq", 0)),
        input_data=values.resolve_map(item.get("input_data") or {}),
        output_data=values.resolve_outputs(item.get("output_data") or {}),
        add_time=item.get("add_time"),
        queue_time=item.get("queue_time"),
        start_time=item.get("start_time"),
        end_time=item.get("end_time"),
        stats=item.get("stats"),
        child_graph_exec_id=item.get("child_graph_exec_id"),
    )


def node_item(user_id: str, node_exec: NodeExecution, **extra: Any) -> dict[str, Any]:
    prefix = f"{node_exec.graph_exec_id}/{node_exec.node_exec_id}"
    return {
        **node_key(node_exec.graph_exec_id, node_exec.node_exec_id),
        "kind": "node",
        "user_id": user_id,
        **node_exec.model_dump(exclude={"input_data", "output_data"}, mode="json"),
        "input_data": values.store_map(node_exec.input_data, f"{prefix}/in"),
        "output_data": values.store_outputs(node_exec.output_data, prefix),
        **extra,
    }


def static_item(graph_exec_id: str, node_id: str, pin: str, value: Any) -> dict[str, Any]:
    return {
        **static_key(graph_exec_id, node_id, pin),
        "node_id": node_id,
        "pin": pin,
        "value": values.store(value, f"{graph_exec_id}/static/{node_id}/{pin}.json"),
    }


def commit(user_id: str, state: EngineState, extra: dict[str, dict[str, Any]] | None = None) -> int:
    """Write every change the engine made since the last commit; returns the item count."""
    node_execs, statics = state.take_changes()
    table = executions_table()
    operations = [table.put_op(node_item(user_id, e, **(extra or {}).get(e.node_exec_id, {}))) for e in node_execs]
    operations += [
        table.put_op(static_item(state.graph_exec_id, node_id, pin, value)) for (node_id, pin), value in statics.items()
    ]
    for start in range(0, len(operations), TRANSACTION_LIMIT):
        table.transact(operations[start : start + TRANSACTION_LIMIT])
    return len(operations)


def update_meta(
    graph_exec_id: str,
    changes: dict[str, Any],
    condition: str | None = None,
    condition_values: dict[str, Any] | None = None,
) -> dict[str, Any]:
    names = {f"#{k}": k for k in changes}
    if condition and "#status" in condition:
        names["#status"] = "status"
    expression = "SET " + ", ".join(f"#{k} = :{k}" for k in changes)
    return executions_table().update(
        meta_key(graph_exec_id),
        expression,
        names=names,
        values={**{f":{k}": v for k, v in changes.items()}, **(condition_values or {})},
        condition=condition,
    )


def get_meta(graph_exec_id: str) -> dict[str, Any] | None:
    return executions_table().get(meta_key(graph_exec_id), consistent=True)
