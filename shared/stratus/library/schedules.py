"""Schedules: run a graph on a cron in a time zone, backed by EventBridge Scheduler.

Each schedule is an agents-table item (`stratus.db.agents_table.schedules`) plus an EventBridge
Scheduler schedule named by the schedule id whose target is the ScheduledRunFunction. The item
is written first and removed again when the scheduler refuses, so a schedule that fires
always finds its item. The target's input carries ids only, plus the scheduled time
(a Scheduler context attribute) that makes each run idempotent.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

from pydantic import BaseModel, ConfigDict, Field

from stratus.aws import client
from stratus.clock import now_iso, utc_now
from stratus.config import SchedulerSettings, get_settings
from stratus.db.agents_table import schedules
from stratus.errors import NotFound, StratusError, Unprocessable
from stratus.library import cron
from stratus.observability import logger
from stratus.payload_limits import check_structure

SCHEDULED_TIME = "<aws.scheduler.scheduled-time>"  # replaced by EventBridge Scheduler on each run
MAX_PAYLOAD_BYTES = 300_000  # inputs + credentials; a schedule is one DynamoDB item (400 KB)
MAX_NAME_LENGTH = 200


class CredentialsMeta(BaseModel):
    """AutoGPT's CredentialsMetaInput: which stored credentials a pin uses (never the secret)."""

    model_config = ConfigDict(extra="allow")
    id: str
    provider: str
    type: str
    title: str | None = None


class ScheduleCreationRequest(BaseModel):
    graph_version: int | None = Field(default=None, ge=1)
    name: str = Field(min_length=1, max_length=MAX_NAME_LENGTH)
    cron: str = Field(max_length=1000)
    inputs: dict[str, Any] = Field(default_factory=dict)
    credentials: dict[str, CredentialsMeta] = Field(default_factory=dict)
    timezone: str | None = Field(default=None, description="IANA name; default: the user's time zone, else UTC")


class GraphExecutionJobInfo(BaseModel):
    """AutoGPT's schedule shape; next_run_time is ISO 8601 in the schedule's time zone."""

    id: str
    name: str
    cron: str
    timezone: str
    user_id: str
    graph_id: str
    graph_version: int
    input_data: dict[str, Any]
    input_credentials: dict[str, Any]
    next_run_time: str


class SchedulePayloadTooLarge(StratusError):
    status_code = 413


# --- validation ----------------------------------------------------------------------
def _invalid(field: str, message: str) -> Unprocessable:
    """A 422 in FastAPI's shape, naming the body field."""
    return Unprocessable([{"loc": ["body", field], "msg": message, "type": "value_error"}])


@lru_cache(maxsize=1)
def _zone_names() -> frozenset[str]:
    # tzdata also ships files that name no place (the host's own zone, a placeholder).
    return frozenset(available_timezones()) - {"localtime", "Factory", "posixrules"}


def resolve_timezone(user_id: str, requested: str | None) -> str:
    """The requested IANA zone, else the user's saved zone, else UTC (AutoGPT's rule)."""
    if requested is None:
        # Lazy (cold start): the users service is only needed when the request names no zone.
        from stratus.users.models import DEFAULT_TIMEZONE
        from stratus.users.service import get_user

        try:
            saved = get_user(user_id).timezone
        except NotFound:
            saved = DEFAULT_TIMEZONE
        return "UTC" if saved in (None, "", DEFAULT_TIMEZONE) else saved
    if requested not in _zone_names():
        raise _invalid("timezone", f"Unknown time zone {requested!r}: use an IANA name such as 'Europe/Paris'.")
    return requested


def parse_cron(expression: str, zone: ZoneInfo) -> tuple[cron.Cron, str]:
    """The parsed expression and its EventBridge form; 422 when invalid or never due."""
    try:
        parsed = cron.parse(expression)
        aws_expression = parsed.to_aws()
    except cron.CronError as error:
        raise _invalid("cron", f"Invalid cron expression {expression!r}: {error}") from error
    if parsed.next_after(utc_now(), zone) is None:
        raise _invalid("cron", f"Invalid cron expression {expression!r}: it never matches a date.")
    return parsed, aws_expression


def next_run_time(expression: str, zone_name: str, after: datetime | None = None) -> str:
    """ISO time (with the zone's offset) of the next run, '' if there is none."""
    zone = ZoneInfo(zone_name)
    upcoming = cron.parse(expression).next_after(after or utc_now(), zone)
    return upcoming.isoformat() if upcoming else ""


# --- the scheduler side ----------------------------------------------------------------
def _create_scheduler_schedule(schedule_id: str, user_id: str, aws_expression: str, zone_name: str) -> None:
    scheduler = client("scheduler")
    payload = {"schedule_id": schedule_id, "user_id": user_id, "scheduled_time": SCHEDULED_TIME}
    try:
        scheduler.create_schedule(
            Name=schedule_id,
            GroupName=get_settings(SchedulerSettings).schedule_group,
            ScheduleExpression=aws_expression,
            ScheduleExpressionTimezone=zone_name,
            FlexibleTimeWindow={"Mode": "OFF"},
            State="ENABLED",
            Target={
                "Arn": get_settings(SchedulerSettings).scheduled_run_function_arn,
                "RoleArn": get_settings(SchedulerSettings).scheduler_role_arn,
                "Input": json.dumps(payload),
                # A run more than an hour late is skipped rather than started out of time.
                "RetryPolicy": {"MaximumEventAgeInSeconds": 3600, "MaximumRetryAttempts": 10},
            },
        )
    except scheduler.exceptions.ValidationException as error:
        raise _invalid("cron", f"EventBridge Scheduler refused {aws_expression}: {error}") from error


def _delete_scheduler_schedule(schedule_id: str) -> None:
    scheduler = client("scheduler")
    try:
        scheduler.delete_schedule(Name=schedule_id, GroupName=get_settings(SchedulerSettings).schedule_group)
    except scheduler.exceptions.ResourceNotFoundException:
        pass  # already gone: a delete retried after the item's removal failed


# --- items -----------------------------------------------------------------------------
def _info(item: dict[str, Any]) -> GraphExecutionJobInfo:
    return GraphExecutionJobInfo(
        id=item["id"],
        name=item["name"],
        cron=item["cron"],
        timezone=item["timezone"],
        user_id=item["user_id"],
        graph_id=item["graph_id"],
        graph_version=item["graph_version"],
        input_data=item.get("input_data") or {},
        input_credentials=item.get("input_credentials") or {},
        next_run_time=next_run_time(item["cron"], item["timezone"]),
    )


def create_schedule(user_id: str, graph_id: str, request: ScheduleCreationRequest) -> GraphExecutionJobInfo:
    from stratus.executions import flows  # lazy: the engine is only needed here
    from stratus.graphs import service as graphs
    from stratus.graphs.models import Graph
    from stratus.graphs.schemas import coerce_inputs

    model = graphs.get_graph(user_id, graph_id, request.graph_version)  # 404 unless readable
    zone_name = resolve_timezone(user_id, request.timezone)
    expression = " ".join(request.cron.split())
    _, aws_expression = parse_cron(expression, ZoneInfo(zone_name))
    check_structure(request.inputs, "inputs")
    credentials = {name: meta.model_dump(exclude_none=True) for name, meta in request.credentials.items()}
    check_structure(credentials, "credentials")
    size = len(json.dumps([request.inputs, credentials], allow_nan=True).encode())
    if size > MAX_PAYLOAD_BYTES:
        raise SchedulePayloadTooLarge(
            f"Schedule inputs are {size // 1024} KB; the limit is {MAX_PAYLOAD_BYTES // 1000} KB."
        )
    graph = Graph.model_validate(model.model_dump())
    inputs = coerce_inputs(graph, request.inputs)  # 422 naming an input of the wrong type
    flows.validate(model, graph, inputs)  # 4xx by the graph's kind: node_errors, a MAG graph's `start`

    schedule_id, created_at = str(uuid.uuid4()), now_iso()
    item = {
        "id": schedule_id,
        "name": request.name,
        "cron": expression,
        "timezone": zone_name,
        "schedule_expression": aws_expression,
        "user_id": user_id,
        "graph_id": graph_id,
        "graph_version": model.version,
        "input_data": inputs,
        "input_credentials": credentials,
        "created_at": created_at,
        "run_count": 0,
    }
    schedules.add_schedule(item)
    try:
        _create_scheduler_schedule(schedule_id, user_id, aws_expression, zone_name)
    except Exception:
        schedules.remove_schedule(user_id, schedule_id)  # nothing half-made is left behind
        raise
    logger.info(
        "Schedule created",
        extra={"schedule_id": schedule_id, "graph_id": graph_id, "expression": aws_expression, "timezone": zone_name},
    )
    return _info(item)


def list_schedules(user_id: str, graph_id: str | None = None) -> list[GraphExecutionJobInfo]:
    """The caller's schedules (of one graph when given), oldest first."""
    items = schedules.schedules_of(user_id) if graph_id is None else schedules.schedules_of_graph(user_id, graph_id)
    return [_info(item) for item in sorted(items, key=lambda i: (i["created_at"], i["id"]))]


def delete_schedule(user_id: str, schedule_id: str) -> dict[str, str]:
    if schedules.get_schedule(user_id, schedule_id) is None:
        raise NotFound(f"Schedule #{schedule_id} not found")
    # The scheduler's schedule goes first: if removing the item then fails, a retried DELETE
    # finishes the job; the other order could leave a schedule firing with no item.
    _delete_scheduler_schedule(schedule_id)
    schedules.remove_schedule(user_id, schedule_id)
    return {"id": schedule_id}


# --- the scheduled run -----------------------------------------------------------------
def _scheduled_time(event: dict[str, Any]) -> str:
    """The run's scheduled time as `YYYY-MM-DDTHH:MM:SSZ`; the current minute when the event
    has none (an invocation by hand), so retries within that minute still run once."""
    raw = event.get("scheduled_time")
    if isinstance(raw, str) and raw and not raw.startswith("<"):
        try:
            moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(f"scheduled_time is not an ISO time: {raw!r}") from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
    else:
        moment = utc_now().replace(second=0, microsecond=0)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _record_run(
    user_id: str, schedule_id: str, scheduled_time: str, graph_exec_id: str | None, error: Any = None
) -> None:
    """last run on the item, once per scheduled time (a retried invocation changes nothing)."""
    fields = {"last_execution_id": graph_exec_id, "last_error": None} if graph_exec_id else {"last_error": error}
    schedules.record_run(user_id, schedule_id, scheduled_time, fields, now_iso())


def run_scheduled(event: dict[str, Any]) -> dict[str, Any]:
    """ScheduledRunFunction: start the schedule's graph execution for this scheduled time."""
    from stratus.executions.launcher import start_execution  # lazy (cold start): only the scheduled run starts one

    schedule_id, user_id = event.get("schedule_id"), event.get("user_id")
    if not isinstance(schedule_id, str) or not isinstance(user_id, str) or not schedule_id or not user_id:
        raise ValueError("A scheduled run needs schedule_id and user_id in its input.")
    scheduled_time = _scheduled_time(event)
    summary: dict[str, Any] = {"schedule_id": schedule_id, "scheduled_time": scheduled_time}
    item = schedules.get_schedule(user_id, schedule_id)
    if item is None:  # deleted while this run was on its way
        return {**summary, "status": "skipped", "reason": "schedule not found"}
    try:
        execution = start_execution(
            user_id,
            item["graph_id"],
            item["graph_version"],
            item.get("input_data") or {},
            idempotency_key=f"schedule:{schedule_id}:{scheduled_time}",
            credentials_inputs=item.get("input_credentials"),
        )
    except StratusError as error:
        # The graph is gone, its inputs no longer fit or credits ran out: a retry cannot help,
        # so the error is recorded on the schedule and the invocation succeeds.
        logger.warning("Scheduled run not started", extra={"schedule_id": schedule_id, "detail": error.detail})
        _record_run(user_id, schedule_id, scheduled_time, None, error.detail)
        return {**summary, "status": "failed", "error": error.detail}
    _record_run(user_id, schedule_id, scheduled_time, execution.id)
    return {
        **summary,
        "status": "started",
        "graph_exec_id": execution.id,
        "execution_status": getattr(execution.status, "value", execution.status),
    }
