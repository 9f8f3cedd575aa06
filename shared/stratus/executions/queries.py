"""Reading, stopping, sharing and deleting graph executions (the engine writes them).

Access patterns (no Scan anywhere):
- one execution with its node executions: one Query on `PK = GEXEC#<id>` (META and nodes together);
- a user's executions, newest first: Query GSI `ByUser`; one graph's: Query GSI `ByGraph`;
- a public share: GetItem `SHARE#<token>`, then GetItem META.

Another user's execution is NotFound (404), never Forbidden, so ids cannot be probed.
"""

from __future__ import annotations

import math
import os
import secrets
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, computed_field

from stratus.aws import client
from stratus.clock import now_iso
from stratus.db.dynamo import ConditionFailed, TransactionCancelled, decode_cursor, encode_cursor
from stratus.db.executions_table import (
    BY_GRAPH_INDEX,
    BY_USER_INDEX,
    META_SK,
    NODE_PREFIX,
    execution_pk,
    executions_table,
    meta_key,
    share_key,
)
from stratus.db.graphs_table import get_version_item
from stratus.errors import Conflict, NotFound, Unprocessable
from stratus.executions.models import (
    FINAL_STATUSES,
    ExecutionStats,
    ExecutionStatus,
    GraphExecution,
    NodeExecution,
)
from stratus.observability import logger

MAX_PAGE_SIZE = 250  # GET /api/executions returns AutoGPT's 250 newest; graph lists allow 100
# Page N (without a cursor) reads and discards (N-1)*page_size items: DynamoDB has no offset.
# Capped so one request stays within a Lambda's time; deeper pages need the cursor.
MAX_PAGE_OFFSET = 5_000
TRANSACTION_LIMIT = 100
STOPPABLE_STATUSES = (ExecutionStatus.INCOMPLETE, ExecutionStatus.QUEUED, ExecutionStatus.RUNNING)
# Running nodes are cancelled too: a block Lambda still running finds its node no longer
# RUNNING and stores nothing (its write is conditioned on RUNNING).
_PENDING_NODE_STATUSES = (ExecutionStatus.QUEUED, ExecutionStatus.INCOMPLETE, ExecutionStatus.RUNNING)
_STATUS = {"#s": "status"}


class _Model(BaseModel):
    model_config = ConfigDict(ser_json_inf_nan="constants")  # Calculator can yield inf


# --- response models (AutoGPT's shapes) --------------------------------------------------
class GraphExecutionMeta(_Model):
    """A list entry: AutoGPT's GraphExecutionMeta (no outputs, so lists stay light)."""

    id: str
    user_id: str
    graph_id: str
    graph_version: int
    status: ExecutionStatus
    inputs: dict[str, Any] = Field(default_factory=dict)
    stats: ExecutionStats = Field(default_factory=ExecutionStats)
    preset_id: str | None = None
    created_at: str
    started_at: str | None = None
    ended_at: str | None = None
    share_token: str | None = None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def is_shared(self) -> bool:
        return self.share_token is not None


class GraphExecutionView(GraphExecution):
    @computed_field  # type: ignore[prop-decorator]
    @property
    def is_shared(self) -> bool:
        return self.share_token is not None


class NodeExecutionResult(NodeExecution):
    """AutoGPT's NodeExecutionResult: a node execution with its graph's identity."""

    user_id: str
    graph_id: str
    graph_version: int


class GraphExecutionWithNodes(GraphExecutionView):
    node_executions: list[NodeExecutionResult] = Field(default_factory=list)


class Pagination(_Model):
    # Totals are known only once a page walk reaches the end: counting would read every item.
    total_items: int | None = None
    total_pages: int | None = None
    current_page: int
    page_size: int


class ExecutionsPage(_Model):
    executions: list[GraphExecutionMeta]
    pagination: Pagination
    next_cursor: str | None = None


class ShareInfo(_Model):
    share_token: str
    share_url: str | None = None  # the route knows the public URL, the domain does not


class SharedExecution(_Model):
    """The public view of a shared execution: no user id, no inputs, no node details."""

    id: str
    graph_id: str
    graph_version: int
    graph_name: str = ""
    graph_description: str | None = None
    status: ExecutionStatus
    created_at: str
    started_at: str | None = None
    ended_at: str | None = None
    outputs: dict[str, list[Any]] = Field(default_factory=dict)
    stats: ExecutionStats = Field(default_factory=ExecutionStats)


class ExecutionNodeResult(_Model):
    node_id: str
    input: Any
    output: dict[str, list[Any]]


class ExecutionResults(_Model):
    """AutoGPT's external `GraphExecutionResult`: `output` is `[{name: value}, ...]` once COMPLETED."""

    execution_id: str
    status: ExecutionStatus
    nodes: list[ExecutionNodeResult]
    output: list[dict[str, Any]] | None


# --- values ------------------------------------------------------------------------------
@lru_cache(maxsize=1)
def _value_resolver() -> Callable[[Any], Any] | None:
    try:
        from stratus.executions.values import resolve
    except ModuleNotFoundError as error:  # only tolerate the module itself being absent
        if error.name != "stratus.executions.values":
            raise
        return None
    return resolve


def _resolved(value: Any) -> Any:
    """Large values are stored as {"$s3": key} (wherever they sit); API payloads carry the value."""
    resolve = _value_resolver()
    if resolve is None:
        return value
    if isinstance(value, dict):
        if len(value) == 1 and "$s3" in value:
            return resolve(value)
        return {k: _resolved(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolved(v) for v in value]
    return value


# --- items -------------------------------------------------------------------------------
def _not_found(graph_exec_id: str) -> NotFound:
    return NotFound(f"Graph execution #{graph_exec_id} not found.")


def _owned(
    item: dict[str, Any] | None, user_id: str, graph_exec_id: str, graph_id: str | None = None
) -> dict[str, Any]:
    if not item or item.get("user_id") != user_id or (graph_id is not None and item.get("graph_id") != graph_id):
        raise _not_found(graph_exec_id)
    return item


def _meta_fields(item: dict[str, Any], fields: dict[str, Any]) -> dict[str, Any]:
    # Absent attributes fall back to the model defaults (the engine omits None values).
    return {name: item[name] for name in fields if item.get(name) is not None}


def _execution_data(item: dict[str, Any]) -> dict[str, Any]:
    data = _meta_fields(item, GraphExecution.model_fields)
    data["inputs"] = _resolved(data.get("inputs", {}))
    data["outputs"] = _resolved(data.get("outputs", {}))
    return data


def _view(item: dict[str, Any]) -> GraphExecutionView:
    return GraphExecutionView.model_validate(_execution_data(item))


def _meta_entry(item: dict[str, Any]) -> GraphExecutionMeta:
    data = _meta_fields(item, GraphExecutionMeta.model_fields)
    try:
        data["inputs"] = _resolved(data.get("inputs", {}))
        return GraphExecutionMeta.model_validate(data)
    except Exception:  # noqa: BLE001 - pydantic and S3 errors alike
        # An item stored before the input limits (or a value gone from S3) must not break
        # the whole list: the entry is listed without its inputs and stats.
        logger.exception("Listing an execution without its inputs", extra={"graph_exec_id": item.get("id")})
        return GraphExecutionMeta.model_validate({**data, "inputs": {}, "stats": {}})


def _node(item: dict[str, Any], meta: dict[str, Any]) -> NodeExecutionResult:
    data = _meta_fields(item, NodeExecutionResult.model_fields)
    data.update(
        user_id=meta["user_id"],
        graph_id=meta["graph_id"],
        graph_version=meta["graph_version"],
        input_data=_resolved(data.get("input_data", {})),
        output_data=_resolved(data.get("output_data", {})),
    )
    return NodeExecutionResult.model_validate(data)


def _get_meta(graph_exec_id: str) -> dict[str, Any] | None:
    return executions_table().get(meta_key(graph_exec_id), consistent=True)


def _partition(graph_exec_id: str, sk_prefix: str | None = None) -> list[dict[str, Any]]:
    """Every item of one execution (or those whose SK starts with `sk_prefix`)."""
    condition, values = "PK = :pk", {":pk": execution_pk(graph_exec_id)}
    if sk_prefix:
        condition += " AND begins_with(SK, :prefix)"
        values[":prefix"] = sk_prefix
    items: list[dict[str, Any]] = []
    start_key = None
    while True:
        batch, start_key = executions_table().query(condition, values, start_key=start_key, consistent=True)
        items.extend(batch)
        if not start_key:
            return items


# --- reads -------------------------------------------------------------------------------
def get_execution(
    user_id: str, graph_exec_id: str, include_nodes: bool = True, graph_id: str | None = None
) -> GraphExecutionWithNodes:
    """The execution (404 if missing, another user's, or not of `graph_id`), nodes sorted by `seq`."""
    if not include_nodes:
        meta = _owned(_get_meta(graph_exec_id), user_id, graph_exec_id, graph_id)
        return GraphExecutionWithNodes.model_validate(_execution_data(meta))
    items = _partition(graph_exec_id)  # META, nodes (and static values, unused here) in one Query
    meta = _owned(next((i for i in items if i["SK"] == META_SK), None), user_id, graph_exec_id, graph_id)
    nodes = sorted((_node(i, meta) for i in items if i["SK"].startswith(NODE_PREFIX)), key=lambda n: n.seq)
    return GraphExecutionWithNodes.model_validate({**_execution_data(meta), "node_executions": nodes})


@dataclass(frozen=True)
class _Index:
    name: str
    pk: str
    sk: str

    def page_key(self, item: dict[str, Any]) -> dict[str, str]:
        return {"PK": item["PK"], "SK": item["SK"], self.pk: item[self.pk], self.sk: item[self.sk]}


_BY_USER = _Index(BY_USER_INDEX, "GSI1PK", "GSI1SK")
_BY_GRAPH = _Index(BY_GRAPH_INDEX, "GSI2PK", "GSI2SK")


def _newest_first(
    index: _Index, partition: str, start_key: dict[str, Any] | None, count: int
) -> Iterator[dict[str, Any]]:
    """At most `count` items of one index partition, newest first, across DynamoDB's 1 MB pages."""
    remaining = count
    while remaining > 0:
        items, last = executions_table().query(
            f"{index.pk} = :pk",
            {":pk": partition},
            index=index.name,
            limit=remaining,
            forward=False,
            start_key=start_key,
        )
        yield from items
        remaining -= len(items)
        if not last:
            return
        start_key = last


def _start_key_from_cursor(cursor: str, index: _Index, partition: str) -> dict[str, Any]:
    try:
        key = decode_cursor(cursor)
    except ValueError as error:
        raise Unprocessable("Invalid page cursor.") from error
    # A cursor must point into the caller's own partition of this index, nowhere else.
    if (
        not key
        or set(key) != {"PK", "SK", index.pk, index.sk}
        or key[index.pk] != partition
        or not all(isinstance(v, str) for v in key.values())
    ):
        raise Unprocessable("Invalid page cursor.")
    return key


def _page(index: _Index, partition: str, page: int, page_size: int, cursor: str | None) -> ExecutionsPage:
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise Unprocessable(f"page_size must be between 1 and {MAX_PAGE_SIZE}.")
    if page < 1:
        raise Unprocessable("page must be 1 or more.")
    skipped, start_key = 0, None
    if cursor:  # preferred: one Query per page, whatever the depth
        start_key = _start_key_from_cursor(cursor, index, partition)
    elif page > 1:
        offset = (page - 1) * page_size
        if offset > MAX_PAGE_OFFSET:
            raise Unprocessable(
                f"Pages deeper than {MAX_PAGE_OFFSET} executions need the cursor (next_cursor of the previous page)."
            )
        last = None
        for last in _newest_first(index, partition, None, offset):  # noqa: B007 (the last one is the answer)
            skipped += 1
        if last is None or skipped < offset:  # past the end: nothing on this page
            return _page_of([], index, page, page_size, total=skipped, has_more=False)
        start_key = index.page_key(last)
    items = list(_newest_first(index, partition, start_key, page_size + 1))  # one extra: is there more?
    has_more = len(items) > page_size
    # With a cursor the items before it were not counted, so the total stays unknown.
    total = None if has_more or cursor else skipped + len(items)
    return _page_of(items[:page_size], index, page, page_size, total, has_more)


def _page_of(
    items: list[dict[str, Any]], index: _Index, page: int, page_size: int, total: int | None, has_more: bool
) -> ExecutionsPage:
    return ExecutionsPage(
        executions=[_meta_entry(item) for item in items],
        pagination=Pagination(
            total_items=total,
            total_pages=None if total is None else math.ceil(total / page_size),
            current_page=page,
            page_size=page_size,
        ),
        next_cursor=encode_cursor(index.page_key(items[-1])) if has_more else None,
    )


def list_executions(user_id: str, page: int = 1, page_size: int = 25, cursor: str | None = None) -> ExecutionsPage:
    """The user's executions, newest first (Query GSI ByUser)."""
    return _page(_BY_USER, f"USER#{user_id}", page, page_size, cursor)


def list_graph_executions(
    user_id: str, graph_id: str, page: int = 1, page_size: int = 25, cursor: str | None = None
) -> ExecutionsPage:
    """The user's executions of one graph, newest first (Query GSI ByGraph)."""
    return _page(_BY_GRAPH, f"GRAPH#{graph_id}#USER#{user_id}", page, page_size, cursor)


# --- stop --------------------------------------------------------------------------------
def _status_values(statuses: Iterable[ExecutionStatus], prefix: str) -> tuple[str, dict[str, str]]:
    """`#s IN (:p0, :p1, ...)` and its values."""
    values = {f":{prefix}{i}": status.value for i, status in enumerate(sorted(statuses, key=lambda s: s.value))}
    return f"#s IN ({', '.join(values)})", values


def request_stop(user_id: str, graph_exec_id: str, graph_id: str | None = None) -> GraphExecutionView:
    """TERMINATED now (conditional on still being unfinished); pending nodes too; then the state machine."""
    now = now_iso()
    in_stoppable, values = _status_values(STOPPABLE_STATUSES, "st")
    condition = f"user_id = :u AND {in_stoppable}"
    values.update({":u": user_id, ":yes": True, ":terminated": ExecutionStatus.TERMINATED.value, ":now": now})
    if graph_id is not None:
        condition += " AND graph_id = :g"
        values[":g"] = graph_id
    try:
        item = executions_table().update(
            meta_key(graph_exec_id),
            "SET stop_requested = :yes, #s = :terminated, ended_at = :now",
            names=_STATUS,
            values=values,
            condition=condition,
        )
    except ConditionFailed:
        current = _owned(_get_meta(graph_exec_id), user_id, graph_exec_id, graph_id)
        raise Conflict(
            f"Graph execution #{graph_exec_id} is already {current.get('status')}: only QUEUED or "
            f"RUNNING executions can be stopped."
        ) from None
    _terminate_pending_nodes(graph_exec_id, now)
    _stop_state_machine_execution(graph_exec_id)
    return _view(item)


def _terminate_pending_nodes(graph_exec_id: str, now: str) -> None:
    """Queued and incomplete node executions will never run: mark them TERMINATED.

    Running ones finish or are cancelled by the engine, which sees `stop_requested`."""
    pending = {s.value for s in _PENDING_NODE_STATUSES}
    in_pending, values = _status_values(_PENDING_NODE_STATUSES, "p")
    values.update({":terminated": ExecutionStatus.TERMINATED.value, ":now": now})
    table = executions_table()
    for item in _partition(graph_exec_id, NODE_PREFIX):
        if item.get("status") not in pending:
            continue
        try:  # conditional: a node the engine started meanwhile is left to the engine
            table.update(
                {"PK": item["PK"], "SK": item["SK"]},
                "SET #s = :terminated, end_time = :now",
                names=_STATUS,
                values=values,
                condition=in_pending,
            )
        except ConditionFailed:
            pass


def _stop_state_machine_execution(graph_exec_id: str) -> None:
    state_machine_arn = os.environ.get("GRAPH_EXECUTION_STATE_MACHINE_ARN", "")
    if not state_machine_arn:
        return
    prefix, _, name = state_machine_arn.partition(":stateMachine:")
    if not name:
        logger.warning("GRAPH_EXECUTION_STATE_MACHINE_ARN is not a state machine ARN", extra={"arn": state_machine_arn})
        return
    sfn = client("stepfunctions")
    try:
        sfn.stop_execution(executionArn=f"{prefix}:execution:{name}:{graph_exec_id}", cause="Stopped by the user.")
    except sfn.exceptions.ExecutionDoesNotExist:
        pass  # not started yet, or already gone: the META status already stops it
    except Exception:  # noqa: BLE001 - the stop is recorded; the engine honours stop_requested
        logger.exception("StopExecution failed", extra={"graph_exec_id": graph_exec_id})


# --- delete ------------------------------------------------------------------------------
def delete_execution(user_id: str, graph_exec_id: str) -> None:
    """Deletes META, node, static and share items; refuses (409) while the execution is unfinished."""
    meta = _owned(_get_meta(graph_exec_id), user_id, graph_exec_id)
    _refuse_unfinished(meta, graph_exec_id)
    table = executions_table()
    # Children first and META last, so an interrupted delete stays visible and can be retried.
    children = [{"PK": i["PK"], "SK": i["SK"]} for i in _partition(graph_exec_id) if i["SK"] != META_SK]
    for start in range(0, len(children), TRANSACTION_LIMIT):
        table.transact([table.delete_op(key) for key in children[start : start + TRANSACTION_LIMIT]])
    in_final, values = _status_values(FINAL_STATUSES, "f")
    operations = [
        table.delete_op(
            meta_key(graph_exec_id),
            condition=f"user_id = :u AND {in_final}",
            names=_STATUS,
            values={**values, ":u": user_id},
        )
    ]
    if meta.get("share_token"):
        operations.append(_delete_share_op(meta["share_token"], graph_exec_id))
    try:
        table.transact(operations)
    except TransactionCancelled:
        current = _owned(_get_meta(graph_exec_id), user_id, graph_exec_id)
        _refuse_unfinished(current, graph_exec_id)
        raise Conflict(f"Graph execution #{graph_exec_id} changed while being deleted; try again.") from None


def _refuse_unfinished(meta: dict[str, Any], graph_exec_id: str) -> None:
    if meta.get("status") not in {s.value for s in FINAL_STATUSES}:
        raise Conflict(f"Graph execution #{graph_exec_id} is {meta.get('status')}: stop it before deleting it.")


# --- sharing -----------------------------------------------------------------------------
def _delete_share_op(token: str, graph_exec_id: str) -> dict[str, Any]:
    table = executions_table()
    return table.delete_op(
        share_key(token), condition="attribute_not_exists(PK) OR graph_exec_id = :id", values={":id": graph_exec_id}
    )


def share_execution(user_id: str, graph_exec_id: str, graph_id: str | None = None) -> ShareInfo:
    """A public share token; sharing again returns the same token."""
    table = executions_table()
    for _ in range(3):
        meta = _owned(_get_meta(graph_exec_id), user_id, graph_exec_id, graph_id)
        if meta.get("share_token"):
            return ShareInfo(share_token=meta["share_token"])
        token = secrets.token_urlsafe(24)
        try:
            table.transact(
                [
                    table.put_op(
                        {
                            **share_key(token),
                            "graph_exec_id": graph_exec_id,
                            "user_id": user_id,
                            "created_at": now_iso(),
                        },
                        condition="attribute_not_exists(PK)",
                    ),
                    table.update_op(
                        meta_key(graph_exec_id),
                        "SET share_token = :t",
                        condition="user_id = :u AND attribute_not_exists(share_token)",
                        values={":t": token, ":u": user_id},
                    ),
                ]
            )
            return ShareInfo(share_token=token)
        except TransactionCancelled:
            continue  # a concurrent share (or delete) won: look again
    raise Conflict(f"Graph execution #{graph_exec_id} is being changed concurrently; try again.")


def unshare_execution(user_id: str, graph_exec_id: str, graph_id: str | None = None) -> None:
    """Removes the share (idempotent: unsharing an unshared execution succeeds)."""
    table = executions_table()
    for _ in range(3):
        meta = _owned(_get_meta(graph_exec_id), user_id, graph_exec_id, graph_id)
        token = meta.get("share_token")
        if not token:
            return
        try:
            table.transact(
                [
                    _delete_share_op(token, graph_exec_id),
                    table.update_op(
                        meta_key(graph_exec_id),
                        "REMOVE share_token",
                        condition="share_token = :t",
                        values={":t": token},
                    ),
                ]
            )
            return
        except TransactionCancelled:
            continue
    raise Conflict(f"Graph execution #{graph_exec_id} is being changed concurrently; try again.")


def _graph_title(graph_id: str, version: int) -> tuple[str, str | None]:
    item = get_version_item(graph_id, version, consistent=False)
    return (item.get("name") or "", item.get("description")) if item else ("", None)


def get_shared_execution(token: str) -> SharedExecution:
    """The public view behind a share token (404 when unknown or unshared)."""
    share = executions_table().get(share_key(token))
    meta = _get_meta(share["graph_exec_id"]) if share else None
    if not meta or meta.get("share_token") != token:  # a stale share item must not reveal anything
        raise NotFound("Shared execution not found.")
    name, description = _graph_title(meta["graph_id"], meta["graph_version"])
    data = _meta_fields(meta, SharedExecution.model_fields)
    data.update(graph_name=name, graph_description=description, outputs=_resolved(data.get("outputs", {})))
    return SharedExecution.model_validate(data)


# --- external API ------------------------------------------------------------------------
def execution_results(user_id: str, graph_exec_id: str, graph_id: str | None = None) -> ExecutionResults:
    """AutoGPT's external results: every node's input and output, graph outputs once COMPLETED."""
    execution = get_execution(user_id, graph_exec_id, include_nodes=True, graph_id=graph_id)
    completed = execution.status == ExecutionStatus.COMPLETED
    return ExecutionResults(
        execution_id=execution.id,
        status=execution.status,
        nodes=[
            ExecutionNodeResult(node_id=n.node_id, input=n.input_data.get("value", n.input_data), output=n.output_data)
            for n in execution.node_executions
        ],
        output=[{name: value} for name, values in execution.outputs.items() for value in values] if completed else None,
    )
