"""Routes of the GraphsFunction for MAG graphs (by name) and the user's MCP servers.
Thin: parse, call `stratus.mag.service`, shape.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from stratus.errors import BadRequest
from stratus.mag import packages
from stratus.mag import service as mag
from stratus.mag.models import GraphConfig
from stratus.web.app import json_response
from stratus.web.auth import current_user_id

router = APIRouter(tags=["mag"])
UserId = Annotated[str, Depends(current_user_id)]


def _created(body: dict[str, Any]) -> Response:
    response = json_response(body)
    response.status_code = 201
    return response


def _saved(model: Any) -> dict[str, Any]:
    return {"graph_id": model.id, "version": model.version, "name": model.name}


class McpServers(BaseModel):
    """MAG's mcp.json: {"mcpServers": {name: config}}."""

    mcpServers: dict[str, dict[str, Any]] = Field(default_factory=dict)


class RunRequest(BaseModel):
    input_text: str = Field(max_length=100_000)


# --- graphs ------------------------------------------------------------------------------
@router.post("/api/mag/graphs", status_code=201)
def create_mag_graph(user_id: UserId, body: GraphConfig) -> Response:
    return _created(_saved(mag.create_graph(user_id, body)))


async def _upload(request: Request) -> bytes:
    """The uploaded file: a multipart form's first file, or the raw body (zip or JSON)."""
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith("multipart/form-data"):
        return await request.body()
    if int(request.headers.get("content-length") or 0) > packages.MAX_UPLOAD_BYTES:
        raise packages.PackageTooLarge(f"The upload is larger than {packages.MAX_UPLOAD_BYTES // (1024 * 1024)} MB.")
    form = await request.form(max_files=1, max_fields=10)
    upload = next((value for value in form.values() if hasattr(value, "read")), None)
    if upload is None:
        raise BadRequest("The form has no file: send the package as the field 'file'.")
    return await upload.read(packages.MAX_UPLOAD_BYTES + 1)


@router.post("/api/mag/graphs/import", status_code=201)
async def import_mag_graph(user_id: UserId, request: Request) -> Response:
    """A MAG graph as JSON, or its zip package (raw application/zip body or a multipart file)."""
    return _created(mag.import_package(user_id, await _upload(request)))


@router.get("/api/mag/graphs")
def list_mag_graphs(user_id: UserId) -> Response:
    return json_response(mag.list_graphs(user_id))


@router.get("/api/mag/graphs/{name}")
def get_mag_graph(user_id: UserId, name: str) -> Response:
    model, config = mag.get_config(user_id, name)
    return json_response(
        {
            "graph_id": model.id,
            "version": model.version,
            "config": config.model_dump(mode="json"),
            "subgraphs": sorted(model.mag_subgraphs),
        }
    )


@router.put("/api/mag/graphs/{name}")
def update_mag_graph(user_id: UserId, name: str, body: GraphConfig) -> Response:
    return json_response(_saved(mag.update_graph(user_id, name, body)))


@router.delete("/api/mag/graphs/{name}")
def delete_mag_graph(user_id: UserId, name: str) -> dict[str, int]:
    return {"version_counts": mag.delete_graph(user_id, name)}


@router.get("/api/mag/graphs/{name}/export")
def export_mag_graph(user_id: UserId, name: str) -> Response:
    return Response(
        mag.export_package(user_id, name),
        media_type="application/zip",
        headers={"content-disposition": f'attachment; filename="{name}.zip"'},
    )


@router.post("/api/mag/graphs/{name}/run")
def run_mag_graph(user_id: UserId, name: str, body: RunRequest) -> Response:
    """Start the active version with inputs {"start": input_text}, as the execute route does."""
    from stratus.executions import launcher

    execution = launcher.start_execution(user_id, mag.graph_id_for(user_id, name), None, {"start": body.input_text})
    return json_response({**execution.model_dump(mode="json"), "graph_exec_id": execution.id})


# --- MCP servers -------------------------------------------------------------------------
def _servers_json(user_id: str) -> dict[str, Any]:
    return {
        "mcpServers": {
            name: server.model_dump(mode="json", by_alias=True)
            for name, server in sorted(mag.get_mcp_servers(user_id).items())
        }
    }


@router.get("/api/mag/mcp")
def get_mcp_servers(user_id: UserId) -> Response:
    return json_response(_servers_json(user_id))


@router.put("/api/mag/mcp")
def put_mcp_servers(user_id: UserId, body: McpServers) -> Response:
    """Replace the user's MCP servers with MAG's {"mcpServers": {...}}."""
    mag.put_mcp_servers(user_id, packages.parse_mcp_servers(body.mcpServers), merge=False)
    return json_response(_servers_json(user_id))
