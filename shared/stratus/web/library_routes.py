"""Routes of the StoreFunction for the library and presets (an APIRouter the function's app includes).
Thin: parse, call `stratus.library.agents` / `stratus.library.presets`, shape.

Answers go through `json_response`, which keeps inf/nan (graph input defaults, preset inputs).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Header, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field

from stratus.library import agents, presets
from stratus.library.agents import LibraryAgent, LibraryAgentResponse, LibraryAgentSort, LibraryAgentUpdate
from stratus.library.presets import LibraryAgentPreset, LibraryAgentPresetResponse, PresetCreate, PresetUpdate
from stratus.web.app import json_response
from stratus.web.auth import current_user_id

router = APIRouter(tags=["library"])
UserId = Annotated[str, Depends(current_user_id)]
Page = Annotated[int, Query(ge=1, description="1-based page number")]


class AddStoreAgent(BaseModel):
    store_listing_version_id: str = Field(min_length=1, max_length=100)


# --- library agents ------------------------------------------------------------------------
@router.get("/api/library/agents", response_model=LibraryAgentResponse)
def list_library_agents(
    user_id: UserId,
    search_term: Annotated[str | None, Query(max_length=100, description="in name or description")] = None,
    sort_by: LibraryAgentSort = LibraryAgentSort.UPDATED_AT,
    page: Page = 1,
    page_size: Annotated[int, Query(ge=1, le=agents.MAX_PAGE_SIZE)] = 15,
    favorites_first: bool = False,
    include_archived: bool = False,
) -> Response:
    return json_response(
        agents.list_agents(
            user_id,
            search_term,
            sort_by,
            page,
            page_size,
            favorites_first=favorites_first,
            include_archived=include_archived,
        )
    )


@router.get("/api/library/agents/favorites", response_model=LibraryAgentResponse)
def list_favorite_library_agents(
    user_id: UserId, page: Page = 1, page_size: Annotated[int, Query(ge=1, le=agents.MAX_PAGE_SIZE)] = 15
) -> Response:
    return json_response(agents.list_agents(user_id, page=page, page_size=page_size, favorites_only=True))


@router.post("/api/library/agents", response_model=LibraryAgent, status_code=201)
def add_store_agent(user_id: UserId, body: AddStoreAgent) -> Response:
    agent = agents.add_store_agent(user_id, body.store_listing_version_id)
    response = json_response(agent)
    response.status_code = 201
    return response


@router.get("/api/library/agents/{library_agent_id}", response_model=LibraryAgent)
def get_library_agent(user_id: UserId, library_agent_id: str) -> Response:
    return json_response(agents.get_agent(user_id, library_agent_id))


@router.patch("/api/library/agents/{library_agent_id}", response_model=LibraryAgent)
def update_library_agent(user_id: UserId, library_agent_id: str, body: LibraryAgentUpdate) -> Response:
    return json_response(agents.update_agent(user_id, library_agent_id, body))


@router.delete("/api/library/agents/{library_agent_id}", status_code=204)
def delete_library_agent(user_id: UserId, library_agent_id: str) -> Response:
    agents.delete_agent(user_id, library_agent_id)
    return Response(status_code=204)


@router.post("/api/library/agents/{library_agent_id}/fork", response_model=LibraryAgent)
def fork_library_agent(user_id: UserId, library_agent_id: str) -> Response:
    return json_response(agents.fork_agent(user_id, library_agent_id))


# --- presets -----------------------------------------------------------------------------------
@router.get("/api/library/presets", response_model=LibraryAgentPresetResponse, tags=["presets"])
def list_presets(
    user_id: UserId,
    page: Page = 1,
    page_size: Annotated[int, Query(ge=1, le=presets.MAX_PAGE_SIZE)] = 10,
    graph_id: Annotated[str | None, Query(max_length=100)] = None,
) -> Response:
    return json_response(presets.list_presets(user_id, page, page_size, graph_id))


@router.post("/api/library/presets", response_model=LibraryAgentPreset, tags=["presets"])
def create_preset(user_id: UserId, body: PresetCreate) -> Response:
    return json_response(presets.create_preset(user_id, body))


@router.get("/api/library/presets/{preset_id}", response_model=LibraryAgentPreset, tags=["presets"])
def get_preset(user_id: UserId, preset_id: str) -> Response:
    return json_response(presets.get_preset(user_id, preset_id))


@router.patch("/api/library/presets/{preset_id}", response_model=LibraryAgentPreset, tags=["presets"])
def update_preset(user_id: UserId, preset_id: str, body: PresetUpdate) -> Response:
    return json_response(presets.update_preset(user_id, preset_id, body))


@router.delete("/api/library/presets/{preset_id}", status_code=204, tags=["presets"])
def delete_preset(user_id: UserId, preset_id: str) -> Response:
    presets.delete_preset(user_id, preset_id)
    return Response(status_code=204)


class ExecutePreset(BaseModel):
    inputs: dict[str, Any] = Field(default_factory=dict, description="override the preset's inputs")
    credential_inputs: dict[str, Any] = Field(default_factory=dict, description="override the preset's credentials")


@router.post("/api/library/presets/{preset_id}/execute", tags=["presets"])
def execute_preset(
    user_id: UserId,
    preset_id: str,
    body: Annotated[ExecutePreset, Body()] = ExecutePreset(),
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> Response:
    execution = presets.execute_preset(user_id, preset_id, body.inputs, idempotency_key, body.credential_inputs)
    return json_response({**execution.model_dump(mode="json"), "graph_exec_id": execution.id})
