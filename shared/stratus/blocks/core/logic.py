"""Logic blocks (AutoGPT's maths.py, branching.py, iteration.py): same ids, pins and yields."""

from __future__ import annotations

import json
import operator as ops
from collections.abc import Callable
from enum import Enum
from typing import Any

from pydantic import Field

from stratus.blocks.sdk import Block, BlockCategory, BlockOutput, BlockSchema, BlockSchemaOutput


# --- maths ----------------------------------------------------------------------------
class Operation(Enum):
    ADD = "Add"
    SUBTRACT = "Subtract"
    MULTIPLY = "Multiply"
    DIVIDE = "Divide"
    POWER = "Power"


_ARITHMETIC: dict[Operation, Callable[[float, float], Any]] = {
    Operation.ADD: ops.add,
    Operation.SUBTRACT: ops.sub,
    Operation.MULTIPLY: ops.mul,
    Operation.DIVIDE: ops.truediv,
    Operation.POWER: ops.pow,
}


class CalculatorBlock(Block):
    id = "b1ab9b19-67a6-406d-abf5-2dba76d00c79"
    description = "Performs a mathematical operation on two numbers."
    categories = {BlockCategory.LOGIC}

    class Input(BlockSchema):
        operation: Operation = Field(description="The operation to perform")
        a: float = Field(description="The first number (A)")
        b: float = Field(description="The second number (B)")
        round_result: bool = Field(default=False, description="Round the result to a whole number")

    class Output(BlockSchemaOutput):
        result: float = Field(description="The result of the calculation")

    input_schema, output_schema = Input, Output
    test_input = {"operation": "Add", "a": 10.0, "b": 5.0, "round_result": False}
    test_output = [("result", 15.0)]

    async def run(self, input_data: Input, **kwargs: Any) -> BlockOutput:
        # AutoGPT never fails this block: x/0 gives inf, any other arithmetic failure
        # (overflow, complex power, rounding inf or nan) gives nan.
        if input_data.operation is Operation.DIVIDE and input_data.b == 0:
            yield "result", float("inf")
            return
        try:
            result = _ARITHMETIC[input_data.operation](input_data.a, input_data.b)
            if isinstance(result, complex):
                raise ValueError("complex result")
            if input_data.round_result:
                result = round(result)
        except (ArithmeticError, ValueError, TypeError):
            result = float("nan")
        yield "result", result


class CountItemsBlock(Block):
    id = "3c9c2f42-b0c3-435f-ba35-05f7a25c772a"
    description = "Counts the items in a collection (list, dictionary, string or other iterable)."
    categories = {BlockCategory.LOGIC}

    class Input(BlockSchema):
        collection: Any = Field(description="The collection to count: a list, dictionary, string, …")

    class Output(BlockSchemaOutput):
        count: int = Field(description="Number of items; -1 when the input is not a collection")

    input_schema, output_schema = Input, Output
    test_input = {"collection": [1, 2, 3, 4, 5]}
    test_output = [("count", 5)]

    async def run(self, input_data: Input, **kwargs: Any) -> BlockOutput:
        collection = input_data.collection
        if isinstance(collection, (str, list, tuple, set, dict)):
            yield "count", len(collection)
            return
        try:
            yield "count", sum(1 for _ in collection)
        except TypeError:
            yield "count", -1  # AutoGPT's "not countable" value


# --- branching ------------------------------------------------------------------------
class ComparisonOperator(Enum):
    EQUAL = "=="
    NOT_EQUAL = "!="
    GREATER_THAN = ">"
    LESS_THAN = "<"
    GREATER_THAN_OR_EQUAL = ">="
    LESS_THAN_OR_EQUAL = "<="


_COMPARISONS: dict[ComparisonOperator, Callable[[Any, Any], bool]] = {
    ComparisonOperator.EQUAL: ops.eq,
    ComparisonOperator.NOT_EQUAL: ops.ne,
    ComparisonOperator.GREATER_THAN: ops.gt,
    ComparisonOperator.LESS_THAN: ops.lt,
    ComparisonOperator.GREATER_THAN_OR_EQUAL: ops.ge,
    ComparisonOperator.LESS_THAN_OR_EQUAL: ops.le,
}


def _numeric_or_stripped(value: Any) -> Any:
    """AutoGPT's ConditionBlock reading of a string: a float if it parses, else stripped text."""
    if not isinstance(value, str):
        return value
    try:
        return float(value.strip())
    except ValueError:
        return value.strip()


class ConditionBlock(Block):
    id = "715696a0-e1da-45c8-b209-c2fa9c3b0be6"
    description = "Handles conditional logic based on comparison operators"
    categories = {BlockCategory.LOGIC}

    class Input(BlockSchema):
        value1: Any = Field(description="The first value to compare")
        operator: ComparisonOperator = Field(description="The comparison operator")
        value2: Any = Field(description="The second value to compare")
        yes_value: Any = Field(default=None, description="Output when the condition is true (value1 if not given)")
        no_value: Any = Field(default=None, description="Output when the condition is false (value2 if not given)")

    class Output(BlockSchemaOutput):
        result: bool = Field(description="The result of the comparison")
        yes_output: Any = Field(description="yes_value, when the condition is true")
        no_output: Any = Field(description="no_value, when the condition is false")

    input_schema, output_schema = Input, Output
    test_input = {"value1": 10, "operator": ">", "value2": 5, "yes_value": "Greater", "no_value": "Not greater"}
    test_output = [("result", True), ("yes_output", "Greater")]

    async def run(self, input_data: Input, **kwargs: Any) -> BlockOutput:
        # Numeric strings compare as numbers ("10" > "9"), as AutoGPT does; the defaults
        # for yes/no outputs are the values after that reading (so "10" becomes 10.0).
        value1 = _numeric_or_stripped(input_data.value1)
        value2 = _numeric_or_stripped(input_data.value2)
        yes_value = input_data.yes_value if input_data.yes_value is not None else value1
        no_value = input_data.no_value if input_data.no_value is not None else value2
        try:
            result = bool(_COMPARISONS[input_data.operator](value1, value2))
        except TypeError as exc:
            raise ValueError(f"Comparison failed: {exc}") from exc
        yield "result", result
        if result:
            yield "yes_output", yes_value
        else:
            yield "no_output", no_value


def _coerce_like(value: Any, target: type) -> Any:
    """AutoGPT's `convert(value, type(input))` for the types JSON values have."""
    if isinstance(value, target):
        return value
    if target is bool:
        return value.lower() in ("true", "1") if isinstance(value, str) else bool(value)
    if target in (int, float):
        if isinstance(value, (list, dict, tuple, set)):
            return target(len(value))
        try:
            return target(float(value))
        except (TypeError, ValueError, OverflowError):
            return target(0)
    if target is str:
        return json.dumps(value)
    if target is list:
        if isinstance(value, (tuple, set)):
            return list(value)
        if isinstance(value, dict):
            return list(value.items())
        if isinstance(value, str) and value.strip().startswith("[") and value.strip().endswith("]"):
            try:
                return json.loads(value.strip())
            except json.JSONDecodeError:
                return [value.strip()]
        return [value.strip() if isinstance(value, str) else value]
    if target is dict:
        if isinstance(value, str):
            try:
                parsed = json.loads(value)
            except json.JSONDecodeError:
                return {"value": value}
            return parsed if isinstance(parsed, dict) else {"value": parsed}
        if isinstance(value, (list, tuple)):
            return dict(enumerate(value))
        return {"value": value}
    return value


class IfInputMatchesBlock(Block):
    id = "6dbbc4b3-ca6c-42b6-b508-da52d23e13f2"
    description = "Handles conditional logic based on comparison operators"
    categories = {BlockCategory.LOGIC}

    class Input(BlockSchema):
        input: Any = Field(description="The input to match against")
        value: Any = Field(description="The value the input must equal")
        yes_value: Any = Field(default=None, description="Output when the input matches")
        no_value: Any = Field(default=None, description="Output when the input does not match")

    class Output(BlockSchemaOutput):
        result: bool = Field(description="Whether the input matches the value")
        yes_output: Any = Field(description="yes_value, when the input matches")
        no_output: Any = Field(description="no_value, when the input does not match")

    input_schema, output_schema = Input, Output
    test_input = [
        {"input": 10, "value": 10, "yes_value": "Greater", "no_value": "Not greater"},
        {"input": 10, "value": 20, "yes_value": "Greater", "no_value": "Not greater"},
        {"input": 10, "value": "None", "yes_value": "Yes", "no_value": "No"},
    ]
    test_output = [
        ("result", True),
        ("yes_output", "Greater"),
        ("result", False),
        ("no_output", "Not greater"),
        ("result", False),
        ("no_output", "No"),
    ]

    async def run(self, input_data: Input, **kwargs: Any) -> BlockOutput:
        expected, value = input_data.input, input_data.value
        # A value of another type is first converted to the input's type ("10" matches 10).
        if expected != value and expected is not None and value is not None:
            value = _coerce_like(value, type(expected))
        if expected == value:
            yield "result", True
            yield "yes_output", input_data.yes_value
        else:
            yield "result", False
            yield "no_output", input_data.no_value


# --- iteration ------------------------------------------------------------------------
MAX_ITEMS = 10_000  # AutoGPT's limits on one iteration
MAX_TEXT_SIZE = 1024 * 1024


class StepThroughItemsBlock(Block):
    id = "f66a3543-28d3-4ab5-8945-9b336371e2ce"
    description = "Iterates over a list or dictionary and outputs each item."
    categories = {BlockCategory.LOGIC}

    class Input(BlockSchema):
        items: list = Field(default_factory=list, description="The list of items to iterate over")
        items_object: dict = Field(
            default_factory=dict, description="The dictionary to iterate over (values, with keys)"
        )
        items_str: str = Field(default="", description="A JSON list or object to iterate over")

    class Output(BlockSchemaOutput):
        item: Any = Field(description="The current item")
        key: Any = Field(description="The index or key of the current item")

    input_schema, output_schema = Input, Output
    test_input = {"items": [1, 2, 3, {"key1": "value1", "key2": "value2"}]}
    test_output = [
        ("item", 1),
        ("key", 0),
        ("item", 2),
        ("key", 1),
        ("item", 3),
        ("key", 2),
        ("item", {"key1": "value1", "key2": "value2"}),
        ("key", 3),
    ]

    async def run(self, input_data: Input, **kwargs: Any) -> BlockOutput:
        # Every non-empty source is walked, in this order, as in AutoGPT.
        for source in (input_data.items, input_data.items_object, input_data.items_str):
            if not source:
                continue
            items = _parse_items(source) if isinstance(source, str) else source
            if len(items) > MAX_ITEMS:
                raise ValueError(f"Too many items: {len(items)} > {MAX_ITEMS}")
            pairs = items.items() if isinstance(items, dict) else enumerate(items)
            for key, item in pairs:
                yield "item", item
                yield "key", key


def _parse_items(text: str) -> list | dict:
    if len(text) > MAX_TEXT_SIZE:
        raise ValueError(f"Input too large: {len(text)} bytes > {MAX_TEXT_SIZE} bytes")
    try:
        items = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"items_str is not valid JSON: {exc}") from exc
    if not isinstance(items, (list, dict)):
        raise ValueError("items_str must be a JSON list or object")
    return items
