"""Keys of a user's schedules in the StoreTable.

| item | PK | SK | GSI1PK | GSI1SK |
|---|---|---|---|---|
| schedule | `USER#<user_id>#SCHEDULES` | `SCHEDULE#<schedule_id>` | `USER#<user_id>#GRAPH#<graph_id>#SCHEDULES` | `<created_at>#<schedule_id>` |

The owner is part of the partition key: a user's schedules are one (consistent) Query, and
another user's schedule id is simply not found (404). The schedule's graph is listed through
GSI1, owner included, so a graph's schedules never show another user's. The EventBridge
Scheduler schedule is named by the schedule id and its input carries both ids, so the
scheduled run reads its item with one GetItem.
"""

from __future__ import annotations

from stratus.db.store_table import GSI1

BY_GRAPH_INDEX = GSI1
SCHEDULE_PREFIX = "SCHEDULE#"


def schedules_pk(user_id: str) -> str:
    return f"USER#{user_id}#SCHEDULES"


def schedule_key(user_id: str, schedule_id: str) -> dict[str, str]:
    return {"PK": schedules_pk(user_id), "SK": f"{SCHEDULE_PREFIX}{schedule_id}"}


def graph_schedules_pk(user_id: str, graph_id: str) -> str:
    return f"USER#{user_id}#GRAPH#{graph_id}#SCHEDULES"


def graph_index_keys(user_id: str, graph_id: str, created_at: str, schedule_id: str) -> dict[str, str]:
    return {"GSI1PK": graph_schedules_pk(user_id, graph_id), "GSI1SK": f"{created_at}#{schedule_id}"}
