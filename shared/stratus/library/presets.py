"""Presets: a saved graph version with inputs (and credentials), runnable by id with overrides.

AutoGPT's LibraryAgentPreset in shape; items in the agents table (`stratus.db.agents_table.presets`).
Deleting is soft, as in AutoGPT.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from stratus.clock import now_iso
from stratus.db.agents_table import presets
from stratus.db.dynamo import ConditionFailed
from stratus.errors import NotFound, Unprocessable
from stratus.executions import launcher
from stratus.executions.models import GraphExecution
from stratus.graphs import service as graphs
from stratus.graphs.validation import GraphTooLarge
from stratus.library.agents import Pagination
from stratus.payload_limits import check_structure

MAX_VALUES_BYTES = 350_000  # inputs + credentials of one preset: one DynamoDB item is at most 400 KB
MAX_PAGE_SIZE = 100


class _Model(BaseModel):
    model_config = ConfigDict(ser_json_inf_nan="constants")


class PresetCreate(_Model):
    graph_id: str = Field(min_length=1, max_length=100)
    graph_version: int = Field(ge=1)
    name: str = Field(min_length=1, max_length=500)
    description: str = Field(default="", max_length=20_000)
    inputs: dict[str, Any] = Field(default_factory=dict)
    credentials: dict[str, dict[str, Any]] = Field(default_factory=dict)
    is_active: bool = True


class PresetUpdate(_Model):
    name: str | None = Field(default=None, min_length=1, max_length=500)
    description: str | None = Field(default=None, max_length=20_000)
    inputs: dict[str, Any] | None = None  # replaces the saved inputs
    credentials: dict[str, dict[str, Any]] | None = None
    is_active: bool | None = None


class LibraryAgentPreset(_Model):
    id: str
    user_id: str
    graph_id: str
    graph_version: int
    name: str
    description: str
    inputs: dict[str, Any]
    credentials: dict[str, Any]
    is_active: bool
    created_at: str
    updated_at: str
    webhook_id: str | None = None
    webhook: dict[str, Any] | None = None


class LibraryAgentPresetResponse(_Model):
    presets: list[LibraryAgentPreset]
    pagination: Pagination


def _check_size(inputs: dict[str, Any], credentials: dict[str, Any]) -> None:
    check_structure(inputs, "inputs")
    check_structure(credentials, "credentials")
    size = len(json.dumps([inputs, credentials], allow_nan=True, default=str).encode())
    if size > MAX_VALUES_BYTES:
        raise GraphTooLarge(
            f"Preset inputs are {size // 1024} KB; a preset must fit in one DynamoDB item "
            f"(at most {MAX_VALUES_BYTES // 1000} KB of inputs and credentials)."
        )


def _from_item(item: dict[str, Any]) -> LibraryAgentPreset:
    return LibraryAgentPreset.model_validate(item)


def _item(user_id: str, preset_id: str) -> dict[str, Any]:
    item = presets.get_preset(user_id, preset_id)
    if not item or item.get("is_deleted"):
        raise NotFound(f"Preset #{preset_id} not found")
    return item


def create_preset(user_id: str, request: PresetCreate) -> LibraryAgentPreset:
    """Only for a graph version the user can read: their own, or approved in the store (else 404)."""
    graphs.get_graph(user_id, request.graph_id, request.graph_version)
    _check_size(request.inputs, request.credentials)
    preset_id, now = str(uuid.uuid4()), now_iso()
    item = {
        "id": preset_id,
        "user_id": user_id,
        **request.model_dump(),
        "is_deleted": False,
        "created_at": now,
        "updated_at": now,
    }
    presets.add_preset(item)
    return _from_item(item)


def get_preset(user_id: str, preset_id: str) -> LibraryAgentPreset:
    return _from_item(_item(user_id, preset_id))


def list_presets(
    user_id: str, page: int = 1, page_size: int = 10, graph_id: str | None = None
) -> LibraryAgentPresetResponse:
    """Newest first. A user's presets are few: one Query of their partition, paged in memory
    (the total is part of AutoGPT's pagination anyway)."""
    found = [
        i
        for i in presets.presets_of(user_id)
        if not i.get("is_deleted") and (graph_id is None or i["graph_id"] == graph_id)
    ]
    found.sort(key=lambda i: (i["created_at"], i["id"]), reverse=True)
    first = (page - 1) * page_size
    return LibraryAgentPresetResponse(
        presets=[_from_item(i) for i in found[first : first + page_size]],
        pagination=Pagination.of(len(found), page, page_size),
    )


def update_preset(user_id: str, preset_id: str, changes: PresetUpdate) -> LibraryAgentPreset:
    fields = changes.model_dump(exclude_none=True)
    if not fields:
        raise Unprocessable("Nothing to update: send name, description, inputs, credentials or is_active.")
    if "inputs" in fields or "credentials" in fields:
        current = _item(user_id, preset_id)
        _check_size(fields.get("inputs", current["inputs"]), fields.get("credentials", current["credentials"]))
    try:
        item = presets.update_preset(user_id, preset_id, fields, now_iso())
    except ConditionFailed:
        raise NotFound(f"Preset #{preset_id} not found") from None
    return _from_item(item)


def delete_preset(user_id: str, preset_id: str) -> None:
    try:
        presets.soft_delete_preset(user_id, preset_id, now_iso())
    except ConditionFailed:
        raise NotFound(f"Preset #{preset_id} not found") from None


def execute_preset(
    user_id: str,
    preset_id: str,
    inputs: dict[str, Any] | None = None,
    idempotency_key: str | None = None,
    credentials: dict[str, Any] | None = None,
) -> GraphExecution:
    """Run the preset's graph version with its inputs and credentials, overridden by `inputs`
    and `credentials` (AutoGPT's merge)."""
    preset = get_preset(user_id, preset_id)
    merged = {**preset.inputs, **(inputs or {})}
    # The launcher reads the graph again for this user: a store agent unapproved since is a 404.
    return launcher.start_execution(
        user_id,
        preset.graph_id,
        preset.graph_version,
        merged,
        preset_id=preset_id,
        idempotency_key=idempotency_key,
        credentials_inputs={**preset.credentials, **(credentials or {})},
    )
