"""Graph interface blocks: AgentInput (and its typed variants) and AgentOutput.

Input and output blocks define a graph's inputs and outputs; their Output schemas derive
from plain BlockSchema, so they have no `error` pin (as in AutoGPT).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import date, time
from functools import lru_cache
from typing import Any

from pydantic import AliasChoices, Field

from stratus.blocks.sdk import Block, BlockCategory, BlockOutput, BlockSchema, BlockType

# Filters AutoGPT removes from its sandboxed template environment.
_UNSAFE_FILTERS = ("pprint", "tojson", "urlize", "xmlattr")


def _number_format_filter(value: Any, format_string: str | None = None) -> Any:
    """AutoGPT's `format` filter: `{{ x | format('%.2f') }}` formats x as a float."""
    if format_string:
        return format_string % float(value)
    return value


@lru_cache(maxsize=2)
def _template_env(autoescape: bool) -> Any:
    from jinja2 import BaseLoader
    from jinja2.sandbox import SandboxedEnvironment

    env = SandboxedEnvironment(loader=BaseLoader(), autoescape=autoescape)
    env.globals.clear()
    for name in _UNSAFE_FILTERS:
        env.filters.pop(name, None)
    env.filters["format"] = _number_format_filter
    return env


def render_template(template: str, values: dict[str, Any], autoescape: bool = False) -> str:
    """Render a Jinja2 template in AutoGPT's sandbox; raises on a bad template."""
    return _template_env(autoescape).from_string(template).render(values)


def _string_format(fmt: str) -> Callable[[dict[str, Any]], None]:
    """Mark the string branch of an Optional[str] schema with `format`, where AutoGPT puts it."""

    def extra(schema: dict[str, Any]) -> None:
        for branch in schema.get("anyOf", [schema]):
            if branch.get("type") == "string":
                branch["format"] = fmt

    return extra


def _inline_refs(node: Any, defs: dict[str, Any]) -> Any:
    """A JSON schema as AutoGPT's BlockSchema.jsonschema() gives it: local `$ref`s replaced by
    their definitions (siblings kept), a one-item `anyOf`/`allOf`/`oneOf` merged into its
    parent, and no `$` keys."""
    if isinstance(node, list):
        return [_inline_refs(item, defs) for item in node]
    if not isinstance(node, dict):
        return node
    node = dict(node)
    ref = node.pop("$ref", None)
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        node = {**copy.deepcopy(defs.get(ref.removeprefix("#/$defs/"), {})), **node}
    one_key = next(
        (k for k in ("allOf", "anyOf", "oneOf") if isinstance(node.get(k), list) and len(node[k]) == 1), None
    )
    if one_key:
        node.update(_inline_refs(node[one_key][0], defs))
    return {k: _inline_refs(v, defs) for k, v in node.items() if not k.startswith("$") and k != one_key}


@lru_cache(maxsize=64)
def _value_field_schema(schema: type[BlockSchema]) -> dict[str, Any]:
    model = schema.model_json_schema()
    return _inline_refs(model.get("properties", {}).get("value", {}), model.get("$defs", {}))


def value_field_schema(schema: type[BlockSchema]) -> dict[str, Any]:
    """The JSON schema of an interface block's `value` pin (AutoGPT's get_field_schema("value")),
    a copy the caller may change."""
    return copy.deepcopy(_value_field_schema(schema))


class AgentInputBlock(Block):
    id = "c0a8e994-ebf1-4a9c-a4d8-89d09c86741b"
    description = (
        "A block that accepts and processes user input values within a workflow, "
        "supporting various input types and validation."
    )
    categories = {BlockCategory.INPUT, BlockCategory.BASIC}
    block_type = BlockType.INPUT
    static_output = True

    class Input(BlockSchema):
        name: str = Field(description="The name of the input.")
        value: Any = Field(default=None, description="The value to be passed as input.")
        title: str | None = Field(default=None, description="The title of the input.")
        description: str | None = Field(default=None, description="The description of the input.")
        advanced: bool = Field(
            default=False,
            description="Whether to show the input in the advanced section, if the field is not required.",
        )
        secret: bool = Field(default=False, description="Whether the input should be treated as a secret.")

    class Output(BlockSchema):
        result: Any = Field(description="The value passed as input.")

    input_schema, output_schema = Input, Output
    test_input = [
        {"value": "Hello, World!", "name": "input_1", "description": "Example test input."},
        {"value": 42, "name": "input_2", "description": "Example numeric input."},
    ]
    test_output = [("result", "Hello, World!"), ("result", 42)]

    async def run(self, input_data: Any, **kwargs: Any) -> BlockOutput:
        # No value: the input was not provided, so nothing flows downstream.
        if input_data.value is not None:
            yield "result", input_data.value

    @classmethod
    def generate_schema(cls, input_default: dict[str, Any]) -> dict[str, Any]:
        """AutoGPT's Input.generate_schema: what this input looks like in the graph's input
        schema before the node's own title, description, flags and default are put on it (the
        schema of the block's `value` pin; subclasses add what the node's settings say)."""
        return value_field_schema(cls.input_schema)


class AgentShortTextInputBlock(AgentInputBlock):
    id = "7fcd3bcb-8e1b-4e69-903d-32d3d4a92158"
    description = "Block for short text input (single-line)."

    class Input(AgentInputBlock.Input):
        value: str | None = Field(
            default=None,
            title="Default Value",
            description="Short text input.",
            json_schema_extra=_string_format("short-text"),
        )

    class Output(AgentInputBlock.Output):
        result: str = Field(description="Short text result.")

    input_schema, output_schema = Input, Output
    test_input = [
        {"value": "Hello", "name": "short_text_1", "description": "Short text example 1"},
        {"value": "Quick test", "name": "short_text_2", "description": "Short text example 2"},
    ]
    test_output = [("result", "Hello"), ("result", "Quick test")]


class AgentLongTextInputBlock(AgentInputBlock):
    id = "90a56ffb-7024-4b2b-ab50-e26c5e5ab8ba"
    description = "Block for long text input (multi-line)."

    class Input(AgentInputBlock.Input):
        value: str | None = Field(
            default=None,
            title="Default Value",
            description="Long text input (potentially multi-line).",
            json_schema_extra=_string_format("long-text"),
        )

    class Output(AgentInputBlock.Output):
        result: str = Field(description="Long text result.")

    input_schema, output_schema = Input, Output
    test_input = [
        {"value": "Lorem ipsum dolor sit amet...", "name": "long_text_1", "description": "Long text example 1"},
        {"value": "Another multiline text input.", "name": "long_text_2", "description": "Long text example 2"},
    ]
    test_output = [("result", "Lorem ipsum dolor sit amet..."), ("result", "Another multiline text input.")]


class AgentNumberInputBlock(AgentInputBlock):
    id = "96dae2bb-97a2-41c2-bd2f-13a3b5a8ea98"
    description = "Block for number input."

    class Input(AgentInputBlock.Input):
        value: int | None = Field(default=None, title="Default Value", description="Number input.")

    class Output(AgentInputBlock.Output):
        result: int = Field(description="Number result.")

    input_schema, output_schema = Input, Output
    test_input = [
        {"value": 42, "name": "number_input_1", "description": "Number example 1"},
        {"value": 314, "name": "number_input_2", "description": "Number example 2"},
    ]
    test_output = [("result", 42), ("result", 314)]


class AgentDateInputBlock(AgentInputBlock):
    id = "7e198b09-4994-47db-8b4d-952d98241817"
    description = "Block for date input."

    class Input(AgentInputBlock.Input):
        value: date | None = Field(default=None, title="Default Value", description="Date input (YYYY-MM-DD).")

    class Output(AgentInputBlock.Output):
        result: date = Field(description="Date result.")

    input_schema, output_schema = Input, Output
    test_input = [
        {"value": "2025-03-19", "name": "date_input_1", "description": "Example date input 1"},
        {"value": "2023-12-31", "name": "date_input_2", "description": "Example date input 2"},
    ]
    test_output = [("result", date(2025, 3, 19)), ("result", date(2023, 12, 31))]


class AgentTimeInputBlock(AgentInputBlock):
    id = "2a1c757e-86cf-4c7e-aacf-060dc382e434"
    description = "Block for time input."

    class Input(AgentInputBlock.Input):
        value: time | None = Field(default=None, title="Default Value", description="Time input (HH:MM:SS).")

    class Output(AgentInputBlock.Output):
        result: time = Field(description="Time result.")

    input_schema, output_schema = Input, Output
    test_input = [
        {"value": "09:30:00", "name": "time_input_1", "description": "Time example 1"},
        {"value": "23:59:59", "name": "time_input_2", "description": "Time example 2"},
    ]
    test_output = [("result", time(9, 30, 0)), ("result", time(23, 59, 59))]


class AgentFileInputBlock(AgentInputBlock):
    """A file for the graph: a data URI (what AutoGPT's file inputs hold inside graphs) or a
    reference, passed on as it is. Stratus keeps no media store, so a data URI stays a data URI
    and a URL or path is not fetched (`base_64` is accepted for import compatibility)."""

    id = "95ead23f-8283-4654-aef3-10c053b74a31"
    description = "Block for file upload input (string path for example)."

    class Input(AgentInputBlock.Input):
        value: str | None = Field(
            default=None,
            title="Default Value",
            description="Path or reference to an uploaded file.",
            json_schema_extra=_string_format("file"),
        )
        base_64: bool = Field(
            default=False,
            title="Produce Base64 Output",
            description="Whether to produce output in base64 format "
            "(not recommended; you can pass the file reference across blocks).",
            json_schema_extra={"advanced": True},
        )

    class Output(AgentInputBlock.Output):
        result: str = Field(description="File reference/path result.")

    input_schema, output_schema = Input, Output
    test_input = [
        {"value": "data:image/png;base64,MQ==", "name": "file_upload_1", "description": "Example file upload 1"}
    ]
    test_output = [("result", str)]

    async def run(self, input_data: Any, **kwargs: Any) -> BlockOutput:
        if input_data.value:  # AutoGPT yields nothing for an empty file input
            yield "result", input_data.value


class AgentDropdownInputBlock(AgentInputBlock):
    """A text input restricted to a fixed set of values: `options` (AutoGPT's older exports call
    it `placeholder_values`, still accepted) become the `enum` of the graph's input schema."""

    id = "655d6fdf-a334-421c-b733-520549c07cd1"
    description = "Block for dropdown text selection."

    class Input(AgentInputBlock.Input):
        value: str | None = Field(default=None, title="Default Value", description="Text selected from a dropdown.")
        options: list = Field(
            default_factory=list,
            title="Dropdown Options",
            description="If provided, renders the input as a dropdown selector restricted to these values. "
            "Leave empty for free-text input.",
            validation_alias=AliasChoices("options", "placeholder_values"),
            json_schema_extra={"advanced": False, "secret": False},
        )

    class Output(AgentInputBlock.Output):
        result: str = Field(description="Selected dropdown value.")

    input_schema, output_schema = Input, Output
    test_input = [
        {
            "value": "Option A",
            "name": "dropdown_1",
            "options": ["Option A", "Option B", "Option C"],
            "description": "Dropdown example 1",
        },
        {
            "value": "Option C",
            "name": "dropdown_2",
            "options": ["Option A", "Option B", "Option C"],
            "description": "Dropdown example 2",
        },
    ]
    test_output = [("result", "Option A"), ("result", "Option C")]

    @classmethod
    def generate_schema(cls, input_default: dict[str, Any]) -> dict[str, Any]:
        schema = super().generate_schema(input_default)
        options = input_default.get("options", input_default.get("placeholder_values"))
        if isinstance(options, list) and options:  # no options: free text
            schema["enum"] = list(options)
        return schema


class AgentToggleInputBlock(AgentInputBlock):
    id = "cbf36ab5-df4a-43b6-8a7f-f7ed8652116e"
    description = "Block for boolean toggle input."

    class Input(AgentInputBlock.Input):
        value: bool = Field(default=False, title="Default Value", description="Boolean toggle input.")

    class Output(AgentInputBlock.Output):
        result: bool = Field(description="Boolean toggle result.")

    input_schema, output_schema = Input, Output
    test_input = [
        {"value": True, "name": "toggle_1", "description": "Toggle example 1"},
        {"value": False, "name": "toggle_2", "description": "Toggle example 2"},
    ]
    test_output = [("result", True), ("result", False)]


_DEFAULT_TABLE_HEADERS = ["Column 1", "Column 2", "Column 3"]


class AgentTableInputBlock(AgentInputBlock):
    """Rows of a table, each a dict keyed by the column headers; no value yields `[]`."""

    id = "5603b273-f41e-4020-af7d-fbc9c6a8d928"
    description = "Block for table data input with customizable headers."

    class Input(AgentInputBlock.Input):
        value: list[dict[str, Any]] | None = Field(
            default=None, title="Default Value", description="The table data as a list of dictionaries."
        )
        column_headers: list[str] = Field(
            default_factory=lambda: list(_DEFAULT_TABLE_HEADERS),
            title="Column Headers",
            description="Column headers for the table.",
        )

    class Output(AgentInputBlock.Output):
        result: list[dict[str, Any]] = Field(
            description="The table data as a list of dictionaries with headers as keys."
        )

    input_schema, output_schema = Input, Output
    test_input = [
        {
            "name": "test_table",
            "column_headers": ["Name", "Age", "City"],
            "value": [
                {"Name": "John", "Age": "30", "City": "New York"},
                {"Name": "Jane", "Age": "25", "City": "London"},
            ],
            "description": "Example table input",
        }
    ]
    test_output = [
        (
            "result",
            [{"Name": "John", "Age": "30", "City": "New York"}, {"Name": "Jane", "Age": "25", "City": "London"}],
        )
    ]

    async def run(self, input_data: Any, **kwargs: Any) -> BlockOutput:
        yield "result", input_data.value if input_data.value is not None else []

    @classmethod
    def generate_schema(cls, input_default: dict[str, Any]) -> dict[str, Any]:
        schema = super().generate_schema(input_default)  # keeps the pin's anyOf, as AutoGPT does
        headers = input_default.get("column_headers") or _DEFAULT_TABLE_HEADERS
        schema["type"] = "array"
        schema["format"] = "table"
        schema["items"] = {"type": "object", "properties": {str(header): {"type": "string"} for header in headers}}
        return schema


class AgentOutputBlock(Block):
    id = "363ae599-353e-4804-937e-b2ee3cef3da4"
    description = (
        "A block that records and formats workflow results for display to users, "
        "with optional Jinja2 template formatting support."
    )
    categories = {BlockCategory.OUTPUT, BlockCategory.BASIC}
    block_type = BlockType.OUTPUT
    static_output = True

    class Input(BlockSchema):
        value: Any = Field(default=None, description="The value to be recorded as output.")
        name: str = Field(description="The name of the output.")
        title: str | None = Field(default=None, description="The title of the output.")
        description: str | None = Field(default=None, description="The description of the output.")
        format: str = Field(
            default="",
            description="The format string to be used to format the recorded_value. Use Jinja2 syntax.",
        )
        escape_html: bool = Field(
            default=False,
            description="Whether to escape special characters in the inserted values to be HTML-safe. "
            "Enable for HTML output, disable for plain text.",
        )
        advanced: bool = Field(default=False, description="Whether to treat the output as advanced.")
        secret: bool = Field(default=False, description="Whether the output should be treated as a secret.")

    class Output(BlockSchema):
        output: Any = Field(description="The value recorded as output.")
        name: Any = Field(description="The name of the value recorded as output.")

    input_schema, output_schema = Input, Output
    test_input = [
        {"value": "Hello, World!", "name": "output_1", "format": "{{ output_1 }}!!"},
        {"value": "42", "name": "output_2", "format": "{{ value }}"},
        {"value": {"a": 1}, "name": "output_3"},
    ]
    test_output = [
        ("output", "Hello, World!!!"),
        ("output", "42"),
        ("output", {"a": 1}),
        ("name", "output_3"),
    ]

    async def run(self, input_data: Any, **kwargs: Any) -> BlockOutput:
        if not input_data.format:
            yield "output", input_data.value
            yield "name", input_data.name
            return
        # AutoGPT exposes the value under the output's name; `value` is also offered.
        values = {"value": input_data.value, input_data.name: input_data.value}
        try:
            rendered = render_template(input_data.format, values, autoescape=input_data.escape_html)
        except Exception as exc:  # a bad template is reported in the output, as AutoGPT does
            yield "output", f"Error: {exc}, {input_data.value}"
            return
        yield "output", rendered

    @classmethod
    def generate_schema(cls, input_default: dict[str, Any]) -> dict[str, Any]:
        """AutoGPT's Input.generate_schema for an output: the schema of the `value` pin."""
        return value_field_schema(cls.input_schema)
