"""MAG graphs as Stratus graphs of kind "mag", addressed by name per user; the user's MCP servers.

A MAG graph is a normal graph version (stratus.graphs.service: same ids, versions, listing)
with `kind`, `mag_config` and `mag_subgraphs` (every reachable subgraph's config, snapshotted
at save so a run is reproducible). Its `nodes` are display copies of the agent nodes.
A name item (`USER#<id>#MAG` / `NAME#<name>` → graph_id) makes names unique per user.
"""

from __future__ import annotations

import json
import uuid
from typing import Any, cast

from stratus.clock import now_iso
from stratus.db import graphs_table
from stratus.db.dynamo import ConditionFailed
from stratus.errors import Conflict, NotFound, Unprocessable
from stratus.graphs import service as graphs
from stratus.graphs.models import CreateGraph, Graph, Link, MagGraphModel, Node
from stratus.mag import packages

# MAG_AGENT_BLOCK_ID: the agent node block (stratus.blocks.ai.agent_node), the display nodes' block.
from stratus.mag.models import END, MAG_AGENT_BLOCK_ID, START, GraphConfig, McpServerConfig, McpTransport, ModelConfig
from stratus.net.egress import check_stored_url

MAX_MCP_SERVERS = 200


def _not_found(name: str) -> NotFound:
    return NotFound(f"MAG graph {name!r} not found.")


# --- config ↔ graph ------------------------------------------------------------------------
def with_levels(config: GraphConfig) -> GraphConfig:
    """The config with each node's level recomputed (MAG ignores levels on input)."""
    from stratus.engine.mag import levels  # pure; only the definition side needs it here

    computed = levels(config)
    copy = config.model_copy(deep=True)
    for node in copy.nodes:
        node.level = computed.get(node.name)
    return copy


def display_graph(config: GraphConfig) -> Graph:
    """AutoGPT-shaped nodes and links for listings and the builder; `mag_config` is what runs."""
    ids = {node.name: str(uuid.uuid4()) for node in config.nodes}
    rows: dict[int, int] = {}
    nodes = []
    for node in config.nodes:
        level = node.level or 0
        row = rows[level] = rows.get(level, -1) + 1
        position = node.position or {"x": level * 400.0, "y": row * 250.0}
        nodes.append(
            Node(
                id=ids[node.name],
                block_id=MAG_AGENT_BLOCK_ID,
                input_default=node.model_dump(mode="json"),
                metadata={"position": position},
            )
        )
    # Display-only edges (input_nodes), between real pins of the agent node block.
    links = [
        Link(
            id=str(uuid.uuid4()),
            source_id=ids[source],
            sink_id=ids[node.name],
            source_name="output",
            sink_name="user_prompt",
        )
        for node in config.nodes
        for source in node.input_nodes
        if source not in (START, END)
    ]
    return Graph(name=config.name, description=config.description[:20_000], nodes=nodes, links=links)


# --- subgraphs -----------------------------------------------------------------------------
def _stored(user_id: str, name: str) -> dict[str, Any] | None:
    """The ACTIVE item of the user's MAG graph `name`, or None."""
    graph_id = graphs_table.get_mag_graph_id(user_id, name)
    if not graph_id:
        return None
    item = graphs_table.get_active(graph_id)
    if not item or item["user_id"] != user_id or graphs.kind_of(item) != graphs.MAG:
        return None
    return item


def subgraph_snapshots(user_id: str, config: GraphConfig) -> dict[str, dict[str, Any]]:
    """{name: config dump} of every subgraph `config` reaches, read from the user's graphs now
    (or, for one since deleted, from the snapshot of the graph that used it).
    Self- and indirect recursion and unknown names are 422s."""
    found: dict[str, GraphConfig] = {}

    def visit(current: GraphConfig, path: list[str], inherited: dict[str, Any]) -> None:
        for node in current.nodes:
            if not node.is_subgraph or not node.subgraph_name:
                continue
            name = node.subgraph_name
            if name in path:
                raise Unprocessable(
                    f"Subgraph recursion: {' → '.join(path + [name])}. A graph cannot run "
                    f"itself, directly or through other graphs."
                )
            if name in found:
                continue  # fully explored already without a cycle (DFS)
            item = _stored(user_id, name)
            if item is not None:
                data, snapshots = item["mag_config"], item.get("mag_subgraphs") or {}
            elif name in inherited:
                data, snapshots = inherited[name], inherited
            else:
                raise Unprocessable(
                    f"Node {node.name!r} of {current.name!r} runs subgraph {name!r}, "
                    f"which is not one of your MAG graphs."
                )
            found[name] = GraphConfig.model_validate(data)
            visit(found[name], path + [name], snapshots)

    visit(config, [config.name], {})
    return {name: sub.model_dump(mode="json") for name, sub in found.items()}


# --- graphs ---------------------------------------------------------------------------------
def _prepare(user_id: str, config: GraphConfig) -> tuple[Graph, dict[str, Any]]:
    config = with_levels(config)
    extra = {
        "kind": graphs.MAG,
        "mag_config": config.model_dump(mode="json"),
        "mag_subgraphs": subgraph_snapshots(user_id, config),
    }
    return display_graph(config), extra


def create_graph(user_id: str, config: GraphConfig) -> MagGraphModel:
    """Version 1 of a new MAG graph; a name the user already has is a 409 (as in MAG)."""
    graph, extra = _prepare(user_id, config)
    graph.id = str(uuid.uuid4())
    try:
        model = graphs.create_graph(user_id, CreateGraph(graph=graph), extra=extra, mag_name=config.name, keep_id=True)
    except graphs_table.MagNameTaken as taken:
        raise Conflict(f"A MAG graph named {config.name!r} already exists.") from taken
    mag_model = cast(MagGraphModel, model)  # `extra` is of kind "mag": graphs returns its MAG model
    _add_to_library(user_id, mag_model)
    return mag_model


def _add_to_library(user_id: str, model: MagGraphModel) -> None:
    from stratus.library.agents import add_created_graph  # as POST /api/graphs does

    add_created_graph(user_id, model)


def graph_id_for(user_id: str, name: str) -> str:
    graph_id = graphs_table.get_mag_graph_id(user_id, name)
    if not graph_id:
        raise _not_found(name)
    return graph_id


def update_graph(user_id: str, name: str, config: GraphConfig) -> MagGraphModel:
    """A new active version of the user's graph `name` (the name itself cannot change)."""
    if config.name != name:
        raise Unprocessable(
            f"The graph's name is {config.name!r}, not {name!r}: renaming is not supported "
            f"(import it under the new name and delete the old one)."
        )
    graph_id = graph_id_for(user_id, name)
    graph, extra = _prepare(user_id, config)
    # `extra` is of kind "mag": graphs returns its MAG model.
    return cast(MagGraphModel, graphs.update_graph(user_id, graph_id, graph, extra=extra))


def get_graph(user_id: str, name: str) -> MagGraphModel:
    model = graphs.get_graph(user_id, graph_id_for(user_id, name))
    if not isinstance(model, MagGraphModel):
        raise _not_found(name)
    return model


def get_config(user_id: str, name: str) -> tuple[MagGraphModel, GraphConfig]:
    """The active version and its config, levels recomputed."""
    model = get_graph(user_id, name)
    return model, with_levels(GraphConfig.model_validate(model.mag_config))


def delete_graph(user_id: str, name: str) -> int:
    return graphs.delete_graph(user_id, graph_id_for(user_id, name))


def list_graphs(user_id: str) -> list[dict[str, Any]]:
    """The user's MAG graphs by name: Query the name items, BatchGet their ACTIVE items."""
    pointers = graphs_table.mag_names(user_id)
    actives = graphs_table.get_items((pointer["graph_id"], None) for pointer in pointers)
    listed = []
    for pointer in pointers:
        item = actives.get((pointer["graph_id"], None))
        if not item or item["user_id"] != user_id:
            continue  # a name whose graph is being deleted
        config = item["mag_config"]
        listed.append(
            {
                "name": pointer["name"],
                "description": config.get("description", ""),
                "graph_id": item["id"],
                "version": item["version"],
                "node_count": len(config.get("nodes", [])),
                "updated_at": item.get("updated_at"),
            }
        )
    return sorted(listed, key=lambda entry: entry["name"])


# --- import / export ------------------------------------------------------------------------
def import_package(user_id: str, payload: bytes) -> dict[str, Any]:
    """Import a MAG graph (JSON or zip package). The graph is written first, so a name conflict
    (409) or a bad subgraph (422) writes nothing; then the servers and models the user lacks
    are added (existing ones are kept, as in MAG)."""
    from stratus.integrations.model_configs import check_base_url, check_name

    package = packages.read_upload(payload)
    for model_config in package.models:  # refused now, not after the graph is written
        check_name(model_config.name)
        check_base_url(model_config)
    check_server_urls(package.mcp_servers)
    if len(package.mcp_servers) > MAX_MCP_SERVERS:
        raise Unprocessable(f"At most {MAX_MCP_SERVERS} MCP servers can be registered.")
    model = create_graph(user_id, package.config)
    added_servers = put_mcp_servers(user_id, package.mcp_servers, merge=True) if package.mcp_servers else []
    added_models = [model_config.name for model_config in package.models if _add_model(user_id, model_config)]
    return {
        "graph_id": model.id,
        "version": model.version,
        "name": model.name,
        "added_servers": added_servers,
        "skipped_servers": sorted(set(package.mcp_servers) - set(added_servers)),
        "added_models": added_models,
        "skipped_models": [m.name for m in package.models if m.name not in added_models],
        "needs_api_key": [m.name for m in package.models if m.name in added_models and not m.api_key],
    }


def _add_model(user_id: str, config: ModelConfig) -> bool:
    from stratus.integrations.model_configs import save_model_config  # H1's model configs (KMS)

    return save_model_config(user_id, config, overwrite=False)


def _model_configs(user_id: str, names: list[str]) -> list[ModelConfig]:
    """The user's configs of these names, api keys blank (listed masked: no key is decrypted).
    A model deleted since is simply not in the package."""
    from stratus.integrations.model_configs import list_model_configs

    return [
        ModelConfig.model_validate({**public, "api_key": ""})
        for public in list_model_configs(user_id)
        if public["name"] in names
    ]


def export_package(user_id: str, name: str) -> bytes:
    """MAG's zip package of the active version: config, readme, the servers and models its
    nodes and subgraphs use (api keys and server env values blanked)."""
    model, config = get_config(user_id, name)
    configs = [config, *(GraphConfig.model_validate(s) for s in model.mag_subgraphs.values())]
    servers = get_mcp_servers(user_id)
    used = {server: servers[server] for server in packages.used_servers(configs) if server in servers}
    return packages.build_zip_package(config, used, _model_configs(user_id, packages.used_models(configs)))


# --- MCP servers ----------------------------------------------------------------------------
def get_mcp_servers(user_id: str) -> dict[str, McpServerConfig]:
    """The user's MCP servers by name (one GetItem)."""
    item = graphs_table.get_mcp_servers_item(user_id)
    return {name: McpServerConfig.model_validate(config) for name, config in _stored_servers(user_id, item).items()}


def _stored_servers(user_id: str, item: dict[str, Any] | None) -> dict[str, Any]:
    """The registry item's servers. They are sealed at rest (URLs and env values may hold
    tokens); an item written before sealing holds them in `servers`."""
    if not item:
        return {}
    if "sealed_servers" in item:
        from stratus.integrations.secrets import unseal

        return json.loads(unseal(item["sealed_servers"], _servers_context(user_id)))
    return item.get("servers") or {}


def _servers_context(user_id: str) -> str:
    # Bound into the sealed registry at rest: fixed, whatever the table's key layout.
    return f"USER#{user_id}#MAG#MCP_SERVERS"


def put_mcp_servers(user_id: str, servers: dict[str, McpServerConfig], merge: bool) -> list[str]:
    """Store the user's MCP servers; returns the names written.
    merge=False replaces the whole registry (PUT /api/mag/mcp); merge=True only adds the names the
    user does not have yet, keeping existing servers unchanged (MAG's package import)."""
    check_server_urls(servers)
    for _ in range(5):  # optimistic: a concurrent writer makes us read again
        item = graphs_table.get_mcp_servers_item(user_id) or {}
        current = _stored_servers(user_id, item)
        if merge:
            added = sorted(name for name in servers if name not in current)
            stored = {**current, **{name: _stored_server(servers[name]) for name in added}}
        else:
            added = sorted(servers)
            stored = {name: _stored_server(server) for name, server in servers.items()}
        if len(stored) > MAX_MCP_SERVERS:
            raise Unprocessable(f"At most {MAX_MCP_SERVERS} MCP servers can be registered.")
        if merge and not added:
            return []
        revision = int(item.get("revision", 0))
        try:
            from stratus.integrations.secrets import seal

            attributes = {
                "sealed_servers": seal(json.dumps(stored), _servers_context(user_id)),
                "names": sorted(stored),
                "revision": revision + 1,
                "updated_at": now_iso(),
            }
            graphs_table.put_mcp_servers_item(user_id, attributes, seen_revision=revision)
            return added
        except ConditionFailed:
            continue
    raise Conflict("The MCP servers changed while saving; try again.")


def check_server_urls(servers: dict[str, McpServerConfig]) -> None:
    """422 for a remote server whose url the egress policy refuses (checked again on every use)."""
    for name, server in servers.items():
        if server.transport_type is not McpTransport.STDIO and server.url:
            check_stored_url(f"MCP server {name!r} url", server.url)


def _stored_server(server: McpServerConfig) -> dict[str, Any]:
    return server.model_dump(mode="json", by_alias=True)
