"""Routes of the StoreFunction for the schedules (an APIRouter the function's app includes).
Thin: parse, call `stratus.library.schedules`, shape. Values may hold inf/nan, so every
answer goes through `json_response`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends
from fastapi.responses import Response

from stratus.library import schedules
from stratus.library.schedules import GraphExecutionJobInfo, ScheduleCreationRequest
from stratus.web.app import json_response
from stratus.web.auth import current_user_id

router = APIRouter(tags=["schedules"])
UserId = Annotated[str, Depends(current_user_id)]


@router.post(
    "/api/graphs/{graph_id}/schedules", response_model=GraphExecutionJobInfo, summary="Create execution schedule"
)
def create_graph_execution_schedule(
    user_id: UserId, graph_id: str, request: Annotated[ScheduleCreationRequest, Body()]
) -> Response:
    return json_response(schedules.create_schedule(user_id, graph_id, request))


@router.get(
    "/api/graphs/{graph_id}/schedules",
    response_model=list[GraphExecutionJobInfo],
    summary="List execution schedules for a graph",
)
def list_graph_execution_schedules(user_id: UserId, graph_id: str) -> Response:
    return json_response(schedules.list_schedules(user_id, graph_id))


@router.get("/api/schedules", response_model=list[GraphExecutionJobInfo], summary="List execution schedules for a user")
def list_all_graphs_execution_schedules(user_id: UserId) -> Response:
    return json_response(schedules.list_schedules(user_id))


@router.delete("/api/schedules/{schedule_id}", summary="Delete execution schedule")
def delete_graph_execution_schedule(user_id: UserId, schedule_id: str) -> Response:
    return json_response(schedules.delete_schedule(user_id, schedule_id))
