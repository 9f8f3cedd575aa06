"""The `value` pin schema an interface block contributes to a graph's input/output schema, as
AutoGPT's BlockSchema.jsonschema() gives it: references inlined, one-item anyOf merged."""

from __future__ import annotations

from enum import Enum

from pydantic import BaseModel, Field

from stratus.blocks.core.io import AgentInputBlock, _inline_refs, value_field_schema


class _Color(str, Enum):
    RED = "red"
    BLUE = "blue"


class _File(BaseModel):
    id: str
    name: str | None = None


class _OptionalModelInput(AgentInputBlock.Input):
    value: _File | None = Field(default=None, title="Selected File", description="A file.")


class _EnumInput(AgentInputBlock.Input):
    value: _Color = Field(default=_Color.RED, description="A colour.")


def test_a_referenced_model_is_inlined_and_the_null_branch_kept():
    schema = value_field_schema(_OptionalModelInput)
    [model, null] = schema["anyOf"]
    assert null == {"type": "null"}
    assert model["type"] == "object" and set(model["properties"]) == {"id", "name"}
    assert model["required"] == ["id"] and "$ref" not in model
    assert not any(key.startswith("$") for key in schema)
    assert schema["title"] == "Selected File" and schema["description"] == "A file."


def test_an_enum_pin_is_inlined_with_its_siblings():
    schema = value_field_schema(_EnumInput)
    assert schema["enum"] == ["red", "blue"] and schema["type"] == "string"
    assert schema["default"] == "red" and schema["description"] == "A colour."


def test_a_one_item_any_of_is_merged_into_its_parent():
    defs = {"X": {"type": "string", "format": "date"}}
    merged = _inline_refs({"anyOf": [{"$ref": "#/$defs/X"}], "title": "T", "$comment": "dropped"}, defs)
    assert merged == {"title": "T", "type": "string", "format": "date"}


def test_the_schema_is_a_copy_the_caller_may_change():
    first = value_field_schema(_OptionalModelInput)
    first["anyOf"].clear()
    assert len(value_field_schema(_OptionalModelInput)["anyOf"]) == 2
