"""Executions routes (served by GraphsFunction): read, list, stop, delete, share, public view,
external results. Thin: parse, call `stratus.executions.reads` or `.commands`, shape.

Every route that carries execution values answers with `json_response`, which keeps inf/nan.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response

from stratus.auth.api_keys import APIKeyPermission
from stratus.executions import commands, reads
from stratus.executions.reads import (
    ExecutionResults,
    ExecutionsPage,
    GraphExecutionMeta,
    GraphExecutionView,
    GraphExecutionWithNodes,
    SharedExecution,
    ShareInfo,
)
from stratus.users.api_keys import AuthenticatedKey
from stratus.web.app import json_response
from stratus.web.auth import api_key_with, current_user_id

router = APIRouter(tags=["executions"])
UserId = Annotated[str, Depends(current_user_id)]
Cursor = Annotated[str | None, Query(max_length=2048, description="next_cursor of the previous page")]
NEXT_CURSOR_HEADER = "X-Next-Cursor"


@router.get("/api/executions", response_model=list[GraphExecutionMeta])
def list_executions(
    user_id: UserId,
    cursor: Cursor = None,
    page_size: Annotated[int, Query(ge=1, le=reads.MAX_PAGE_SIZE)] = reads.MAX_PAGE_SIZE,
) -> Response:
    # AutoGPT answers a plain list (its 250 newest); the next page's cursor rides in a header.
    page = reads.list_executions(user_id, page_size=page_size, cursor=cursor)
    response = json_response(page.executions)
    if page.next_cursor:
        response.headers[NEXT_CURSOR_HEADER] = page.next_cursor
    return response


@router.get("/api/graphs/{graph_id}/executions", response_model=ExecutionsPage)
def list_graph_executions(
    user_id: UserId,
    graph_id: str,
    cursor: Cursor = None,
    page: Annotated[int, Query(ge=1, description="1-based; walks pages without a cursor")] = 1,
    page_size: Annotated[int, Query(ge=1, le=100)] = 25,
) -> Response:
    return json_response(reads.list_graph_executions(user_id, graph_id, page, page_size, cursor))


@router.get("/api/graphs/{graph_id}/executions/{graph_exec_id}", response_model=GraphExecutionWithNodes)
def get_graph_execution(user_id: UserId, graph_id: str, graph_exec_id: str) -> Response:
    return json_response(reads.get_execution(user_id, graph_exec_id, include_nodes=True, graph_id=graph_id))


@router.post("/api/graphs/{graph_id}/executions/{graph_exec_id}/stop", response_model=GraphExecutionView)
def stop_graph_execution(user_id: UserId, graph_id: str, graph_exec_id: str) -> Response:
    return json_response(commands.request_stop(user_id, graph_exec_id, graph_id=graph_id))


@router.delete("/api/executions/{graph_exec_id}", status_code=204)
def delete_graph_execution(user_id: UserId, graph_exec_id: str) -> Response:
    commands.delete_execution(user_id, graph_exec_id)
    return Response(status_code=204)


@router.post("/api/graphs/{graph_id}/executions/{graph_exec_id}/share", response_model=ShareInfo)
def share_graph_execution(user_id: UserId, graph_id: str, graph_exec_id: str, request: Request) -> Response:
    share = commands.share_execution(user_id, graph_exec_id, graph_id=graph_id)
    share.share_url = _public_url(request, share.share_token)
    return json_response(share)


def _public_url(request: Request, share_token: str) -> str:
    """The public view's absolute URL as the caller reached us (relative without a Host header)."""
    path = request.scope.get("root_path", "") + request.app.url_path_for(
        "get_shared_execution", share_token=share_token
    )
    host = request.headers.get("host")
    if not host:
        return path
    # API Gateway sends X-Forwarded-Proto; the local cloud's plain-HTTP gateway on loopback does not.
    loopback = host.split(":")[0] in ("127.0.0.1", "localhost")
    scheme = request.headers.get("x-forwarded-proto") or ("http" if loopback else "https")
    return f"{scheme}://{host}{path}"


@router.delete("/api/graphs/{graph_id}/executions/{graph_exec_id}/share", status_code=204)
def unshare_graph_execution(user_id: UserId, graph_id: str, graph_exec_id: str) -> Response:
    commands.unshare_execution(user_id, graph_exec_id, graph_id=graph_id)
    return Response(status_code=204)


@router.get("/api/public/shared/{share_token}", response_model=SharedExecution)
def get_shared_execution(share_token: Annotated[str, Path(min_length=1, max_length=128)]) -> Response:
    return json_response(reads.get_shared_execution(share_token))  # no auth: the token is the grant


@router.get("/external-api/v1/graphs/{graph_id}/executions/{graph_exec_id}/results", response_model=ExecutionResults)
def external_execution_results(
    key: Annotated[AuthenticatedKey, Depends(api_key_with(APIKeyPermission.READ_GRAPH))],
    graph_id: str,
    graph_exec_id: str,
) -> Response:
    return json_response(reads.execution_results(key.user_id, graph_exec_id, graph_id=graph_id))
