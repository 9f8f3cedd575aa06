"""GraphsFunction: /api/graphs*, /api/blocks*, /api/mag/{graphs,mcp}*, /external-api/v1/{blocks,graphs}*.

Thin handlers: parse, call `stratus.graphs` / `stratus.block_api`, shape the response.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Body, Depends, Header, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field

from stratus import block_api
from stratus.auth.api_keys import APIKeyPermission
from stratus.config import GraphsSettings, require
from stratus.executions import launcher
from stratus.graphs import service as graphs
from stratus.graphs.models import CreateGraph, Graph, GraphMeta, GraphModel, SetActiveVersion
from stratus.library.agents import add_created_graph
from stratus.observability import metrics
from stratus.users.api_keys import AuthenticatedKey
from stratus.web.app import create_app, json_response, lambda_handler
from stratus.web.auth import api_key_with, current_user_id
from stratus.web.executions_routes import router as executions_router
from stratus.web.mag_routes import router as mag_router

require(GraphsSettings)  # cold start: fails here, naming any missing or invalid variable

app = create_app("Stratus graphs")
UserId = Annotated[str, Depends(current_user_id)]


# --- graphs -----------------------------------------------------------------------------
@app.post("/api/graphs", response_model=GraphModel)
def create_graph(user_id: UserId, body: CreateGraph) -> Response:
    metrics.add_metric(name="GraphsCreated", unit="Count", value=1)
    return json_response(_created(user_id, graphs.create_graph(user_id, body)))


def _created(user_id: str, graph: GraphModel) -> GraphModel:
    """Library entries for a new graph and the sub-graphs its upload bundled (AutoGPT adds both)."""
    for each in (graph, *graph.sub_graphs):
        add_created_graph(user_id, each)
    return graph


@app.get("/api/graphs", response_model=list[GraphMeta])
def list_graphs(user_id: UserId) -> list[GraphMeta]:
    return graphs.list_graphs(user_id)


@app.get("/api/graphs/{graph_id}", response_model=GraphModel)
def get_graph(
    user_id: UserId, graph_id: str, version: Annotated[int | None, Query(ge=1)] = None, for_export: bool = False
) -> Response:
    return json_response(graphs.get_graph(user_id, graph_id, version, for_export))


@app.put("/api/graphs/{graph_id}", response_model=GraphModel)
def update_graph(user_id: UserId, graph_id: str, body: Graph) -> Response:
    return json_response(graphs.update_graph(user_id, graph_id, body))


@app.delete("/api/graphs/{graph_id}")
def delete_graph(user_id: UserId, graph_id: str) -> dict[str, int]:
    return {"version_counts": graphs.delete_graph(user_id, graph_id)}


@app.get("/api/graphs/{graph_id}/versions", response_model=list[GraphModel])
def list_versions(user_id: UserId, graph_id: str) -> Response:
    return json_response(graphs.list_versions(user_id, graph_id))


@app.get("/api/graphs/{graph_id}/versions/{version}", response_model=GraphModel)
def get_version(user_id: UserId, graph_id: str, version: int) -> Response:
    return json_response(graphs.get_graph(user_id, graph_id, version))


@app.put("/api/graphs/{graph_id}/versions/active", response_model=GraphModel)
def set_active_version(user_id: UserId, graph_id: str, body: SetActiveVersion) -> Response:
    return json_response(graphs.set_active_version(user_id, graph_id, body.active_graph_version))


# --- executions -------------------------------------------------------------------------
class ExecuteGraphRequest(BaseModel):
    inputs: dict[str, Any] = Field(default_factory=dict)
    credentials_inputs: dict[str, Any] = Field(default_factory=dict)


@app.post("/api/graphs/{graph_id}/execute/{graph_version}")
def execute_graph(
    user_id: UserId,
    graph_id: str,
    graph_version: int,
    body: Annotated[ExecuteGraphRequest, Body()] = ExecuteGraphRequest(),
    preset_id: str | None = None,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> Response:
    execution = launcher.start_execution(
        user_id,
        graph_id,
        graph_version,
        body.inputs,
        preset_id,
        idempotency_key,
        credentials_inputs=body.credentials_inputs,
    )
    metrics.add_metric(name="GraphExecutionsStarted", unit="Count", value=1)
    return json_response({**execution.model_dump(mode="json"), "graph_exec_id": execution.id})


class ExternalExecuteRequest(BaseModel):
    node_input: dict[str, Any] = Field(default_factory=dict)


@app.post("/external-api/v1/graphs/{graph_id}/execute/{graph_version}")
def external_execute_graph(
    key: Annotated[AuthenticatedKey, Depends(api_key_with(APIKeyPermission.EXECUTE_GRAPH))],
    graph_id: str,
    graph_version: int,
    body: ExternalExecuteRequest,
) -> dict[str, str]:
    execution = launcher.start_execution(key.user_id, graph_id, graph_version, body.node_input)
    return {"id": execution.id}


# --- blocks -----------------------------------------------------------------------------
def _definitions() -> Response:
    return Response(block_api.definitions_json(), media_type="application/json")


@app.get("/api/blocks")
def list_blocks(user_id: UserId) -> Response:
    return _definitions()


@app.post("/api/blocks/{block_id}/execute")
async def execute_block(
    user_id: UserId,
    block_id: str,
    data: Annotated[dict[str, Any], Body()],
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> Response:
    return json_response(await block_api.execute_block(user_id, block_id, data, idempotency_key))


# --- external API -----------------------------------------------------------------------
@app.get("/external-api/v1/blocks")
def external_list_blocks(
    key: Annotated[AuthenticatedKey, Depends(api_key_with(APIKeyPermission.READ_BLOCK))],
) -> Response:
    return _definitions()


@app.post("/external-api/v1/blocks/{block_id}/execute")
async def external_execute_block(
    key: Annotated[AuthenticatedKey, Depends(api_key_with(APIKeyPermission.EXECUTE_BLOCK))],
    block_id: str,
    data: Annotated[dict[str, Any], Body()],
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> Response:
    return json_response(await block_api.execute_block(key.user_id, block_id, data, idempotency_key))


@app.post("/external-api/v1/graphs", response_model=GraphModel)
def external_create_graph(
    key: Annotated[AuthenticatedKey, Depends(api_key_with(APIKeyPermission.WRITE_GRAPH))], body: CreateGraph
) -> Response:
    return json_response(_created(key.user_id, graphs.create_graph(key.user_id, body)))


app.include_router(executions_router)
app.include_router(mag_router)
handler = lambda_handler(app)
