"""Dictionary and list blocks (AutoGPT's data_manipulation.py): same ids, pins and yields.

No `from __future__ import annotations` here: several schemas have a pin named `list`, and
pydantic would resolve a string annotation `list[...]` against that field. `List` avoids it.
"""

import json
import math
from typing import Any, List

from pydantic import Field

from stratus.blocks.sdk import Block, BlockCategory, BlockOutput, BlockSchema, BlockSchemaOutput

# Values that are plain JSON data: attribute lookup on them would only find Python methods.
_JSON_TYPES = (dict, list, str, int, float, bool, type(None))


# --- dictionaries --------------------------------------------------------------------
class CreateDictionaryBlock(Block):
    id = "b924ddf4-de4f-4b56-9a85-358930dcbc91"
    description = "Creates a dictionary from the given key-value pairs. Use it when every value is known up front."
    categories = {BlockCategory.DATA}

    class Input(BlockSchema):
        values: dict[str, Any] = Field(description="Key-value pairs to put in the dictionary")

    class Output(BlockSchemaOutput):
        dictionary: dict[str, Any] = Field(description="The dictionary holding the given pairs")

    input_schema, output_schema = Input, Output
    test_input = [
        {"values": {"name": "Alice", "age": 25, "city": "New York"}},
        {"values": {"numbers": [1, 2, 3], "active": True, "score": 95.5}},
    ]
    test_output = [
        ("dictionary", {"name": "Alice", "age": 25, "city": "New York"}),
        ("dictionary", {"numbers": [1, 2, 3], "active": True, "score": 95.5}),
    ]

    async def run(self, input_data: Input, **kwargs: Any) -> BlockOutput:
        yield "dictionary", dict(input_data.values)


class AddToDictionaryBlock(Block):
    id = "31d1064e-7446-4693-a7d4-65e5ca1180d1"
    description = "Adds a key-value pair to a dictionary, creating the dictionary when none is given."
    categories = {BlockCategory.BASIC}

    class Input(BlockSchema):
        dictionary: dict[Any, Any] = Field(
            default_factory=dict, description="The dictionary to add to; empty if not given"
        )
        key: str = Field(default="", description="Key of the new entry")
        value: Any = Field(default=None, description="Value of the new entry")
        entries: dict[Any, Any] = Field(
            default_factory=dict, description="Several entries at once (batch form of key/value)"
        )

    class Output(BlockSchemaOutput):
        updated_dictionary: dict = Field(description="The dictionary with the new entries")

    input_schema, output_schema = Input, Output
    test_input = [
        {"dictionary": {"existing_key": "existing_value"}, "key": "new_key", "value": "new_value"},
        {"key": "first_key", "value": "first_value"},
        {
            "dictionary": {"existing_key": "existing_value"},
            "entries": {"new_key": "new_value", "first_key": "first_value"},
        },
    ]
    test_output = [
        ("updated_dictionary", {"existing_key": "existing_value", "new_key": "new_value"}),
        ("updated_dictionary", {"first_key": "first_value"}),
        ("updated_dictionary", {"existing_key": "existing_value", "new_key": "new_value", "first_key": "first_value"}),
    ]

    async def run(self, input_data: Input, **kwargs: Any) -> BlockOutput:
        updated = dict(input_data.dictionary)
        # As in AutoGPT: the single entry needs both a key and a non-null value.
        if input_data.key and input_data.value is not None:
            updated[input_data.key] = input_data.value
        updated.update(input_data.entries)
        yield "updated_dictionary", updated


class FindInDictionaryBlock(Block):
    id = "0e50422c-6dee-4145-83d6-3a5a392f65de"
    description = (
        "Looks up a value by key or index in a dictionary, list or object; on a list of "
        "dictionaries it collects the key from every element."
    )
    categories = {BlockCategory.BASIC}

    class Input(BlockSchema):
        input: Any = Field(description="Dictionary (or list, or JSON text) to look in")
        key: str | int = Field(description="Key or index to look up")

    class Output(BlockSchemaOutput):
        output: Any = Field(description="The value found for the key")
        missing: Any = Field(description="The input, when it does not have the key")

    input_schema, output_schema = Input, Output
    test_input = [
        {"input": {"apple": 1, "banana": 2, "cherry": 3}, "key": "banana"},
        {"input": {"x": 10, "y": 20, "z": 30}, "key": "w"},
        {"input": [1, 2, 3], "key": 1},
        {"input": [1, 2, 3], "key": 3},
        {"input": [{"k1": "v1"}, {"k2": "v2"}, {"k1": "v3"}], "key": "k1"},
    ]
    test_output = [
        ("output", 2),
        ("missing", {"x": 10, "y": 20, "z": 30}),
        ("output", 2),
        ("missing", [1, 2, 3]),
        ("output", ["v1", "v3"]),
    ]

    async def run(self, input_data: Input, **kwargs: Any) -> BlockOutput:
        obj, key = input_data.input, input_data.key
        if isinstance(obj, str):
            try:
                obj = json.loads(obj)
            except json.JSONDecodeError as exc:
                # AutoGPT fails the node here too (its loads raises on non-JSON text).
                raise ValueError(f"Input is a string but not valid JSON: {exc}") from exc

        if isinstance(obj, dict) and key in obj:
            yield "output", obj[key]
        elif isinstance(obj, list) and isinstance(key, int) and 0 <= key < len(obj):
            yield "output", obj[key]
        elif isinstance(obj, list) and isinstance(key, str):
            if obj and isinstance(obj[0], dict) and key in obj[0]:
                yield "output", [item[key] for item in obj if isinstance(item, dict) and key in item]
            else:
                yield "output", [getattr(item, key) for item in obj if _has_attribute(item, key)]
        elif isinstance(key, str) and _has_attribute(obj, key):
            yield "output", getattr(obj, key)
        else:
            yield "missing", input_data.input


def _has_attribute(obj: Any, name: str) -> bool:
    # Plain JSON values have no data attributes (AutoGPT would return bound methods here).
    return not isinstance(obj, _JSON_TYPES) and hasattr(obj, name)


class RemoveFromDictionaryBlock(Block):
    id = "46afe2ea-c613-43f8-95ff-6692c3ef6876"
    description = "Removes a key and its value from a dictionary."
    categories = {BlockCategory.BASIC}

    class Input(BlockSchema):
        dictionary: dict[Any, Any] = Field(description="The dictionary to remove from")
        key: str | int = Field(description="Key to remove")
        return_value: bool = Field(default=False, description="Also output the removed value")

    class Output(BlockSchemaOutput):
        updated_dictionary: dict[Any, Any] = Field(description="The dictionary without the key")
        removed_value: Any = Field(description="The removed value, when requested")

    input_schema, output_schema = Input, Output
    test_input = [
        {"dictionary": {"a": 1, "b": 2, "c": 3}, "key": "b", "return_value": True},
        {"dictionary": {"x": "hello", "y": "world"}, "key": "x"},
    ]
    test_output = [
        ("updated_dictionary", {"a": 1, "c": 3}),
        ("removed_value", 2),
        ("updated_dictionary", {"y": "world"}),
    ]

    async def run(self, input_data: Input, **kwargs: Any) -> BlockOutput:
        updated = dict(input_data.dictionary)
        if input_data.key not in updated:
            yield "error", f"Key '{input_data.key}' not found in dictionary"
            return
        removed = updated.pop(input_data.key)
        yield "updated_dictionary", updated
        if input_data.return_value:
            yield "removed_value", removed


class ReplaceDictionaryValueBlock(Block):
    id = "27e31876-18b6-44f3-ab97-f6226d8b3889"
    description = "Replaces the value of an existing key in a dictionary."
    categories = {BlockCategory.BASIC}

    class Input(BlockSchema):
        dictionary: dict[Any, Any] = Field(description="The dictionary to change")
        key: str | int = Field(description="Key whose value is replaced")
        value: Any = Field(description="The new value")

    class Output(BlockSchemaOutput):
        updated_dictionary: dict[Any, Any] = Field(description="The dictionary with the new value")
        old_value: Any = Field(description="The value that was replaced")

    input_schema, output_schema = Input, Output
    test_input = [
        {"dictionary": {"a": 1, "b": 2, "c": 3}, "key": "b", "value": 99},
        {"dictionary": {"x": "hello", "y": "world"}, "key": "y", "value": "universe"},
    ]
    test_output = [
        ("updated_dictionary", {"a": 1, "b": 99, "c": 3}),
        ("old_value", 2),
        ("updated_dictionary", {"x": "hello", "y": "universe"}),
        ("old_value", "world"),
    ]

    async def run(self, input_data: Input, **kwargs: Any) -> BlockOutput:
        updated = dict(input_data.dictionary)
        if input_data.key not in updated:
            yield "error", f"Key '{input_data.key}' not found in dictionary"
            return
        old_value = updated[input_data.key]
        updated[input_data.key] = input_data.value
        yield "updated_dictionary", updated
        yield "old_value", old_value


class DictionaryIsEmptyBlock(Block):
    id = "a3cf3f64-6bb9-4cc6-9900-608a0b3359b0"
    description = "Tells whether a dictionary is empty."
    categories = {BlockCategory.BASIC}

    class Input(BlockSchema):
        dictionary: dict[Any, Any] = Field(description="The dictionary to check")

    class Output(BlockSchemaOutput):
        is_empty: bool = Field(description="True when the dictionary has no entries")

    input_schema, output_schema = Input, Output
    test_input = [{"dictionary": {}}, {"dictionary": {"a": 1}}]
    test_output = [("is_empty", True), ("is_empty", False)]

    async def run(self, input_data: Input, **kwargs: Any) -> BlockOutput:
        yield "is_empty", not input_data.dictionary


# --- lists -----------------------------------------------------------------------------
def _estimate_tokens(value: Any) -> int:
    # AutoGPT counts with tiktoken (gpt-4o); without it we use the usual ~4 characters a token.
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return math.ceil(len(text) / 4)


class CreateListBlock(Block):
    id = "a912d5c7-6e00-4542-b2a9-8034136930e4"
    description = (
        "Creates a list from the given values. Use it when every value is known up "
        "front; it can also emit the list in chunks by size or token budget."
    )
    categories = {BlockCategory.DATA}

    class Input(BlockSchema):
        values: List[Any] = Field(description="Values to put in the list")
        max_size: int | None = Field(default=None, description="Emit the list in chunks of at most this many items")
        max_tokens: int | None = Field(default=None, description="Emit the list in chunks within this token budget")

    class Output(BlockSchemaOutput):
        list: List[Any] = Field(description="The list (or one chunk of it)")

    input_schema, output_schema = Input, Output
    test_input = [
        {"values": ["Alice", 25, True]},
        {"values": [1, 2, 3, "four", {"key": "value"}]},
        {"values": [1, 2, 3, 4, 5], "max_size": 2},
    ]
    test_output = [
        ("list", ["Alice", 25, True]),
        ("list", [1, 2, 3, "four", {"key": "value"}]),
        ("list", [1, 2]),
        ("list", [3, 4]),
        ("list", [5]),
    ]

    async def run(self, input_data: Input, **kwargs: Any) -> BlockOutput:
        max_size, max_tokens = input_data.max_size or 0, input_data.max_tokens or 0  # None: no bound
        chunk: List[Any] = []
        chunk_tokens = 0
        for value in input_data.values:
            tokens = _estimate_tokens(value) if max_tokens else 0
            too_many = bool(max_size) and len(chunk) + 1 > max_size
            too_long = bool(max_tokens) and chunk_tokens + tokens > max_tokens
            # A single oversized value still travels alone; an empty chunk is never emitted.
            if chunk and (too_many or too_long):
                yield "list", chunk
                chunk, chunk_tokens = [], 0
            chunk.append(value)
            chunk_tokens += tokens
        if chunk or not input_data.values:
            yield "list", chunk


class AddToListBlock(Block):
    id = "aeb08fc1-2fc1-4141-bc8e-f758f183a822"
    description = "Adds entries to a list, at the end or at a position, creating the list when none is given."
    categories = {BlockCategory.BASIC}

    class Input(BlockSchema):
        list: List[Any] = Field(default_factory=list, description="The list to add to; empty if not given")
        entry: Any = Field(default=None, description="The entry to add (any type)")
        # `list` is the pin above by now, hence the lambda.
        entries: List[Any] = Field(
            default_factory=lambda: [], description="Several entries at once (batch form of entry)"
        )
        position: int | None = Field(default=None, description="Where to insert; appended at the end when not given")

    class Output(BlockSchemaOutput):
        updated_list: List[Any] = Field(description="The list with the new entries")

    input_schema, output_schema = Input, Output
    test_input = [
        {"list": [1, "string", {"existing_key": "existing_value"}], "entry": {"new_key": "new_value"}, "position": 1},
        {"entry": "first_entry"},
        {"list": ["a", "b", "c"], "entry": "d"},
        {"entry": "e", "entries": ["f", "g"], "list": ["a", "b"], "position": 1},
    ]
    test_output = [
        ("updated_list", [1, {"new_key": "new_value"}, "string", {"existing_key": "existing_value"}]),
        ("updated_list", ["first_entry"]),
        ("updated_list", ["a", "b", "c", "d"]),
        ("updated_list", ["a", "f", "g", "e", "b"]),
    ]

    async def run(self, input_data: Input, **kwargs: Any) -> BlockOutput:
        # Batch entries first, then the single entry, as AutoGPT orders them.
        added = list(input_data.entries)
        if input_data.entry is not None:
            added.append(input_data.entry)
        items = list(input_data.list)
        position = input_data.position
        if position is None:
            items.extend(added)
        else:
            items = items[:position] + added + items[position:]
        yield "updated_list", items


class FindInListBlock(Block):
    id = "5e2c6d0a-1e37-489f-b1d0-8e1812b23333"
    description = "Finds the index of a value in a list."
    categories = {BlockCategory.BASIC}

    class Input(BlockSchema):
        list: List[Any] = Field(description="The list to search")
        value: Any = Field(description="The value to look for")

    class Output(BlockSchemaOutput):
        index: int = Field(description="Index of the first occurrence of the value")
        found: bool = Field(description="Whether the value is in the list")
        not_found_value: Any = Field(description="The value, when it is not in the list")

    input_schema, output_schema = Input, Output
    test_input = [
        {"list": [1, 2, 3, 4, 5], "value": 3},
        {"list": [1, 2, 3, 4, 5], "value": 6},
    ]
    test_output = [
        ("index", 2),
        ("found", True),
        ("found", False),
        ("not_found_value", 6),
    ]

    async def run(self, input_data: Input, **kwargs: Any) -> BlockOutput:
        if input_data.value in input_data.list:
            yield "index", input_data.list.index(input_data.value)
            yield "found", True
        else:
            yield "found", False
            yield "not_found_value", input_data.value


class GetListItemBlock(Block):
    id = "262ca24c-1025-43cf-a578-534e23234e97"
    description = "Returns the item at an index of a list (negative indexes count from the end)."
    categories = {BlockCategory.BASIC}

    class Input(BlockSchema):
        list: List[Any] = Field(description="The list to read from")
        index: int = Field(description="0-based index; negative counts from the end")

    class Output(BlockSchemaOutput):
        item: Any = Field(description="The item at the index")

    input_schema, output_schema = Input, Output
    test_input = [{"list": [1, 2, 3], "index": 1}, {"list": [1, 2, 3], "index": -1}]
    test_output = [("item", 2), ("item", 3)]

    async def run(self, input_data: Input, **kwargs: Any) -> BlockOutput:
        items, index = input_data.list, input_data.index
        if -len(items) <= index < len(items):
            yield "item", items[index]
        else:
            yield "error", "Index out of range"


class RemoveFromListBlock(Block):
    id = "d93c5a93-ac7e-41c1-ae5c-ef67e6e9b826"
    description = "Removes an item from a list, by index or by value."
    categories = {BlockCategory.BASIC}

    class Input(BlockSchema):
        list: List[Any] = Field(description="The list to remove from")
        value: Any = Field(default=None, description="Value to remove (first occurrence)")
        index: int | None = Field(default=None, description="Index to remove; negative counts from the end")
        return_item: bool = Field(default=False, description="Also output the removed item")

    class Output(BlockSchemaOutput):
        updated_list: List[Any] = Field(description="The list without the item")
        removed_item: Any = Field(description="The removed item, when requested")

    input_schema, output_schema = Input, Output
    test_input = [
        {"list": [1, 2, 3], "index": 1, "return_item": True},
        {"list": ["a", "b", "c"], "value": "b"},
    ]
    test_output = [
        ("updated_list", [1, 3]),
        ("removed_item", 2),
        ("updated_list", ["a", "c"]),
    ]

    async def run(self, input_data: Input, **kwargs: Any) -> BlockOutput:
        items = list(input_data.list)
        index, value = input_data.index, input_data.value
        # The index wins when both are given, as in AutoGPT.
        if index is not None and -len(items) <= index < len(items):
            removed = items.pop(index)
        elif index is None and value is not None and value in items:
            items.remove(value)
            removed = value
        else:
            yield "error", "Index or value not found"
            return
        yield "updated_list", items
        if input_data.return_item:
            yield "removed_item", removed


class ReplaceListItemBlock(Block):
    id = "fbf62922-bea1-4a3d-8bac-23587f810b38"
    description = "Replaces the item at an index of a list."
    categories = {BlockCategory.BASIC}

    class Input(BlockSchema):
        list: List[Any] = Field(description="The list to change")
        index: int = Field(description="Index of the item to replace; negative counts from the end")
        value: Any = Field(description="The new item")

    class Output(BlockSchemaOutput):
        updated_list: List[Any] = Field(description="The list with the new item")
        old_item: Any = Field(description="The item that was replaced")

    input_schema, output_schema = Input, Output
    test_input = [
        {"list": [1, 2, 3], "index": 1, "value": 99},
        {"list": ["a", "b"], "index": -1, "value": "c"},
    ]
    test_output = [
        ("updated_list", [1, 99, 3]),
        ("old_item", 2),
        ("updated_list", ["a", "c"]),
        ("old_item", "b"),
    ]

    async def run(self, input_data: Input, **kwargs: Any) -> BlockOutput:
        items, index = list(input_data.list), input_data.index
        if not -len(items) <= index < len(items):
            yield "error", "Index out of range"
            return
        old_item = items[index]
        items[index] = input_data.value
        yield "updated_list", items
        yield "old_item", old_item


class ListIsEmptyBlock(Block):
    id = "896ed73b-27d0-41be-813c-c1c1dc856c03"
    description = "Tells whether a list is empty."
    categories = {BlockCategory.BASIC}

    class Input(BlockSchema):
        list: List[Any] = Field(description="The list to check")

    class Output(BlockSchemaOutput):
        is_empty: bool = Field(description="True when the list has no items")

    input_schema, output_schema = Input, Output
    test_input = [{"list": []}, {"list": [1]}]
    test_output = [("is_empty", True), ("is_empty", False)]

    async def run(self, input_data: Input, **kwargs: Any) -> BlockOutput:
        yield "is_empty", not input_data.list
