"""Basic blocks: StoreValue, PrintToConsole, Note and UniversalTypeConverter."""

from __future__ import annotations

import enum
import logging
from typing import Any

from pydantic import Field

from stratus.blocks.sdk import Block, BlockCategory, BlockOutput, BlockSchema, BlockSchemaOutput, BlockType
from stratus.blocks.typeconv import convert

logger = logging.getLogger(__name__)


class StoreValueBlock(Block):
    id = "1ff065e9-88e8-4358-9d82-8dc91f622ba9"
    description = (
        "A basic block that stores and forwards a value throughout workflows, allowing it "
        "to be reused without changes across multiple blocks."
    )
    categories = {BlockCategory.BASIC}
    static_output = True

    class Input(BlockSchema):
        input: Any = Field(
            description="Trigger the block to produce the output. The value is only used when `data` is None."
        )
        data: Any = Field(
            default=None,
            description="The constant data to be retained in the block. This value is passed as `output`.",
        )

    class Output(BlockSchemaOutput):
        output: Any = Field(description="The stored data retained in the block.")

    input_schema, output_schema = Input, Output
    test_input = [
        {"input": "Hello, World!"},
        {"input": "Hello, World!", "data": "Existing Data"},
    ]
    test_output = [("output", "Hello, World!"), ("output", "Existing Data")]

    async def run(self, input_data: Any, **kwargs: Any) -> BlockOutput:
        # AutoGPT uses truthiness here: empty/zero `data` falls back to `input` too.
        yield "output", input_data.data or input_data.input


class PrintToConsoleBlock(Block):
    id = "f3b1c1b2-4c4f-4f0d-8d2f-4c4f0d8d2f4c"
    description = (
        "A debugging block that outputs text to the console for monitoring and troubleshooting workflow execution."
    )
    categories = {BlockCategory.BASIC}

    class Input(BlockSchema):
        text: Any = Field(description="The data to print to the console.")

    class Output(BlockSchemaOutput):
        output: Any = Field(description="The data printed to the console.")
        status: str = Field(description="The status of the print operation.")

    input_schema, output_schema = Input, Output
    test_input = {"text": "Hello, World!"}
    test_output = [("output", "Hello, World!"), ("status", "printed")]

    async def run(self, input_data: Any, **kwargs: Any) -> BlockOutput:
        # "The console" of a Lambda is its log stream.
        logger.info(">>>>> Print: %s", input_data.text)
        yield "output", input_data.text
        yield "status", "printed"


class NoteBlock(Block):
    id = "cc10ff7b-7753-4ff2-9af6-9399b1a7eddc"
    description = (
        "A visual annotation block that displays a sticky note in the workflow editor "
        "for documentation and organization purposes."
    )
    categories = {BlockCategory.BASIC}
    block_type = BlockType.NOTE

    class Input(BlockSchema):
        text: str = Field(description="The text to display in the sticky note.")

    # AutoGPT's current NoteBlock output schema carries the standard `error` pin.
    class Output(BlockSchemaOutput):
        output: str = Field(description="The text to display in the sticky note.")

    input_schema, output_schema = Input, Output
    test_input = {"text": "Hello, World!"}
    test_output = [("output", "Hello, World!")]

    async def run(self, input_data: Any, **kwargs: Any) -> BlockOutput:
        yield "output", input_data.text


class TypeOptions(enum.Enum):
    STRING = "string"
    NUMBER = "number"
    BOOLEAN = "boolean"
    LIST = "list"
    DICTIONARY = "dictionary"


_TARGETS: dict[TypeOptions, type] = {
    TypeOptions.STRING: str,
    TypeOptions.NUMBER: float,
    TypeOptions.BOOLEAN: bool,
    TypeOptions.LIST: list,
    TypeOptions.DICTIONARY: dict,
}


def universal_convert(value: Any, option: TypeOptions) -> Any:
    """AutoGPT's block: typeconv's `convert` to the chosen type (None → "null", 0.0, False, [None] …)."""
    return convert(value, _TARGETS[option])


class UniversalTypeConverterBlock(Block):
    id = "95d1b990-ce13-4d88-9737-ba5c2070c97b"
    description = "This block is used to convert a value to a universal type."
    categories = {BlockCategory.BASIC}

    class Input(BlockSchema):
        value: Any = Field(description="The value to convert to a universal type.")
        type: TypeOptions = Field(description="The type to convert the value to.")

    class Output(BlockSchemaOutput):
        value: Any = Field(description="The converted value.")

    input_schema, output_schema = Input, Output
    test_input = [
        {"value": 42, "type": "string"},
        {"value": "3.5", "type": "number"},
        {"value": "true", "type": "boolean"},
        {"value": "[1, 2]", "type": "list"},
        {"value": '{"a": 1}', "type": "dictionary"},
    ]
    test_output = [
        ("value", "42"),
        ("value", 3.5),
        ("value", True),
        ("value", [1, 2]),
        ("value", {"a": 1}),
    ]

    async def run(self, input_data: Any, **kwargs: Any) -> BlockOutput:
        try:
            converted = universal_convert(input_data.value, input_data.type)
        except Exception as exc:
            yield "error", f"Failed to convert value: {exc}"
            return
        yield "value", converted
