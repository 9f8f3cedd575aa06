"""Reading graph executions in AutoGPT's shapes (stratus.executions.commands stops, shares and
deletes them; the engine writes them).

Access patterns (no Scan anywhere; stratus.db.executions_table):
- one execution with its node executions: one Query of its partition (META and nodes together);
- a user's executions, newest first: the `ByUser` index; one graph's: the `ByGraph` index;
- a public share: its share item, then META.

Another user's execution is NotFound (404), never Forbidden, so ids cannot be probed.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from pydantic import Field, computed_field

from stratus.db import executions_table as table
from stratus.db.executions_table import ExecutionIndex
from stratus.db.graphs_table import get_version_item
from stratus.engine.models import ExecutionStatus, Model, NodeExecution
from stratus.errors import NotFound, Unprocessable
from stratus.executions.models import ExecutionStats, GraphExecution, GraphExecutionSummary
from stratus.observability import logger

MAX_PAGE_SIZE = 250  # GET /api/executions returns AutoGPT's 250 newest; graph lists allow 100
# Page N (without a cursor) reads and discards (N-1)*page_size items: DynamoDB has no offset.
# Capped so one request stays within a Lambda's time; deeper pages need the cursor.
MAX_PAGE_OFFSET = 5_000


# --- response models (AutoGPT's shapes) --------------------------------------------------
class GraphExecutionMeta(GraphExecutionSummary):
    """A list entry: AutoGPT's GraphExecutionMeta (no outputs, so lists stay light)."""

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


class Pagination(Model):
    # Totals are known only once a page walk reaches the end: counting would read every item.
    total_items: int | None = None
    total_pages: int | None = None
    current_page: int
    page_size: int


class ExecutionsPage(Model):
    executions: list[GraphExecutionMeta]
    pagination: Pagination
    next_cursor: str | None = None


class ShareInfo(Model):
    share_token: str
    share_url: str | None = None  # the route knows the public URL, the domain does not


class SharedExecution(Model):
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


class ExecutionNodeResult(Model):
    node_id: str
    input: Any
    output: dict[str, list[Any]]


class ExecutionResults(Model):
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
def not_found(graph_exec_id: str) -> NotFound:
    return NotFound(f"Graph execution #{graph_exec_id} not found.")


def owned(item: dict[str, Any] | None, user_id: str, graph_exec_id: str, graph_id: str | None = None) -> dict[str, Any]:
    if not item or item.get("user_id") != user_id or (graph_id is not None and item.get("graph_id") != graph_id):
        raise not_found(graph_exec_id)
    return item


def _meta_fields(item: dict[str, Any], fields: dict[str, Any]) -> dict[str, Any]:
    # Absent attributes fall back to the model defaults (the engine omits None values).
    return {name: item[name] for name in fields if item.get(name) is not None}


def _execution_data(item: dict[str, Any]) -> dict[str, Any]:
    data = _meta_fields(item, GraphExecution.model_fields)
    data["inputs"] = _resolved(data.get("inputs", {}))
    data["outputs"] = _resolved(data.get("outputs", {}))
    return data


def view(item: dict[str, Any]) -> GraphExecutionView:
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


# --- reads -------------------------------------------------------------------------------
def get_execution(
    user_id: str, graph_exec_id: str, include_nodes: bool = True, graph_id: str | None = None
) -> GraphExecutionWithNodes:
    """The execution (404 if missing, another user's, or not of `graph_id`), nodes sorted by `seq`."""
    if not include_nodes:
        meta = owned(table.get_meta(graph_exec_id), user_id, graph_exec_id, graph_id)
        return GraphExecutionWithNodes.model_validate(_execution_data(meta))
    found = table.partition(graph_exec_id)  # META, nodes (and static values, unused here) in one Query
    meta = owned(found.meta, user_id, graph_exec_id, graph_id)
    nodes = sorted((_node(i, meta) for i in found.nodes), key=lambda n: n.seq)
    return GraphExecutionWithNodes.model_validate({**_execution_data(meta), "node_executions": nodes})


def _start_key_from_cursor(cursor: str, index: ExecutionIndex) -> dict[str, Any]:
    try:
        return index.start_key(cursor)
    except ValueError as error:  # not a cursor, or one of another partition or index
        raise Unprocessable("Invalid page cursor.") from error


def _page(index: ExecutionIndex, page: int, page_size: int, cursor: str | None) -> ExecutionsPage:
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise Unprocessable(f"page_size must be between 1 and {MAX_PAGE_SIZE}.")
    if page < 1:
        raise Unprocessable("page must be 1 or more.")
    skipped, start_key = 0, None
    if cursor:  # preferred: one Query per page, whatever the depth
        start_key = _start_key_from_cursor(cursor, index)
    elif page > 1:
        offset = (page - 1) * page_size
        if offset > MAX_PAGE_OFFSET:
            raise Unprocessable(
                f"Pages deeper than {MAX_PAGE_OFFSET} executions need the cursor (next_cursor of the previous page)."
            )
        last = None
        for last in index.newest_first(None, offset):  # noqa: B007 (the last one is the answer)
            skipped += 1
        if last is None or skipped < offset:  # past the end: nothing on this page
            return _page_of([], index, page, page_size, total=skipped, has_more=False)
        start_key = index.page_key(last)
    items = list(index.newest_first(start_key, page_size + 1))  # one extra: is there more?
    has_more = len(items) > page_size
    # With a cursor the items before it were not counted, so the total stays unknown.
    total = None if has_more or cursor else skipped + len(items)
    return _page_of(items[:page_size], index, page, page_size, total, has_more)


def _page_of(
    items: list[dict[str, Any]], index: ExecutionIndex, page: int, page_size: int, total: int | None, has_more: bool
) -> ExecutionsPage:
    return ExecutionsPage(
        executions=[_meta_entry(item) for item in items],
        pagination=Pagination(
            total_items=total,
            total_pages=None if total is None else math.ceil(total / page_size),
            current_page=page,
            page_size=page_size,
        ),
        next_cursor=index.cursor(items[-1]) if has_more else None,
    )


def list_executions(user_id: str, page: int = 1, page_size: int = 25, cursor: str | None = None) -> ExecutionsPage:
    """The user's executions, newest first (the ByUser index)."""
    return _page(table.by_user(user_id), page, page_size, cursor)


def list_graph_executions(
    user_id: str, graph_id: str, page: int = 1, page_size: int = 25, cursor: str | None = None
) -> ExecutionsPage:
    """The user's executions of one graph, newest first (the ByGraph index)."""
    return _page(table.by_graph(user_id, graph_id), page, page_size, cursor)


def _graph_title(graph_id: str, version: int) -> tuple[str, str | None]:
    item = get_version_item(graph_id, version, consistent=False)
    return (item.get("name") or "", item.get("description")) if item else ("", None)


def get_shared_execution(token: str) -> SharedExecution:
    """The public view behind a share token (404 when unknown or unshared)."""
    share = table.get_share(token)
    meta = table.get_meta(share["graph_exec_id"]) if share else None
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
