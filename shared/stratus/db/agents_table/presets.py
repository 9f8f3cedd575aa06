"""Presets: a saved graph version with inputs (and credentials).

| item | PK | SK |
|---|---|---|
| preset | `USER#<user_id>#PRESETS` | `PRESET#<preset_id>` |

The owner is part of the partition key: another user's preset id is simply not found (404),
and a user's presets are one Query.
"""

from __future__ import annotations

from typing import Any

from stratus.db.agents_table.table import agents_table
from stratus.db.dynamo import key_of

_PRESET_PREFIX = "PRESET#"
_LIVE = "attribute_exists(PK) AND is_deleted = :no"


def _presets_pk(user_id: str) -> str:
    return f"USER#{user_id}#PRESETS"


def _preset_key(user_id: str, preset_id: str) -> dict[str, str]:
    return key_of(_presets_pk(user_id), f"{_PRESET_PREFIX}{preset_id}")


def add_preset(preset: dict[str, Any]) -> None:
    """Put a new preset (`user_id`, `id`, ...)."""
    key = _preset_key(preset["user_id"], preset["id"])
    agents_table().put({**key, **preset}, condition="attribute_not_exists(PK)")


def get_preset(user_id: str, preset_id: str) -> dict[str, Any] | None:
    return agents_table().get(_preset_key(user_id, preset_id), consistent=True)


def presets_of(user_id: str) -> list[dict[str, Any]]:
    """The user's presets, deleted ones included: one Query of their partition (all pages)."""
    return agents_table().query_all(
        "PK = :pk AND begins_with(SK, :preset)",
        {":pk": _presets_pk(user_id), ":preset": _PRESET_PREFIX},
        consistent=True,
    )


def update_preset(user_id: str, preset_id: str, fields: dict[str, Any], now: str) -> dict[str, Any]:
    """Set `fields` on a live preset and return it; raises ConditionFailed when there is none."""
    # Attribute names go through placeholders: `name` is a DynamoDB reserved word.
    assignments = ", ".join(f"#{k} = :{k}" for k in fields)
    return agents_table().update(
        _preset_key(user_id, preset_id),
        f"SET {assignments}, updated_at = :now",
        names={f"#{k}": k for k in fields},
        values={**{f":{k}": v for k, v in fields.items()}, ":now": now, ":no": False},
        condition=_LIVE,
    )


def soft_delete_preset(user_id: str, preset_id: str, now: str) -> None:
    """Raises ConditionFailed when there is no live preset."""
    agents_table().update(
        _preset_key(user_id, preset_id),
        "SET is_deleted = :yes, updated_at = :now",
        values={":yes": True, ":no": False, ":now": now},
        condition=_LIVE,
    )
