"""A user's library: an entry for every graph they create (or fork) and every store agent they add.

AutoGPT's LibraryAgent in shape. Entries live in the agents table (`stratus.db.agents_table.library`); the
graph each one shows is read from the GraphsTable when the entry is shown:
- own graphs follow their active version (AutoGPT moves the entry to every version saved);
- store agents stay on the version that was added.
Deleting is soft, as in AutoGPT: the entry is kept with `is_deleted` and adding the same store
agent again brings it back.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from enum import Enum
from typing import Any

from pydantic import BaseModel, ConfigDict

from stratus.clock import now_iso
from stratus.db.agents_table import library
from stratus.db.agents_table.library import created_agent_id, store_agent_id
from stratus.db.dynamo import ConditionFailed
from stratus.db.graphs_table import GraphRef, get_items
from stratus.errors import NotFound, Unprocessable
from stratus.graphs import service as graphs
from stratus.graphs.models import CreateGraph, Graph, GraphModel
from stratus.store.listing_versions import store_listing_version

MAX_PAGE_SIZE = 100
MAX_GRAPH_NAME = 500  # Graph.name's limit
_GRAPH_FIELDS = (
    "id",
    "version",
    "name",
    "description",
    "instructions",
    "recommended_schedule_cron",
    "forked_from_id",
    "forked_from_version",
)


class _Model(BaseModel):
    model_config = ConfigDict(ser_json_inf_nan="constants")  # input defaults may be inf


class LibraryAgentStatus(str, Enum):
    COMPLETED = "COMPLETED"
    HEALTHY = "HEALTHY"
    WAITING = "WAITING"
    ERROR = "ERROR"


class LibraryAgentSort(str, Enum):
    CREATED_AT = "createdAt"
    UPDATED_AT = "updatedAt"


class Pagination(_Model):
    total_items: int
    total_pages: int
    current_page: int
    page_size: int

    @classmethod
    def of(cls, total_items: int, page: int, page_size: int) -> Pagination:
        return cls(
            total_items=total_items,
            total_pages=math.ceil(total_items / page_size),
            current_page=page,
            page_size=page_size,
        )


class LibraryAgent(_Model):
    id: str
    graph_id: str
    graph_version: int
    image_url: str | None = None
    creator_name: str = "Unknown"
    creator_image_url: str = ""
    # AutoGPT derives status/new_output/execution_count from recent runs; not computed here yet.
    status: LibraryAgentStatus = LibraryAgentStatus.COMPLETED
    created_at: str
    updated_at: str
    last_run_at: str | None = None
    name: str
    description: str
    instructions: str | None = None
    input_schema: dict[str, Any]
    output_schema: dict[str, Any]
    credentials_input_schema: dict[str, Any] | None = None  # GET by id only, as AutoGPT
    has_external_trigger: bool = False
    has_human_in_the_loop: bool = False
    has_sensitive_action: bool = False
    trigger_setup_info: dict[str, Any] | None = None
    new_output: bool = False
    execution_count: int = 0
    can_access_graph: bool  # the user owns the graph (may edit it)
    is_latest_version: bool = True
    is_favorite: bool = False
    is_archived: bool = False
    is_created_by_user: bool
    auto_update_version: bool
    recommended_schedule_cron: str | None = None
    forked_from_id: str | None = None
    forked_from_version: int | None = None
    store_listing_version_id: str | None = None


class LibraryAgentResponse(_Model):
    agents: list[LibraryAgent]
    pagination: Pagination


class LibraryAgentUpdate(BaseModel):
    # Kept as AutoGPT's flag; own graphs always show their active version, store agents the one added.
    auto_update_version: bool | None = None
    is_favorite: bool | None = None
    is_archived: bool | None = None


# --- entries ---------------------------------------------------------------------------
def _new_entry(
    user_id: str, library_agent_id: str, graph_id: str, graph_version: int, created_by_user: bool, **extra: Any
) -> dict[str, Any]:
    now = now_iso()
    return {
        "id": library_agent_id,
        "user_id": user_id,
        "graph_id": graph_id,
        "graph_version": graph_version,
        "is_created_by_user": created_by_user,
        "auto_update_version": created_by_user,
        "is_favorite": False,
        "is_archived": False,
        "is_deleted": False,
        "created_at": now,
        "updated_at": now,
        **extra,
    }


def _entry(user_id: str, library_agent_id: str) -> dict[str, Any]:
    entry = library.get_entry(user_id, library_agent_id)
    if not entry or entry.get("is_deleted"):
        raise NotFound(f"Library agent #{library_agent_id} not found")
    return entry


# --- the graphs entries show ---------------------------------------------------------------
def _graph_ref(entry: dict[str, Any]) -> GraphRef:
    if entry["is_created_by_user"]:
        return entry["graph_id"], None
    return entry["graph_id"], int(entry["graph_version"])


def _model_from_item(item: dict[str, Any], own: bool) -> GraphModel:
    fields = {k: item[k] for k in _GRAPH_FIELDS if item.get(k) is not None}
    graph = Graph.model_validate({**fields, **json.loads(item["body"])})
    # Another user's graph is shown as exported: no secrets, no owner.
    return graphs.to_model(graph, item, for_export=not own)


def _graphs_for(user_id: str, entries: Iterable[dict[str, Any]]) -> dict[str, GraphModel]:
    """The graph shown by each entry (by entry id), in BatchGetItem requests of 100 keys.
    Entries whose graph is gone (deleted by its owner) are left out, as AutoGPT skips them, and
    removed: graph ids are never reused, and the entry is written only after its graph, so a
    graph missing from a consistent read is gone for good."""
    entries = list(entries)
    items = get_items(map(_graph_ref, entries))
    models: dict[str, GraphModel] = {}
    for entry in entries:
        shown = items.get(_graph_ref(entry))
        if shown is None:
            library.remove_entry(user_id, entry["id"])
            continue
        own = shown["user_id"] == user_id
        if entry["is_created_by_user"] and not own:
            continue  # never show another user's active (unreviewed) version
        models[entry["id"]] = _model_from_item(shown, own)
    return models


def _shape(entry: dict[str, Any], graph: GraphModel, with_credentials: bool = False) -> LibraryAgent:
    return LibraryAgent(
        id=entry["id"],
        graph_id=entry["graph_id"],
        graph_version=graph.version,
        image_url=entry.get("image_url"),
        creator_name=entry.get("creator_name") or "Unknown",
        creator_image_url=entry.get("creator_image_url") or "",
        created_at=entry["created_at"],
        updated_at=max(entry["updated_at"], graph.updated_at or ""),
        # A store agent shows the listing's title and description as added (AutoGPT's snapshot).
        name=entry["name"] if entry.get("name") is not None else graph.name,
        description=entry["description"] if entry.get("description") is not None else graph.description,
        instructions=graph.instructions,
        input_schema=graph.input_schema,
        output_schema=graph.output_schema,
        credentials_input_schema=graph.credentials_input_schema if with_credentials else None,
        can_access_graph=graph.user_id == entry["user_id"],
        is_favorite=bool(entry.get("is_favorite")),
        is_archived=bool(entry.get("is_archived")),
        is_created_by_user=bool(entry["is_created_by_user"]),
        auto_update_version=bool(entry.get("auto_update_version")),
        recommended_schedule_cron=graph.recommended_schedule_cron,
        forked_from_id=graph.forked_from_id,
        forked_from_version=graph.forked_from_version,
        store_listing_version_id=entry.get("store_listing_version_id"),
    )


# --- operations ----------------------------------------------------------------------------
def add_created_graph(user_id: str, graph: GraphModel) -> LibraryAgent:
    """The entry of a graph the user just created (POST /api/graphs, a fork). Idempotent."""
    entry = library.add_entry(
        _new_entry(user_id, created_agent_id(user_id, graph.id), graph.id, graph.version, created_by_user=True)
    )
    return _shape(entry, graph, with_credentials=True)


def add_store_agent(user_id: str, store_listing_version_id: str) -> LibraryAgent:
    """Add an approved store agent; adding it again returns the same entry."""
    not_found = NotFound(f"Store listing version {store_listing_version_id} not found or not approved")
    version = store_listing_version(store_listing_version_id)
    if version is None:
        raise not_found
    try:  # readable by this user: their own graph, or approved in the store (the shared marker)
        graph = graphs.get_graph(user_id, version.graph_id, version.graph_version)
    except NotFound:
        raise not_found from None
    if graph.user_id == user_id:  # their own graph: it is already in their library
        library.add_entry(
            _new_entry(user_id, created_agent_id(user_id, graph.id), graph.id, graph.version, created_by_user=True)
        )
        return get_agent(user_id, created_agent_id(user_id, graph.id))
    if not version.approved:
        raise not_found
    snapshot = {
        "store_listing_version_id": store_listing_version_id,
        "name": version.name,
        "description": version.description,
        "image_url": version.image_url,
        "creator_name": version.creator_name,
        "creator_image_url": version.creator_image_url,
    }
    entry = library.add_entry(
        _new_entry(
            user_id,
            store_agent_id(user_id, graph.id, graph.version),
            graph.id,
            graph.version,
            created_by_user=False,
            **snapshot,
        )
    )
    return _shape(entry, graph, with_credentials=True)


def list_agents(
    user_id: str,
    search_term: str | None = None,
    sort_by: LibraryAgentSort = LibraryAgentSort.UPDATED_AT,
    page: int = 1,
    page_size: int = 15,
    favorites_only: bool = False,
    favorites_first: bool = False,
    include_archived: bool = False,
) -> LibraryAgentResponse:
    """A page of the library. A user's library is small: it is read whole with one Query of their
    partition, then filtered, searched, sorted and paged in memory (no index needed)."""
    entries = [
        e
        for e in library.entries_of(user_id)
        if not e.get("is_deleted")
        and (include_archived or not e.get("is_archived"))
        and (not favorites_only or e.get("is_favorite"))
    ]
    if sort_by is LibraryAgentSort.CREATED_AT:
        entries.sort(key=lambda e: (e["created_at"], e["id"]))  # oldest first, as AutoGPT
    else:
        entries.sort(key=lambda e: (e["updated_at"], e["id"]), reverse=True)
    if favorites_first:
        entries.sort(key=lambda e: not e.get("is_favorite"))  # stable: keeps the order within each group
    first = (page - 1) * page_size
    if search_term and search_term.strip():
        # Name and description come from the graph (own graphs can be renamed): read them all.
        needle = search_term.strip().casefold()
        models = _graphs_for(user_id, entries)
        matches = [
            agent
            for agent in (_shape(e, models[e["id"]]) for e in entries if e["id"] in models)
            if needle in agent.name.casefold() or needle in agent.description.casefold()
        ]
        return LibraryAgentResponse(
            agents=matches[first : first + page_size], pagination=Pagination.of(len(matches), page, page_size)
        )
    window = entries[first : first + page_size]
    models = _graphs_for(user_id, window)  # only the page's graphs
    return LibraryAgentResponse(
        agents=[_shape(e, models[e["id"]]) for e in window if e["id"] in models],
        pagination=Pagination.of(len(entries), page, page_size),
    )


def get_agent(user_id: str, library_agent_id: str) -> LibraryAgent:
    entry = _entry(user_id, library_agent_id)
    graph = _graphs_for(user_id, [entry]).get(entry["id"])
    if graph is None:
        raise NotFound(f"Library agent #{library_agent_id} not found: its graph no longer exists")
    return _shape(entry, graph, with_credentials=True)


def update_agent(user_id: str, library_agent_id: str, changes: LibraryAgentUpdate) -> LibraryAgent:
    fields = changes.model_dump(exclude_none=True)
    if not fields:
        raise Unprocessable("Nothing to update: send is_favorite, is_archived or auto_update_version.")
    try:
        library.update_entry(user_id, library_agent_id, fields, now_iso())
    except ConditionFailed:
        raise NotFound(f"Library agent #{library_agent_id} not found") from None
    return get_agent(user_id, library_agent_id)


def delete_agent(user_id: str, library_agent_id: str) -> None:
    """Soft delete (AutoGPT's default): hidden everywhere, revived if the store agent is added again."""
    try:
        library.soft_delete_entry(user_id, library_agent_id, now_iso())
    except ConditionFailed:
        raise NotFound(f"Library agent #{library_agent_id} not found") from None


def fork_agent(user_id: str, library_agent_id: str) -> LibraryAgent:
    """Copy the entry's graph into the user's own graphs (forked_from_* set) with its own entry."""
    entry = _entry(user_id, library_agent_id)
    version = None if entry["is_created_by_user"] else int(entry["graph_version"])
    source = graphs.get_graph(user_id, entry["graph_id"], version)  # another user's: approved, secrets stripped
    copy = Graph.model_validate(source.model_dump())
    copy.forked_from_id, copy.forked_from_version = source.id, source.version
    copy.name = f"{source.name[: MAX_GRAPH_NAME - len(' (copy)')]} (copy)"
    return add_created_graph(user_id, graphs.create_graph(user_id, CreateGraph(graph=copy)))
