"""Schedules: a graph run on a cron, backed by an EventBridge Scheduler schedule of the same id.

- schedule: `USER#<user_id>#SCHEDULES` / `SCHEDULE#<schedule_id>`;
  GSI1 `USER#<user_id>#GRAPH#<graph_id>#SCHEDULES` / `<created_at>#<schedule_id>`

The owner is part of the partition key: a user's schedules are one (consistent) Query, and
another user's schedule id is simply not found (404). The schedule's graph is listed through
GSI1, owner included, so a graph's schedules never show another user's. The scheduler's input
carries both ids, so the scheduled run reads its item with one GetItem.
"""

from __future__ import annotations

from typing import Any

from stratus.db.agents_table.table import GSI1, agents_table
from stratus.db.dynamo import ConditionFailed, key_of

_SCHEDULE_PREFIX = "SCHEDULE#"


def _schedules_pk(user_id: str) -> str:
    return f"USER#{user_id}#SCHEDULES"


def schedule_key(user_id: str, schedule_id: str) -> dict[str, str]:
    return key_of(_schedules_pk(user_id), f"{_SCHEDULE_PREFIX}{schedule_id}")


def _graph_schedules_pk(user_id: str, graph_id: str) -> str:
    return f"USER#{user_id}#GRAPH#{graph_id}#SCHEDULES"


def add_schedule(schedule: dict[str, Any]) -> None:
    """Put a new schedule (`user_id`, `id`, `graph_id`, `created_at`, ...) and list it under its graph."""
    user_id, schedule_id = schedule["user_id"], schedule["id"]
    item = {
        **schedule_key(user_id, schedule_id),
        "GSI1PK": _graph_schedules_pk(user_id, schedule["graph_id"]),
        "GSI1SK": f"{schedule['created_at']}#{schedule_id}",
        **schedule,
    }
    agents_table().put(item, condition="attribute_not_exists(PK)")


def get_schedule(user_id: str, schedule_id: str) -> dict[str, Any] | None:
    return agents_table().get(schedule_key(user_id, schedule_id), consistent=True)


def remove_schedule(user_id: str, schedule_id: str) -> None:
    agents_table().delete(schedule_key(user_id, schedule_id))


def schedules_of(user_id: str) -> list[dict[str, Any]]:
    """The user's schedules: one consistent Query (all pages)."""
    return agents_table().query_all("PK = :pk", {":pk": _schedules_pk(user_id)}, consistent=True)


def schedules_of_graph(user_id: str, graph_id: str) -> list[dict[str, Any]]:
    """The user's schedules of one graph, through GSI1 (all pages)."""
    return agents_table().query_all("GSI1PK = :pk", {":pk": _graph_schedules_pk(user_id, graph_id)}, index=GSI1)


def record_run(user_id: str, schedule_id: str, scheduled_time: str, fields: dict[str, Any], now: str) -> None:
    """Record a run once per scheduled time: `fields` SET (None: REMOVE), `run_count` ADD 1. A
    retried invocation, a later run already recorded or a deleted schedule change nothing."""
    values: dict[str, Any] = {":t": scheduled_time, ":now": now, ":one": 1}
    sets = ["last_scheduled_time = :t", "last_run_at = :now"]
    removes = []
    for position, (name, value) in enumerate(fields.items()):
        if value is None:
            removes.append(name)
        else:
            sets.append(f"{name} = :v{position}")
            values[f":v{position}"] = value
    update = f"SET {', '.join(sets)} ADD run_count :one" + (f" REMOVE {', '.join(removes)}" if removes else "")
    try:
        agents_table().update(
            schedule_key(user_id, schedule_id),
            update,
            values=values,
            condition="attribute_exists(PK) AND (attribute_not_exists(last_scheduled_time) "
            "OR last_scheduled_time < :t)",
        )
    except ConditionFailed:
        pass
