"""Graph versions in DynamoDB: create, read, list, update, activate, delete, export.

Each version is one item (`V#000001`) and the active version is copied to `ACTIVE`, so
GET a graph is one GetItem and listing a user's graphs is one Query on the owner index.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from stratus.blocks.core.agent import AGENT_EXECUTOR_BLOCK_ID
from stratus.blocks.registry import get_block
from stratus.clock import now_iso
from stratus.db import graphs_table
from stratus.db.dynamo import TRANSACTION_LIMIT, ConditionFailed, TransactionCancelled
from stratus.errors import BadRequest, Conflict, NotFound, Unprocessable
from stratus.graphs import schemas
from stratus.graphs.models import (
    AUTOGPT,
    MAG,
    CreateGraph,
    Graph,
    GraphMeta,
    GraphModel,
    Link,
    MagGraphModel,
    Node,
    kind_of,
)
from stratus.graphs.validation import GraphTooLarge, GraphValidationError, check_limits, validate_graph

# DynamoDB items are at most 400 KB; keep room for the key and meta attributes.
MAX_BODY_BYTES = 380_000
# An upload and its bundled sub-graphs are written in one transaction (two items a graph):
# DynamoDB takes at most 100 items and 4 MB in one TransactWriteItems.
MAX_TRANSACTION_BYTES = 4_000_000
_META_FIELDS = (
    "id",
    "version",
    "name",
    "description",
    "instructions",
    "recommended_schedule_cron",
    "forked_from_id",
    "forked_from_version",
    "user_id",
    "created_at",
    "updated_at",
)


def _not_found(graph_id: str) -> NotFound:
    return NotFound(f"Graph {graph_id} not found.")


# --- kinds (stratus.graphs.models: MAG, AUTOGPT, kind_of) ----------------------------------
_MAG_INPUT_SCHEMA = {
    "type": "object",
    "properties": {"start": {"type": "string", "title": "start"}},
    "required": ["start"],
}
_MAG_OUTPUT_SCHEMA = {
    "type": "object",
    "required": [],
    "properties": {"final_result": {"title": "final_result"}, "execution_chain": {"title": "execution_chain"}},
}


def _validate(graph: Graph, kind: str) -> None:
    if kind == AUTOGPT:
        validate_graph(graph)  # errors name the caller's node ids
    else:
        check_limits(graph)


def _validate_upload(graph: Graph) -> None:
    """The graph and every bundled sub-graph, all problems in one 400. A sub-graph's node
    errors are keyed `<sub-graph id>/<node id>` (its ids as sent), so they name it."""
    seen = {graph.id} if graph.id else set()
    for sub in graph.sub_graphs:
        if sub.id and sub.id in seen:
            raise BadRequest(f"sub_graphs: graph {sub.id} is bundled twice (or is the graph itself).")
        seen.add(sub.id)
    node_errors: dict[str, dict[str, str]] = {}
    invalid: list[str] = []
    for sub in [graph, *graph.sub_graphs]:
        label = "The graph" if sub is graph else f"Sub-graph {sub.name!r} ({sub.id or 'no id'})"
        try:
            validate_graph(sub)
        except GraphTooLarge as too_large:
            raise GraphTooLarge(f"{label}: {too_large.detail}") from None
        except Unprocessable as bad_value:  # a structural limit (payload_limits)
            raise Unprocessable(
                bad_value.detail if sub is graph else f"sub_graphs[{sub.id}].{bad_value.detail}"
            ) from None
        except GraphValidationError as error:
            prefix = "" if sub is graph else f"{sub.id}/"
            node_errors.update({prefix + node_id: pins for node_id, pins in error.node_errors.items()})
            invalid.append(f"{label} has {sum(len(pins) for pins in error.node_errors.values())} validation error(s)")
    if invalid:
        raise GraphValidationError("; ".join(invalid) + ".", node_errors)


def _property_names(schema: Any) -> frozenset[str] | None:
    properties = schema.get("properties") if isinstance(schema, dict) else None
    return frozenset(properties) if isinstance(properties, dict) else None


def _evident_sub_graph(input_default: dict[str, Any], bundled: list[Graph]) -> Graph | None:
    """The bundled sub-graph an AgentExecutor node evidently names when its graph_id is none of
    theirs: the one at its graph_version with the inputs and outputs of the node's own copies of
    the child's schemas (AutoGPT copies them into the node); ties go to the one whose schemas
    are equal outright. None when nothing, or more than one, fits."""
    wanted_in = _property_names(input_default.get("input_schema"))
    wanted_out = _property_names(input_default.get("output_schema"))
    if wanted_in is None or wanted_out is None:
        return None
    fitting = [
        sub
        for sub in bundled
        if sub.version == input_default.get("graph_version")
        and _property_names(schemas.input_schema(sub)) == wanted_in
        and _property_names(schemas.output_schema(sub)) == wanted_out
    ]
    if len(fitting) > 1:
        fitting = [
            sub
            for sub in fitting
            if schemas.input_schema(sub) == input_default.get("input_schema")
            and schemas.output_schema(sub) == input_default.get("output_schema")
        ]
    return fitting[0] if len(fitting) == 1 else None


def _resolve_agent_refs(user_id: str, graph: Graph, own_ids: frozenset[str] = frozenset()) -> None:
    """Point every AgentExecutor node of an upload at a graph the user can run, or raise.

    A reference stands as sent when it names a bundled sub-graph (or the graph itself, or one of
    `own_ids`: the graph being updated), or a graph version the user can run (theirs, or
    approved in the store). Otherwise, as in AutoGPT's own exports where the sub-graphs were
    re-id'd and only the versions still match, it is pointed at the bundled sub-graph it
    evidently names (_evident_sub_graph), which reassign_ids then renames with the rest. What
    resolves to nothing is a per-node validation error (the 400 of _validate_upload's form,
    sub-graph nodes keyed `<sub-graph id>/<node id>`), never a run-time "not found"."""
    bundled = list(graph.sub_graphs)
    known = {sub.id for sub in bundled if sub.id} | ({graph.id} if graph.id else set()) | set(own_ids)
    pending: list[tuple[str, Node, str, int]] = []  # (error key, node, graph_id, version)
    for each in [graph, *bundled]:
        prefix = "" if each is graph else f"{each.id}/"
        for node in each.nodes:
            if node.block_id != AGENT_EXECUTOR_BLOCK_ID:
                continue
            graph_id, version = node.input_default.get("graph_id"), node.input_default.get("graph_version")
            if not isinstance(graph_id, str) or not graph_id or graph_id in known:
                continue  # a missing graph_id is the block's own required-field error at run
            if not isinstance(version, int) or isinstance(version, bool):
                continue
            pending.append((prefix + node.id, node, graph_id, version))
    if not pending:
        return
    runnable = _runnable_versions(user_id, {(graph_id, version) for _, _, graph_id, version in pending})
    errors: dict[str, dict[str, str]] = {}
    for key, node, graph_id, version in pending:
        if (graph_id, version) in runnable:
            continue
        sub = _evident_sub_graph(node.input_default, bundled)
        if sub is not None and sub.id:
            node.input_default["graph_id"], node.input_default["graph_version"] = sub.id, sub.version
            continue
        errors[key] = {
            "graph_id": f"Graph {graph_id} version {version} is not bundled in sub_graphs and is not a graph "
            f"you can run."
        }
    if errors:
        raise GraphValidationError(f"{len(errors)} sub-agent reference(s) resolve to no graph you can run.", errors)


def _runnable_versions(user_id: str, refs: set[tuple[str, int]]) -> set[tuple[str, int]]:
    """Which of these graph versions the user may run: their own, or approved in the store."""
    items = graphs_table.get_items(ref for graph_id, version in refs for ref in ((graph_id, None), (graph_id, version)))
    found = set()
    for graph_id, version in refs:
        active, item = items.get((graph_id, None)), items.get((graph_id, version))
        if not active or not item or kind_of(item) != AUTOGPT:
            continue
        if active["user_id"] == user_id:
            found.add((graph_id, version))
            continue
        from stratus.store.access import is_approved  # lazy: only for other users' graphs

        if is_approved(graph_id, version):
            found.add((graph_id, version))
    return found


def _agent_refs(graph: Graph) -> list[tuple[str, int]]:
    """(graph_id, graph_version) named by each AgentExecutor node, in node order."""
    refs = []
    for node in graph.nodes:
        graph_id, version = node.input_default.get("graph_id"), node.input_default.get("graph_version")
        if (
            node.block_id == AGENT_EXECUTOR_BLOCK_ID
            and isinstance(graph_id, str)
            and graph_id
            and isinstance(version, int)
            and not isinstance(version, bool)
        ):
            refs.append((graph_id, version))
    return refs


# --- ids ---------------------------------------------------------------------------
def reassign_ids(graph: Graph, new_graph_id: bool = True) -> Graph:
    """New ids for the graph (optionally), its bundled sub-graphs (always), every node and every
    link; links remapped. As AutoGPT's reassign_ids, AgentExecutor nodes that name a renamed
    graph name its new id, at version 1: the version a created graph gets."""
    copy = graph.model_copy(deep=True)
    graph_ids = {sub.id: str(uuid.uuid4()) for sub in copy.sub_graphs if sub.id}
    if new_graph_id or not copy.id:
        new_id = str(uuid.uuid4())
        if copy.id:
            graph_ids[copy.id] = new_id  # an agent that runs itself
        copy.id = new_id
    for sub in copy.sub_graphs:
        sub.id = graph_ids.get(sub.id) or str(uuid.uuid4())
        sub.version, sub.is_active, sub.sub_graphs = 1, True, []
    for each in [copy, *copy.sub_graphs]:
        _reassign_node_ids(each)
        for node in each.nodes:
            if node.block_id == AGENT_EXECUTOR_BLOCK_ID and node.input_default.get("graph_id") in graph_ids:
                node.input_default["graph_id"] = graph_ids[node.input_default["graph_id"]]
                node.input_default["graph_version"] = 1
    return copy


def _reassign_node_ids(graph: Graph) -> None:
    mapping = {node.id: str(uuid.uuid4()) for node in graph.nodes}
    for node in graph.nodes:
        node.id = mapping[node.id]
        node.input_links, node.output_links = [], []
    graph.links = [
        Link(
            id=str(uuid.uuid4()),
            source_id=mapping.get(link.source_id, link.source_id),
            sink_id=mapping.get(link.sink_id, link.sink_id),
            source_name=link.source_name,
            sink_name=link.sink_name,
            is_static=link.is_static,
        )
        for link in graph.links
    ]


def _force_static_links(graph: Graph) -> None:
    """A link from a block with static output is always static (AutoGPT's rule)."""
    static_nodes = {n.id for n in graph.nodes if (b := get_block(n.block_id)) is not None and b.static_output}
    for link in graph.links:
        if link.source_id in static_nodes:
            link.is_static = True


# --- items -------------------------------------------------------------------------
def _encode_body(graph: Graph) -> str:
    # No sub_graphs: bundled sub-graphs are created as graphs of their own.
    body = {
        "nodes": [n.model_dump(exclude={"input_links", "output_links"}) for n in graph.nodes],
        "links": [link.model_dump() for link in graph.links],
    }
    # allow_nan: a Calculator default of inf must survive storage (JSON's Infinity token).
    encoded = json.dumps(body, separators=(",", ":"), allow_nan=True)
    if len(encoded.encode()) > MAX_BODY_BYTES:
        raise GraphTooLarge(
            f"Graph version is {len(encoded.encode()) // 1024} KB; a stored version must fit "
            f"in one DynamoDB item (400 KB)."
        )
    return encoded


def _version_item(graph: Graph, user_id: str, created_at: str, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """The version's attributes (graphs_table adds the keys); `extra` holds a MAG graph's kind,
    mag_config and mag_subgraphs."""
    body = _encode_body(graph)
    if extra:
        size = len(body.encode()) + len(json.dumps(extra, separators=(",", ":")).encode())
        if size > MAX_BODY_BYTES:
            raise GraphTooLarge(
                f"Graph version is {size // 1024} KB; a stored version must fit in one DynamoDB item (400 KB)."
            )
    return {
        **(extra or {}),
        "id": graph.id,
        "version": graph.version,
        "user_id": user_id,
        "name": graph.name,
        "description": graph.description,
        "instructions": graph.instructions,
        "recommended_schedule_cron": graph.recommended_schedule_cron,
        "forked_from_id": graph.forked_from_id,
        "forked_from_version": graph.forked_from_version,
        "created_at": created_at,
        "updated_at": now_iso(),
        "body": body,
    }


def _graph_from_item(item: dict[str, Any], active_version: int) -> Graph:
    body = json.loads(item["body"])
    return Graph(
        id=item["id"],
        version=item["version"],
        is_active=item["version"] == active_version,
        name=item.get("name", ""),
        description=item.get("description", ""),
        instructions=item.get("instructions"),
        recommended_schedule_cron=item.get("recommended_schedule_cron"),
        forked_from_id=item.get("forked_from_id"),
        forked_from_version=item.get("forked_from_version"),
        nodes=[Node.model_validate(n) for n in body["nodes"]],
        links=[Link.model_validate(x) for x in body["links"]],
    )


def to_model(
    graph: Graph, item: dict[str, Any], for_export: bool = False, sub_graphs: list[GraphModel] | None = None
) -> GraphModel:
    if for_export:
        graph = graph.model_copy(deep=True)
        for node in graph.nodes:
            node.input_default = _strip_secrets(node)
            node.webhook_id = None
    nodes = []
    for node in graph.nodes:
        copy = node.model_copy(deep=True)
        copy.input_links = [link for link in graph.links if link.sink_id == node.id]
        copy.output_links = [link for link in graph.links if link.source_id == node.id]
        nodes.append(copy)
    if kind_of(item) == MAG:
        return MagGraphModel(
            **graph.model_dump(exclude={"nodes", "links", "sub_graphs"}),
            user_id="" if for_export else item["user_id"],
            created_at=item["created_at"],
            updated_at=item.get("updated_at"),
            nodes=nodes,
            links=graph.links,
            input_schema=_MAG_INPUT_SCHEMA,
            output_schema=_MAG_OUTPUT_SCHEMA,
            credentials_input_schema={"type": "object", "properties": {}, "required": []},
            mag_config=item["mag_config"],
            mag_subgraphs=item.get("mag_subgraphs") or {},
        )
    return GraphModel(
        **graph.model_dump(exclude={"nodes", "links", "sub_graphs"}),
        user_id="" if for_export else item["user_id"],
        created_at=item["created_at"],
        updated_at=item.get("updated_at"),
        nodes=nodes,
        links=graph.links,
        sub_graphs=sub_graphs or [],
        input_schema=schemas.input_schema(graph),
        output_schema=schemas.output_schema(graph),
        credentials_input_schema=schemas.credentials_input_schema(
            graph, _credential_sub_graphs(item["user_id"], graph)
        ),
    )


def _credential_sub_graphs(owner_id: str, graph: Graph) -> list[Graph]:
    """The owner's graph versions the graph's AgentExecutor nodes run, at any depth, each version
    once (cycle-safe), read breadth-first with one BatchGetItem a level: their nodes' credentials
    are the graph's too (AutoGPT's aggregate_credentials_inputs over `[self] + self.sub_graphs`).
    A graph without AgentExecutor nodes reads nothing."""
    seen: set[tuple[str, int]] = {(graph.id, graph.version)}
    found: list[Graph] = []
    level = [graph]
    while level:
        wanted = [ref for each in level for ref in _agent_refs(each) if ref not in seen]
        if not wanted:
            break
        seen.update(wanted)
        items = graphs_table.get_items(wanted)
        level = []
        for ref in dict.fromkeys(wanted):
            item = items.get(ref)
            if item is None or item["user_id"] != owner_id or kind_of(item) != AUTOGPT:
                continue
            sub = _graph_from_item(item, item["version"])
            found.append(sub)
            level.append(sub)
    return found


def _strip_secrets(node: Node) -> dict[str, Any]:
    cleaned = {k: v for k, v in node.input_default.items() if k != "credentials" and not k.endswith("_credentials")}
    if cleaned.get("secret"):
        cleaned.pop("value", None)
    schema = cleaned.get("input_schema")  # an AgentExecutor's copy of its child's inputs
    if isinstance(schema, dict) and isinstance(schema.get("properties"), dict):
        cleaned["input_schema"] = {
            **schema,
            "properties": {
                name: {k: v for k, v in prop.items() if not (k == "default" and prop.get("secret"))}
                if isinstance(prop, dict)
                else prop
                for name, prop in schema["properties"].items()
            },
        }
    return cleaned


# --- operations ----------------------------------------------------------------------
def create_graph(
    user_id: str,
    request: CreateGraph,
    extra: dict[str, Any] | None = None,
    mag_name: str | None = None,
    keep_id: bool = False,
) -> GraphModel:
    """Version 1 of a new graph. For stratus.mag: `extra` (a MAG graph's attributes), `mag_name`
    (its name, claimed in the same transaction: graphs_table.MagNameTaken when the user has it)
    and `keep_id` (the caller chose the graph id).

    An AutoGPT graph's bundled `sub_graphs` are created too, in the same transaction, after
    the same validation (nothing is written if any is invalid); the response lists them."""
    if kind_of(extra or {}) == AUTOGPT:
        _validate_upload(request.graph)
        source = request.graph.model_copy(deep=True)
        _resolve_agent_refs(user_id, source)
    else:
        check_limits(request.graph)
        source = request.graph.model_copy(update={"sub_graphs": []})
    graph = reassign_ids(source, new_graph_id=not keep_id)
    graph.version, graph.is_active = 1, True
    created_at = now_iso()
    items = []
    for each in [graph, *graph.sub_graphs]:
        _force_static_links(each)
        items.append(_version_item(each, user_id, created_at, extra if each is graph else None))
    writes = graphs_table.WRITES_PER_GRAPH * len(items) + (mag_name is not None)
    size = graphs_table.WRITES_PER_GRAPH * sum(
        len(json.dumps(item, separators=(",", ":"), default=str).encode()) for item in items
    )
    if writes > TRANSACTION_LIMIT or size > MAX_TRANSACTION_BYTES:
        raise GraphTooLarge(
            f"The graph and its {len(graph.sub_graphs)} sub-graph(s) are {size // 1024} KB in "
            f"{writes} writes; one upload must fit in one DynamoDB transaction "
            f"({TRANSACTION_LIMIT} writes, 4 MB)."
        )
    graphs_table.create_graphs(items, mag_name)
    return to_model(graph, items[0], sub_graphs=[to_model(sub, item) for sub, item in zip(graph.sub_graphs, items[1:])])


def _active(graph_id: str, user_id: str) -> dict[str, Any]:
    item = graphs_table.get_active(graph_id)
    if not item or item["user_id"] != user_id:
        raise _not_found(graph_id)
    return item


def get_graph(user_id: str, graph_id: str, version: int | None = None, for_export: bool = False) -> GraphModel:
    """The owner's graph (active or a version), or a version approved in the store (anyone).
    An export (`for_export`) bundles its sub-graphs, as AutoGPT's does."""
    if version is None:
        current = _active(graph_id, user_id)
        return _stored_model(current, current["version"], for_export, others=False)
    items = graphs_table.get_items([(graph_id, None), (graph_id, version)])
    active, item = items.get((graph_id, None)), items.get((graph_id, version))
    if not active or not item:
        raise NotFound(f"Graph {graph_id} version {version} not found.")
    if active["user_id"] != user_id:
        from stratus.store.access import is_approved  # lazy: only for other users' graphs

        if not is_approved(graph_id, version):
            raise NotFound(f"Graph {graph_id} version {version} not found.")
        return _stored_model(item, active["version"], for_export, others=True)
    return _stored_model(item, active["version"], for_export, others=False)


def _stored_model(item: dict[str, Any], active_version: int, for_export: bool, others: bool) -> GraphModel:
    """`others`: read by another user (an approved store version), so always stripped."""
    graph = _graph_from_item(item, active_version)
    sub_graphs = _export_sub_graphs(item["user_id"], graph, others) if for_export and kind_of(item) == AUTOGPT else None
    return to_model(graph, item, for_export or others, sub_graphs)


def _export_sub_graphs(owner_id: str, graph: Graph, approved_only: bool) -> list[GraphModel]:
    """AutoGPT's get_sub_graphs: the owner's AutoGPT graphs reachable through AgentExecutor
    nodes, at the version each node names, each graph once (the first version met), read
    breadth-first with one BatchGetItem a level. For another user's store graph only versions
    approved in the store are bundled. Secrets are stripped like the graph's own."""
    seen, bundled, level = {graph.id}, [], [graph]
    while level:
        wanted: dict[str, int] = {}
        for each in level:
            for graph_id, version in _agent_refs(each):
                if graph_id not in seen:
                    wanted.setdefault(graph_id, version)
        seen.update(wanted)
        items = graphs_table.get_items(
            ref for graph_id, version in wanted.items() for ref in ((graph_id, None), (graph_id, version))
        )
        level = []
        for graph_id, version in wanted.items():
            active, item = items.get((graph_id, None)), items.get((graph_id, version))
            if not active or not item or item["user_id"] != owner_id or kind_of(item) != AUTOGPT:
                continue
            if approved_only:
                from stratus.store.access import is_approved  # lazy: only for other users' graphs

                if not is_approved(graph_id, version):
                    continue
            sub = _graph_from_item(item, active["version"])
            bundled.append(to_model(sub, item, for_export=True))
            level.append(sub)
    return bundled


def list_graphs(user_id: str) -> list[GraphMeta]:
    found = [
        GraphMeta(**{k: item.get(k) for k in _META_FIELDS}, is_active=True)
        for item in graphs_table.owned_actives(user_id)
    ]
    return sorted(found, key=lambda meta: meta.updated_at or "", reverse=True)


def list_versions(user_id: str, graph_id: str) -> list[GraphModel]:
    active, versions = graphs_table.graph_items(graph_id)
    if not active or active["user_id"] != user_id:
        raise _not_found(graph_id)
    return [
        to_model(_graph_from_item(i, active["version"]), i)
        for i in sorted(versions, key=lambda i: i["version"], reverse=True)
    ]


def update_graph(user_id: str, graph_id: str, graph: Graph, extra: dict[str, Any] | None = None) -> GraphModel:
    """Store the body as version max+1; when `is_active`, it becomes the only active version.
    `extra`: a MAG graph's attributes (stratus.mag); a graph never changes kind."""
    active = _active(graph_id, user_id)
    if kind_of(active) != kind_of(extra or {}):
        if kind_of(active) == MAG:
            raise BadRequest(f"Graph {graph_id} is a MAG graph: update it with PUT /api/mag/graphs/{active['name']}.")
        raise BadRequest(f"Graph {graph_id} is an AutoGPT graph: update it with PUT /api/graphs/{graph_id}.")
    _validate(graph, kind_of(active))
    if kind_of(active) == AUTOGPT:
        graph = graph.model_copy(update={"sub_graphs": []}, deep=True)
        _resolve_agent_refs(user_id, graph, own_ids=frozenset({graph_id}))
    latest = int(active["latest_version"])
    # Bundled sub-graphs are created only with a new graph (POST), as in AutoGPT's builder.
    new = reassign_ids(graph.model_copy(update={"sub_graphs": []}), new_graph_id=False)
    new.id, new.version = graph_id, latest + 1
    new.forked_from_id, new.forked_from_version = active.get("forked_from_id"), active.get("forked_from_version")
    _force_static_links(new)
    item = _version_item(new, user_id, now_iso(), extra)
    try:
        graphs_table.save_version(item, seen_latest=latest, activate=new.is_active)
    except TransactionCancelled as cancelled:
        raise Conflict("The graph changed while saving; reload it and try again.") from cancelled
    return to_model(new if new.is_active else _graph_from_item(item, active["version"]), item)


def set_active_version(user_id: str, graph_id: str, version: int) -> GraphModel:
    active = _active(graph_id, user_id)
    item = graphs_table.get_version_item(graph_id, version)
    if not item:
        raise NotFound(f"Graph {graph_id} version {version} not found.")
    try:
        graphs_table.activate_version(item, seen_latest=int(active["latest_version"]))
    except ConditionFailed as failed:
        raise Conflict("The graph changed while activating; try again.") from failed
    return to_model(_graph_from_item(item, version), item)


def delete_graph(user_id: str, graph_id: str) -> int:
    """Delete every version (and a MAG graph's name); returns how many versions there were."""
    active = _active(graph_id, user_id)
    mag_name = (user_id, active["name"]) if kind_of(active) == MAG else None
    return graphs_table.delete_graph(graph_id, mag_name)
