"""The ExecutionsTable repository: every key and every read and write of the table
(docs/data-model.md). Services pass and get attributes; this module adds the keys and writes
the conditions.

Layout (stream on): one partition per graph execution.

- `GEXEC#<id> / META`: the graph execution (status, inputs, outputs, stats); GSIs by user
  (`GSI1PK = USER#<user>`) and by graph (`GSI2PK = GRAPH#<graph>#USER#<user>`), newest first
  by `created_at`.
- `GEXEC#<id> / NODE#<node_exec_id>`: one node execution (status, input_data, output_data).
- `GEXEC#<id> / STATIC#<node_id>#<pin>`: the latest value of a static link.
- `GEXEC#<id> / RUN#<node_exec_id>`: who got a prepaid node's reservation: its block Lambda
  (STARTED, it runs and settles) or the finalizer (RELEASED, refunded: it never ran).
- `SHARE#<token> / SHARE`: a public share of an execution.
- `IDEM#<user>#<sha256 of the key> / IDEM`: an Idempotency-Key's request and first result
  (stratus.executions.idempotency), expiring by the `expires_at` TTL.
Values over ~64 KB are stored in the values bucket and referenced as {"$s3": key}.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from stratus.config import TablesSettings, get_settings
from stratus.db.dynamo import (
    TRANSACTION_LIMIT,
    ConditionFailed,
    Table,
    TransactionCancelled,
    decode_cursor,
    encode_cursor,
    key_of,
)

_BY_USER_INDEX = "ByUser"
_BY_GRAPH_INDEX = "ByGraph"
META_SK = "META"
_NODE_PREFIX = "NODE#"
_STATIC_PREFIX = "STATIC#"
_RUN_PREFIX = "RUN#"
_IF_NEW = "attribute_not_exists(PK)"
_STATUS = {"#s": "status"}
# Prepaid node runs: the RUN# item says who got the reservation.
RUN_STARTED, RUN_RELEASED = "STARTED", "RELEASED"


# The table and its keys are public for tests and dev tools that read the layout; services
# call the functions further down, never these.
@lru_cache(maxsize=1)
def executions_table() -> Table:
    return Table(get_settings(TablesSettings).executions_table)


def execution_pk(graph_exec_id: str) -> str:
    return f"GEXEC#{graph_exec_id}"


def meta_key(graph_exec_id: str) -> dict[str, str]:
    return key_of(execution_pk(graph_exec_id), META_SK)


def node_key(graph_exec_id: str, node_exec_id: str) -> dict[str, str]:
    return key_of(execution_pk(graph_exec_id), f"{_NODE_PREFIX}{node_exec_id}")


def static_key(graph_exec_id: str, node_id: str, pin: str) -> dict[str, str]:
    return key_of(execution_pk(graph_exec_id), f"{_STATIC_PREFIX}{node_id}#{pin}")


def _run_claim_key(graph_exec_id: str, node_exec_id: str) -> dict[str, str]:
    return key_of(execution_pk(graph_exec_id), f"{_RUN_PREFIX}{node_exec_id}")


def share_key(token: str) -> dict[str, str]:
    return key_of(f"SHARE#{token}", "SHARE")


def _idempotency_key(user_id: str, key: str) -> dict[str, str]:
    """One user's Idempotency-Key (its digest: any header value fits a key)."""
    return key_of(f"IDEM#{user_id}#{hashlib.sha256(key.encode()).hexdigest()}", "IDEM")


def user_index_keys(user_id: str, created_at: str, graph_id: str) -> dict[str, str]:
    return {
        "GSI1PK": f"USER#{user_id}",
        "GSI1SK": created_at,
        "GSI2PK": f"GRAPH#{graph_id}#USER#{user_id}",
        "GSI2SK": created_at,
    }


def _in(statuses: Iterable[str], prefix: str) -> tuple[str, dict[str, str]]:
    """`#s IN (:p0, :p1, ...)` and its values."""
    values = {f":{prefix}{i}": status for i, status in enumerate(sorted(statuses))}
    return f"#s IN ({', '.join(values)})", values


# --- the META item -------------------------------------------------------------------------
def get_meta(graph_exec_id: str) -> dict[str, Any] | None:
    """The execution's META item (strongly consistent), None when there is none."""
    return executions_table().get(meta_key(graph_exec_id), consistent=True)


def create_execution(meta: dict[str, Any], nodes: list[dict[str, Any]]) -> None:
    """The META item (only if new, with its index keys) and its first node executions.

    The first transaction holds META and up to 99 nodes and raises TransactionCancelled when
    the execution exists; the remaining nodes follow in transactions of their own."""
    table = executions_table()
    item = {
        **meta,
        **meta_key(meta["id"]),
        **user_index_keys(meta["user_id"], meta["created_at"], meta["graph_id"]),
    }
    operations = [table.put_op(item, condition=_IF_NEW), *(table.put_op(_node_item(n)) for n in nodes)]
    table.transact(operations[:TRANSACTION_LIMIT])
    table.transact_chunked(operations[TRANSACTION_LIMIT:])


def set_meta(graph_exec_id: str, changes: dict[str, Any]) -> dict[str, Any]:
    """SET each attribute of `changes`; returns the META item as written."""
    return executions_table().update(
        meta_key(graph_exec_id),
        "SET " + ", ".join(f"#{k} = :{k}" for k in changes),
        names={f"#{k}": k for k in changes},
        values={f":{k}": v for k, v in changes.items()},
    )


def set_meta_if_status(graph_exec_id: str, status: str, changes: dict[str, Any]) -> bool:
    """SET `changes` only while the execution's status is `status`; False when it is not."""
    try:
        executions_table().update(
            meta_key(graph_exec_id),
            "SET " + ", ".join(f"#{k} = :{k}" for k in changes),
            names={**{f"#{k}": k for k in changes}, "#status": "status"},
            values={**{f":{k}": v for k, v in changes.items()}, ":expected": status},
            condition="#status = :expected",
        )
        return True
    except ConditionFailed:
        return False


def set_task_token(graph_exec_id: str, task_token: str) -> dict[str, Any]:
    """Hand a (child) execution its parent's task token; returns the META item as written."""
    return executions_table().update(meta_key(graph_exec_id), "SET task_token = :token", values={":token": task_token})


def terminate(
    graph_exec_id: str, user_id: str, graph_id: str | None, stoppable: Iterable[str], status: str, now: str
) -> dict[str, Any] | None:
    """Set the user's execution to `status` (ended now) while it is in one of the `stoppable`
    statuses (and of `graph_id`, if given); returns the META item as written, None if it was not."""
    in_stoppable, values = _in(stoppable, "st")
    condition = f"user_id = :u AND {in_stoppable}"
    values.update({":u": user_id, ":terminated": status, ":now": now})
    if graph_id is not None:
        condition += " AND graph_id = :g"
        values[":g"] = graph_id
    try:
        return executions_table().update(
            meta_key(graph_exec_id),
            "SET #s = :terminated, ended_at = :now",
            names=_STATUS,
            values=values,
            condition=condition,
        )
    except ConditionFailed:
        return None


# --- node executions and static values -----------------------------------------------------
def _node_item(attributes: dict[str, Any]) -> dict[str, Any]:
    return {**node_key(attributes["graph_exec_id"], attributes["node_exec_id"]), **attributes}


def get_node(graph_exec_id: str, node_exec_id: str) -> dict[str, Any] | None:
    return executions_table().get(node_key(graph_exec_id, node_exec_id), consistent=True)


def write_changes(graph_exec_id: str, nodes: list[dict[str, Any]], statics: list[dict[str, Any]]) -> int:
    """Put node executions (attributes with `graph_exec_id` and `node_exec_id`) and static values
    (`node_id`, `pin`, `value`) in transactions of TRANSACTION_LIMIT items, whole nodes first;
    returns the item count. Idempotent: each item is keyed by what it records."""
    table = executions_table()
    operations = [table.put_op(_node_item(n)) for n in nodes]
    operations += [table.put_op({**static_key(graph_exec_id, s["node_id"], s["pin"]), **s}) for s in statics]
    table.transact_chunked(operations)
    return len(operations)


def record_node_result(
    graph_exec_id: str,
    node_exec_id: str,
    status: str,
    output_data: dict[str, Any],
    stats: dict[str, int] | None,
    now: str,
) -> bool:
    """A RUNNING node's final status, outputs and stats, left unrouted for the orchestrator.
    False (nothing written) when the node is no longer RUNNING."""
    update = "SET #status = :status, output_data = :outputs, end_time = :now, routed = :false"
    changes: dict[str, Any] = {
        ":status": status,
        ":now": now,
        ":false": False,
        ":running": "RUNNING",
        ":outputs": output_data,
    }
    if stats:
        update, changes[":stats"] = update + ", stats = :stats", stats
    try:
        executions_table().update(
            node_key(graph_exec_id, node_exec_id),
            update,
            names={"#status": "status"},
            values=changes,
            condition="#status = :running",
        )
        return True
    except ConditionFailed:
        return False


def set_child(graph_exec_id: str, node_exec_id: str, child_graph_exec_id: str) -> None:
    """The sub-agent execution an AgentExecutor node started."""
    executions_table().update(
        node_key(graph_exec_id, node_exec_id),
        "SET child_graph_exec_id = :child",
        values={":child": child_graph_exec_id},
    )


def terminate_nodes(graph_exec_id: str, pending: Iterable[str], status: str, now: str) -> None:
    """Node executions in a `pending` status get `status` (ended now), each on that condition:
    a node the engine moved on meanwhile is left to the engine."""
    pending = set(pending)
    in_pending, values = _in(pending, "p")
    values.update({":terminated": status, ":now": now})
    table = executions_table()
    for item in partition(graph_exec_id, nodes_only=True).nodes:
        if item.get("status") not in pending:
            continue
        try:
            table.update(
                key_of(item["PK"], item["SK"]),
                "SET #s = :terminated, end_time = :now",
                names=_STATUS,
                values=values,
                condition=in_pending,
            )
        except ConditionFailed:
            pass


# --- one execution's partition -------------------------------------------------------------
@dataclass
class Partition:
    """The items of one execution: META (None when missing), node executions, static values."""

    meta: dict[str, Any] | None = None
    nodes: list[dict[str, Any]] = field(default_factory=list)
    statics: list[dict[str, Any]] = field(default_factory=list)


def partition(graph_exec_id: str, nodes_only: bool = False) -> Partition:
    """One strongly consistent Query of the execution's partition (or of its node executions)."""
    condition, values = "PK = :pk", {":pk": execution_pk(graph_exec_id)}
    if nodes_only:
        condition += " AND begins_with(SK, :prefix)"
        values[":prefix"] = _NODE_PREFIX
    found = Partition()
    for item in executions_table().query_all(condition, values, consistent=True):
        if item["SK"] == META_SK:
            found.meta = item
        elif item["SK"].startswith(_NODE_PREFIX):
            found.nodes.append(item)
        elif item["SK"].startswith(_STATIC_PREFIX):
            found.statics.append(item)
    return found


def delete_execution(graph_exec_id: str, user_id: str, final_statuses: Iterable[str], share_token: str | None) -> None:
    """Every item of a finished execution: children first and META last (with its share), so an
    interrupted delete stays visible and can be retried. TransactionCancelled when META is not
    the user's or not in a final status any more."""
    table = executions_table()
    children = [
        key_of(i["PK"], i["SK"])
        for i in table.query_all("PK = :pk", {":pk": execution_pk(graph_exec_id)}, consistent=True)
        if i["SK"] != META_SK
    ]
    table.transact_chunked([table.delete_op(key) for key in children])
    in_final, values = _in(final_statuses, "f")
    operations = [
        table.delete_op(
            meta_key(graph_exec_id),
            condition=f"user_id = :u AND {in_final}",
            names=_STATUS,
            values={**values, ":u": user_id},
        )
    ]
    if share_token:
        operations.append(_delete_share_op(share_token, graph_exec_id))
    table.transact(operations)


# --- the user and graph indexes ------------------------------------------------------------
@dataclass(frozen=True)
class ExecutionIndex:
    """One partition of an index of META items, newest first (by `created_at`)."""

    name: str
    pk: str
    sk: str
    partition: str

    def page_key(self, item: dict[str, Any]) -> dict[str, str]:
        return {"PK": item["PK"], "SK": item["SK"], self.pk: item[self.pk], self.sk: item[self.sk]}

    def cursor(self, item: dict[str, Any]) -> str:
        """The page cursor of the page that starts after `item`."""
        return encode_cursor(self.page_key(item)) or ""

    def start_key(self, cursor: str) -> dict[str, Any]:
        """The page key a cursor (from `page_key`) holds; ValueError unless it points into this
        very partition of this index."""
        key = decode_cursor(cursor)
        if (
            not key
            or set(key) != {"PK", "SK", self.pk, self.sk}
            or key[self.pk] != self.partition
            or not all(isinstance(v, str) for v in key.values())
        ):
            raise ValueError("not a page key of this index partition")
        return key

    def newest_first(self, start_key: dict[str, Any] | None, count: int) -> Iterator[dict[str, Any]]:
        """At most `count` META items, newest first, across DynamoDB's 1 MB pages."""
        remaining = count
        while remaining > 0:
            items, last = executions_table().query(
                f"{self.pk} = :pk",
                {":pk": self.partition},
                index=self.name,
                limit=remaining,
                forward=False,
                start_key=start_key,
            )
            yield from items
            remaining -= len(items)
            if not last:
                return
            start_key = last


def by_user(user_id: str) -> ExecutionIndex:
    return ExecutionIndex(_BY_USER_INDEX, "GSI1PK", "GSI1SK", f"USER#{user_id}")


def by_graph(user_id: str, graph_id: str) -> ExecutionIndex:
    return ExecutionIndex(_BY_GRAPH_INDEX, "GSI2PK", "GSI2SK", f"GRAPH#{graph_id}#USER#{user_id}")


# --- RUN claims of prepaid nodes -----------------------------------------------------------
def claim_run(graph_exec_id: str, node_exec_id: str, now: str) -> bool:
    """Mark the node's run as started, unless its reservation was released first (a retried
    invocation finds its own mark). One item decides, so a run is never refunded."""
    try:
        executions_table().put(
            {**_run_claim_key(graph_exec_id, node_exec_id), "state": RUN_STARTED, "at": now},
            condition=f"{_IF_NEW} OR #state = :started",
            names={"#state": "state"},
            values={":started": RUN_STARTED},
        )
        return True
    except ConditionFailed:
        return False


def release_run(graph_exec_id: str, node_exec_id: str, now: str) -> bool:
    """Take a never-started node's reservation back; False when its run started (it settles)."""
    try:
        executions_table().put(
            {**_run_claim_key(graph_exec_id, node_exec_id), "state": RUN_RELEASED, "at": now}, condition=_IF_NEW
        )
        return True
    except ConditionFailed:
        return False


# --- shares --------------------------------------------------------------------------------
def _delete_share_op(token: str, graph_exec_id: str) -> dict[str, Any]:
    return executions_table().delete_op(
        share_key(token), condition=f"{_IF_NEW} OR graph_exec_id = :id", values={":id": graph_exec_id}
    )


def get_share(token: str) -> dict[str, Any] | None:
    return executions_table().get(share_key(token))


def create_share(token: str, graph_exec_id: str, user_id: str, now: str) -> None:
    """The share item and META's `share_token`, together; TransactionCancelled when the token
    is taken, or the execution is not the user's or already shared."""
    table = executions_table()
    table.transact(
        [
            table.put_op(
                {**share_key(token), "graph_exec_id": graph_exec_id, "user_id": user_id, "created_at": now},
                condition=_IF_NEW,
            ),
            table.update_op(
                meta_key(graph_exec_id),
                "SET share_token = :t",
                condition="user_id = :u AND attribute_not_exists(share_token)",
                values={":t": token, ":u": user_id},
            ),
        ]
    )


def remove_share(token: str, graph_exec_id: str) -> None:
    """The share item and META's `share_token`, together; TransactionCancelled when META's
    token changed meanwhile."""
    table = executions_table()
    table.transact(
        [
            _delete_share_op(token, graph_exec_id),
            table.update_op(
                meta_key(graph_exec_id), "REMOVE share_token", condition="share_token = :t", values={":t": token}
            ),
        ]
    )


# --- Idempotency-Key items -----------------------------------------------------------------
def get_idempotency_item(user_id: str, key: str) -> dict[str, Any] | None:
    return executions_table().get(_idempotency_key(user_id, key), consistent=True)


def claim_idempotency_key(user_id: str, key: str, attributes: dict[str, Any], now: int, in_progress: str) -> bool:
    """Put the key's item if it is new, expired, or an `in_progress` claim past its
    `in_progress_until`; False when another item holds the key."""
    try:
        executions_table().put(
            {**_idempotency_key(user_id, key), **attributes},
            condition=f"{_IF_NEW} OR expires_at < :now OR (#status = :running AND in_progress_until < :now)",
            names={"#status": "status"},
            values={":now": now, ":running": in_progress},
        )
        return True
    except ConditionFailed:
        return False


def bind_idempotency_key(user_id: str, key: str, attributes: dict[str, Any], now: int) -> bool:
    """Put the key's item if it is new or expired; False when another item holds the key."""
    try:
        executions_table().put(
            {**_idempotency_key(user_id, key), **attributes},
            condition=f"{_IF_NEW} OR expires_at < :now",
            values={":now": now},
        )
        return True
    except ConditionFailed:
        return False


def complete_idempotency_key(user_id: str, key: str, claim_id: str, status: str, result: bytes | None) -> bool:
    """Set the claim's status (and its packed result); False when the claim is no longer ours."""
    update, values = "SET #status = :done", dict[str, Any]({":done": status, ":mine": claim_id})
    names = {"#status": "status"}
    if result is not None:
        update, values[":result"], names["#result"] = update + ", #result = :result", result, "result"
    try:
        executions_table().update(
            _idempotency_key(user_id, key), update, names=names, values=values, condition="claim_id = :mine"
        )
        return True
    except ConditionFailed:
        return False


def release_idempotency_key(user_id: str, key: str, claim_id: str) -> None:
    """Delete the key's item while it is still this claim's."""
    table = executions_table()
    try:
        table.transact(
            [table.delete_op(_idempotency_key(user_id, key), condition="claim_id = :mine", values={":mine": claim_id})]
        )
    except TransactionCancelled:
        pass
