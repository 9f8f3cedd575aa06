"""I/O, basic and time blocks: AutoGPT ids, pins and behaviour."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from stratus.blocks.core import basic, io, time_blocks
from stratus.blocks.core.basic import (
    NoteBlock,
    PrintToConsoleBlock,
    StoreValueBlock,
    UniversalTypeConverterBlock,
)
from stratus.blocks.core.io import (
    AgentDateInputBlock,
    AgentDropdownInputBlock,
    AgentFileInputBlock,
    AgentInputBlock,
    AgentLongTextInputBlock,
    AgentNumberInputBlock,
    AgentOutputBlock,
    AgentShortTextInputBlock,
    AgentTableInputBlock,
    AgentTimeInputBlock,
    AgentToggleInputBlock,
)
from stratus.blocks.core.time_blocks import (
    CountdownTimerBlock,
    GetCurrentDateAndTimeBlock,
    GetCurrentDateBlock,
    GetCurrentTimeBlock,
)
from stratus.blocks.sdk import BlockCategory, BlockInputError, BlockSchemaOutput, BlockType
from stratus.blocks.testing import run_block, run_node_block

INPUT_BLOCKS = {
    AgentInputBlock: "c0a8e994-ebf1-4a9c-a4d8-89d09c86741b",
    AgentShortTextInputBlock: "7fcd3bcb-8e1b-4e69-903d-32d3d4a92158",
    AgentLongTextInputBlock: "90a56ffb-7024-4b2b-ab50-e26c5e5ab8ba",
    AgentNumberInputBlock: "96dae2bb-97a2-41c2-bd2f-13a3b5a8ea98",
    AgentDateInputBlock: "7e198b09-4994-47db-8b4d-952d98241817",
    AgentTimeInputBlock: "2a1c757e-86cf-4c7e-aacf-060dc382e434",
    AgentFileInputBlock: "95ead23f-8283-4654-aef3-10c053b74a31",
    AgentDropdownInputBlock: "655d6fdf-a334-421c-b733-520549c07cd1",
    AgentToggleInputBlock: "cbf36ab5-df4a-43b6-8a7f-f7ed8652116e",
    AgentTableInputBlock: "5603b273-f41e-4020-af7d-fbc9c6a8d928",
}
OTHER_IDS = {
    AgentOutputBlock: "363ae599-353e-4804-937e-b2ee3cef3da4",
    StoreValueBlock: "1ff065e9-88e8-4358-9d82-8dc91f622ba9",
    PrintToConsoleBlock: "f3b1c1b2-4c4f-4f0d-8d2f-4c4f0d8d2f4c",
    NoteBlock: "cc10ff7b-7753-4ff2-9af6-9399b1a7eddc",
    UniversalTypeConverterBlock: "95d1b990-ce13-4d88-9737-ba5c2070c97b",
    GetCurrentTimeBlock: "a892b8d9-3e4e-4e9c-9c1e-75f8efcf1bfa",
    GetCurrentDateBlock: "b29c1b50-5d0e-4d9f-8f9d-1b0e6fcbf0b1",
    GetCurrentDateAndTimeBlock: "716a67b3-6760-42e7-86dc-18645c6e00fc",
    CountdownTimerBlock: "d67a9c52-5e4e-11e2-bcfd-0800200c9a71",
}


def _my_blocks():
    return [*INPUT_BLOCKS, *OTHER_IDS]


def _expected_matches(expected, actual) -> bool:
    if isinstance(expected, type):
        return isinstance(actual, expected)
    return expected == actual


# --- identity and pins ------------------------------------------------------------------


@pytest.mark.parametrize("cls,block_id", [*INPUT_BLOCKS.items(), *OTHER_IDS.items()])
def test_ids(cls, block_id):
    assert cls.id == block_id
    assert cls().name == cls.__name__


@pytest.mark.parametrize("cls", list(INPUT_BLOCKS))
def test_input_blocks_pins_and_type(cls):
    block = cls()
    assert block.block_type is BlockType.INPUT
    assert BlockCategory.INPUT in block.categories
    assert block.static_output is True
    assert {"name", "value", "title", "description", "advanced", "secret"} <= cls.Input.field_names()
    assert cls.Input.required_fields() == {"name"}
    assert cls.Output.field_names() == {"result"}
    assert not issubclass(cls.Output, BlockSchemaOutput)
    assert not block.has_error_pin()


def test_output_block_pins_and_type():
    block = AgentOutputBlock()
    assert block.block_type is BlockType.OUTPUT
    assert block.static_output is True
    assert {"value", "name", "title", "description", "format"} <= AgentOutputBlock.Input.field_names()
    assert AgentOutputBlock.Input.required_fields() == {"name"}
    assert AgentOutputBlock.Output.field_names() == {"output", "name"}
    assert not block.has_error_pin()


def test_standard_blocks_have_error_pin():
    for cls in (
        StoreValueBlock,
        PrintToConsoleBlock,
        UniversalTypeConverterBlock,
        GetCurrentTimeBlock,
        GetCurrentDateBlock,
        GetCurrentDateAndTimeBlock,
        CountdownTimerBlock,
    ):
        assert "error" in cls.Output.field_names(), cls.__name__


def test_note_block_type_and_pins():
    assert NoteBlock.block_type is BlockType.NOTE
    assert NoteBlock.Input.field_names() == {"text"}
    assert NoteBlock.Output.field_names() == {"output", "error"}


def test_time_block_pins():
    assert GetCurrentTimeBlock.Input.field_names() == {"trigger", "format_type"}
    assert GetCurrentTimeBlock.Output.field_names() == {"time", "error"}
    assert GetCurrentDateBlock.Input.field_names() == {"trigger", "offset", "format_type"}
    assert GetCurrentDateBlock.Output.field_names() == {"date", "error"}
    assert GetCurrentDateAndTimeBlock.Input.field_names() == {"trigger", "format_type"}
    assert GetCurrentDateAndTimeBlock.Output.field_names() == {"date_time", "error"}
    assert CountdownTimerBlock.Input.field_names() == {"input_message", "seconds", "minutes", "hours", "days", "repeat"}
    assert CountdownTimerBlock.Input.required_fields() == set()
    assert CountdownTimerBlock.Output.field_names() == {"output_message", "error"}


@pytest.mark.parametrize("cls", _my_blocks())
def test_own_self_test_and_description(cls):
    block = cls()
    block.to_dict()  # JSON schema must build
    inputs = block.test_input if isinstance(block.test_input, list) else [block.test_input]
    actual = [pair for data in inputs for pair in run_block(block, data)]
    expected = block.test_output if isinstance(block.test_output, list) else [block.test_output]
    assert [name for name, _ in actual] == [name for name, _ in expected]
    for (_, want), (_, got) in zip(expected, actual):
        assert _expected_matches(want, got), (want, got)


def test_modules_expose_only_my_blocks():
    from stratus.blocks.sdk import Block

    found = {
        obj
        for module in (io, basic, time_blocks)
        for obj in vars(module).values()
        if isinstance(obj, type) and issubclass(obj, Block) and obj.__module__ == module.__name__
    }
    assert found == set(_my_blocks())


# --- AgentInput ---------------------------------------------------------------------------


def test_dropdown_takes_options_and_the_older_placeholder_values():
    block = AgentDropdownInputBlock()
    assert block.validate_input({"name": "x", "options": ["a", "b"]}).options == ["a", "b"]
    assert block.validate_input({"name": "x", "placeholder_values": ["c"]}).options == ["c"]
    assert "options" in block.input_schema.jsonschema()["properties"]
    assert block.generate_schema({"placeholder_values": ["a", "b"]})["enum"] == ["a", "b"]
    assert "enum" not in block.generate_schema({"options": []})  # no options: free text
    assert run_block(block, {"name": "x"}) == []


def test_toggle_defaults_to_false_and_converts_strings():
    assert run_block(AgentToggleInputBlock(), {"name": "t"}) == [("result", False)]
    assert run_block(AgentToggleInputBlock(), {"name": "t", "value": "true"}) == [("result", True)]


def test_table_yields_an_empty_list_without_value_and_describes_its_columns():
    assert run_block(AgentTableInputBlock(), {"name": "t"}) == [("result", [])]
    schema = AgentTableInputBlock.generate_schema({"column_headers": ["A", "B"]})
    assert schema["type"] == "array" and schema["format"] == "table"
    assert schema["items"] == {"type": "object", "properties": {"A": {"type": "string"}, "B": {"type": "string"}}}
    default_columns = AgentTableInputBlock.generate_schema({})["items"]["properties"]
    assert list(default_columns) == ["Column 1", "Column 2", "Column 3"]


def test_file_input_passes_its_reference_on_and_nothing_when_empty():
    block = AgentFileInputBlock()
    assert run_block(block, {"name": "f", "value": "data:text/plain;base64,aGk="}) == [
        ("result", "data:text/plain;base64,aGk=")
    ]
    assert run_block(block, {"name": "f", "value": ""}) == []
    assert block.input_schema.jsonschema()["properties"]["value"]["anyOf"][0]["format"] == "file"


def test_agent_input_yields_nothing_without_value():
    assert run_block(AgentInputBlock(), {"name": "x"}) == []
    assert run_block(AgentInputBlock(), {"name": "x", "value": None}) == []


def test_agent_input_passes_falsy_values():
    assert run_block(AgentInputBlock(), {"name": "x", "value": 0}) == [("result", 0)]
    assert run_block(AgentInputBlock(), {"name": "x", "value": ""}) == [("result", "")]
    assert run_block(AgentInputBlock(), {"name": "x", "value": {"a": [1]}}) == [("result", {"a": [1]})]


@pytest.mark.parametrize("cls", [c for c in INPUT_BLOCKS if c not in (AgentToggleInputBlock, AgentTableInputBlock)])
def test_input_variants_yield_nothing_without_value(cls):
    # The toggle has a value of its own (False) and the table yields [] (tested above).
    assert run_block(cls(), {"name": "x"}) == []


def test_input_variants_convert_values():
    assert run_block(AgentNumberInputBlock(), {"name": "n", "value": "7"}) == [("result", 7)]
    assert run_node_block(AgentShortTextInputBlock(), {"name": "s", "value": 12}) == [("result", "12")]
    assert run_block(AgentDateInputBlock(), {"name": "d", "value": "2024-02-29"}) == [("result", date(2024, 2, 29))]
    assert run_block(AgentTimeInputBlock(), {"name": "t", "value": "07:05"}) == [("result", time(7, 5))]
    with pytest.raises(BlockInputError):
        run_block(AgentDateInputBlock(), {"name": "d", "value": "not a date"})


def test_text_input_schema_formats():
    assert AgentShortTextInputBlock.Input.jsonschema()["properties"]["value"]["anyOf"][0]["format"] == "short-text"
    assert AgentLongTextInputBlock.Input.jsonschema()["properties"]["value"]["anyOf"][0]["format"] == "long-text"


def test_input_requires_name():
    with pytest.raises(BlockInputError) as err:
        run_block(AgentInputBlock(), {"value": 1})
    assert "name" in err.value.errors


# --- AgentOutput --------------------------------------------------------------------------


def test_agent_output_without_format_yields_value_and_name():
    assert run_block(AgentOutputBlock(), {"name": "answer", "value": [1, 2]}) == [
        ("output", [1, 2]),
        ("name", "answer"),
    ]


def test_agent_output_format_by_name_and_by_value():
    block = AgentOutputBlock()
    assert run_block(block, {"name": "answer", "value": "hi", "format": "<{{ answer }}>"}) == [("output", "<hi>")]
    assert run_block(block, {"name": "answer", "value": 3, "format": "v={{ value }}"}) == [("output", "v=3")]
    # A dict value is reachable field by field.
    assert run_block(block, {"name": "r", "value": {"a": 1}, "format": "{{ r.a }}"}) == [("output", "1")]


def test_agent_output_format_escaping():
    block = AgentOutputBlock()
    raw = run_block(block, {"name": "x", "value": "<b>", "format": "{{ x }}"})
    assert raw == [("output", "<b>")]
    escaped = run_block(block, {"name": "x", "value": "<b>", "format": "{{ x }}", "escape_html": True})
    assert escaped == [("output", "&lt;b&gt;")]


def test_agent_output_number_format_filter():
    out = run_block(AgentOutputBlock(), {"name": "x", "value": "3.14159", "format": "{{ x | format('%.2f') }}"})
    assert out == [("output", "3.14")]


def test_agent_output_broken_template_reports_error_in_output():
    out = run_block(AgentOutputBlock(), {"name": "x", "value": "v", "format": "{{ x "})
    assert len(out) == 1
    name, text = out[0]
    assert name == "output"
    assert text.startswith("Error: ") and text.endswith(", v")


def test_agent_output_sandbox_blocks_unsafe_access():
    template = "{{ x.__class__.__mro__[1].__subclasses__() }}"
    [(name, text)] = run_block(AgentOutputBlock(), {"name": "x", "value": "s", "format": template})
    assert name == "output" and text.startswith("Error: ")
    # Globals are cleared: no range/lipsum/etc.
    [(_, text)] = run_block(AgentOutputBlock(), {"name": "x", "value": 1, "format": "{{ range(3) | list }}"})
    assert text.startswith("Error: ")


# --- basic blocks -------------------------------------------------------------------------


def test_store_value_prefers_data():
    block = StoreValueBlock()
    assert block.static_output is True
    assert run_block(block, {"input": "trigger", "data": {"k": 1}}) == [("output", {"k": 1})]
    assert run_block(block, {"input": "trigger"}) == [("output", "trigger")]
    # AutoGPT falls back to `input` for any falsy data.
    assert run_block(block, {"input": "trigger", "data": 0}) == [("output", "trigger")]


def test_store_value_requires_input():
    with pytest.raises(BlockInputError):
        run_block(StoreValueBlock(), {"data": 1})


def test_print_to_console_logs(caplog):
    caplog.set_level("INFO", logger=basic.__name__)
    assert run_block(PrintToConsoleBlock(), {"text": {"a": 1}}) == [("output", {"a": 1}), ("status", "printed")]
    assert "{'a': 1}" in caplog.text


def test_note_block_runs():
    assert run_block(NoteBlock(), {"text": "remember"}) == [("output", "remember")]


@pytest.mark.parametrize(
    "value,type_name,expected",
    [
        ("already", "string", "already"),
        (42, "string", "42"),
        (1.5, "string", "1.5"),
        (True, "string", "true"),
        (None, "string", "null"),
        ([1, "a"], "string", '[1, "a"]'),
        ({"a": 1}, "string", '{"a": 1}'),
        ("3.5", "number", 3.5),
        ("7", "number", 7.0),
        (7, "number", 7.0),
        (True, "number", 1.0),
        ("abc", "number", 0.0),
        ([1, 2, 3], "number", 3.0),
        ({"a": 1}, "number", 1.0),
        (None, "number", 0.0),
        ("true", "boolean", True),
        ("TRUE", "boolean", True),
        ("1", "boolean", True),
        ("false", "boolean", False),
        ("0", "boolean", False),
        ("banana", "boolean", False),
        (0, "boolean", False),
        (2, "boolean", True),
        ([], "boolean", False),
        ([1], "boolean", True),
        ("[1, 2, 3]", "list", [1, 2, 3]),
        ('[{"a": 1}]', "list", [{"a": 1}]),
        ("plain", "list", ["plain"]),
        (5, "list", [5]),
        ({"a": 1}, "list", [("a", 1)]),
        (None, "list", [None]),
        ('{"a": {"b": [1]}}', "dictionary", {"a": {"b": [1]}}),
        ("plain", "dictionary", {"value": "plain"}),
        (["x", "y"], "dictionary", {0: "x", 1: "y"}),
        (5, "dictionary", {"value": 5}),
        (None, "dictionary", {"value": None}),
    ],
)
def test_universal_type_converter(value, type_name, expected):
    out = run_block(UniversalTypeConverterBlock(), {"value": value, "type": type_name})
    assert out == [("value", expected)]
    assert type(out[0][1]) is type(expected)


def test_universal_type_converter_rejects_unknown_type():
    with pytest.raises(BlockInputError) as err:
        run_block(UniversalTypeConverterBlock(), {"value": 1, "type": "integer"})
    assert "type" in err.value.errors


def test_universal_type_converter_reports_unserialisable_value():
    block = UniversalTypeConverterBlock()
    data = block.validate_input({"value": "x", "type": "string"})
    data.value = object()  # cannot be JSON-serialised

    async def collect():
        return [pair async for pair in block.run(data)]

    [(name, message)] = asyncio.run(collect())
    assert name == "error" and message.startswith("Failed to convert value:")


# --- time blocks --------------------------------------------------------------------------


def _now_utc():
    return datetime.now(UTC)


def test_current_time_default_format_parses():
    [(name, value)] = run_block(GetCurrentTimeBlock(), {"trigger": "go"})
    assert name == "time"
    parsed = datetime.strptime(value, "%H:%M:%S").time()
    now = _now_utc()
    delta = abs(
        (now.hour * 3600 + now.minute * 60 + now.second) - (parsed.hour * 3600 + parsed.minute * 60 + parsed.second)
    )
    assert min(delta, 86400 - delta) <= 5


def test_current_time_custom_format_and_timezone():
    fmt = {"discriminator": "strftime", "format": "%H|%Z", "timezone": "Asia/Kolkata"}
    [(_, value)] = run_block(GetCurrentTimeBlock(), {"trigger": "go", "format_type": fmt})
    hour, zone = value.split("|")
    assert zone == "IST"
    assert abs(int(hour) - datetime.now(ZoneInfo("Asia/Kolkata")).hour) in (0, 1, 23)


def test_current_time_iso8601():
    fmt = {"discriminator": "iso8601", "timezone": "Asia/Kathmandu"}
    [(_, value)] = run_block(GetCurrentTimeBlock(), {"trigger": "go", "format_type": fmt})
    assert value.startswith("T") and value.endswith("+05:45")
    assert "." not in value
    parsed = time.fromisoformat(value[1:])
    assert parsed.utcoffset() == timedelta(hours=5, minutes=45)
    fmt["include_microseconds"] = True
    [(_, value)] = run_block(GetCurrentTimeBlock(), {"trigger": "go", "format_type": fmt})
    assert time.fromisoformat(value[1:]).utcoffset() == timedelta(hours=5, minutes=45)


def test_current_time_rejects_unknown_timezone():
    fmt = {"discriminator": "strftime", "timezone": "Mars/Olympus"}
    with pytest.raises(BlockInputError):
        run_block(GetCurrentTimeBlock(), {"trigger": "go", "format_type": fmt})


def test_user_timezone_used_only_when_asked():
    fmt = {"discriminator": "iso8601", "timezone": "UTC", "use_user_timezone": True}
    [(_, value)] = run_block(
        GetCurrentDateAndTimeBlock(), {"trigger": "go", "format_type": fmt}, user_timezone="Asia/Tokyo"
    )
    assert value.endswith("+09:00")
    [(_, value)] = run_block(
        GetCurrentDateAndTimeBlock(),
        {"trigger": "go", "format_type": fmt},
        execution_context={"user_timezone": "Asia/Kolkata"},
    )
    assert value.endswith("+05:30")
    # No user timezone known: the configured one.
    [(_, value)] = run_block(GetCurrentDateAndTimeBlock(), {"trigger": "go", "format_type": fmt})
    assert value.endswith("+00:00")
    fmt["use_user_timezone"] = False
    [(_, value)] = run_block(
        GetCurrentDateAndTimeBlock(), {"trigger": "go", "format_type": fmt}, user_timezone="Asia/Tokyo"
    )
    assert value.endswith("+00:00")


def test_current_date_offset_and_formats():
    today = _now_utc().date()
    [(name, value)] = run_block(GetCurrentDateBlock(), {"trigger": "go"})
    assert name == "date"
    assert abs(datetime.strptime(value, "%Y-%m-%d").date() - today) <= timedelta(days=1)
    # AutoGPT subtracts the offset.
    [(_, value)] = run_block(GetCurrentDateBlock(), {"trigger": "go", "offset": "7"})
    assert abs(datetime.strptime(value, "%Y-%m-%d").date() - (today - timedelta(days=7))) <= timedelta(days=1)
    [(_, value)] = run_block(
        GetCurrentDateBlock(),
        {"trigger": "go", "offset": -2, "format_type": {"discriminator": "strftime", "format": "%m/%d/%Y"}},
    )
    assert abs(datetime.strptime(value, "%m/%d/%Y").date() - (today + timedelta(days=2))) <= timedelta(days=1)
    [(_, value)] = run_block(GetCurrentDateBlock(), {"trigger": "go", "format_type": {"discriminator": "iso8601"}})
    assert abs(date.fromisoformat(value) - today) <= timedelta(days=1) and len(value) == 10


def test_current_date_unreadable_offset_is_zero():
    [(_, with_junk)] = run_block(GetCurrentDateBlock(), {"trigger": "go", "offset": "soon"})
    [(_, plain)] = run_block(GetCurrentDateBlock(), {"trigger": "go"})
    assert with_junk == plain


def test_current_date_and_time_formats():
    [(name, value)] = run_block(GetCurrentDateAndTimeBlock(), {"trigger": "go"})
    assert name == "date_time"
    parsed = datetime.strptime(value, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
    assert abs(_now_utc() - parsed) < timedelta(seconds=10)
    fmt = {"discriminator": "iso8601", "timezone": "America/St_Johns", "include_microseconds": True}
    [(_, value)] = run_block(GetCurrentDateAndTimeBlock(), {"trigger": "go", "format_type": fmt})
    parsed = datetime.fromisoformat(value)
    assert "." in value
    assert abs(_now_utc() - parsed) < timedelta(seconds=10)
    assert parsed.utcoffset() in (timedelta(hours=-3, minutes=-30), timedelta(hours=-2, minutes=-30))


def test_time_blocks_require_trigger():
    for cls in (GetCurrentTimeBlock, GetCurrentDateBlock, GetCurrentDateAndTimeBlock):
        with pytest.raises(BlockInputError):
            run_block(cls(), {})


def test_countdown_repeat_and_default_message():
    assert run_block(CountdownTimerBlock(), {}) == [("output_message", "timer finished")]
    assert (
        run_block(CountdownTimerBlock(), {"input_message": {"k": 1}, "repeat": 3, "seconds": "0"})
        == [("output_message", {"k": 1})] * 3
    )
    assert run_block(CountdownTimerBlock(), {"repeat": 0}) == []


def test_countdown_sleeps_for_total_duration(monkeypatch):
    slept: list[float] = []

    async def fake_sleep(seconds):
        slept.append(seconds)

    monkeypatch.setattr(time_blocks.asyncio, "sleep", fake_sleep)
    out = run_block(CountdownTimerBlock(), {"seconds": 5, "minutes": "2", "hours": 1, "days": 1, "repeat": 2})
    assert out == [("output_message", "timer finished")] * 2
    assert slept == [5 + 120 + 3600 + 86400] * 2


def test_countdown_real_short_sleep():
    started = datetime.now()
    assert run_block(CountdownTimerBlock(), {"seconds": 1, "input_message": "done"}) == [("output_message", "done")]
    assert datetime.now() - started >= timedelta(seconds=0.9)


def test_countdown_bad_duration_is_an_error():
    [(name, message)] = run_block(CountdownTimerBlock(), {"seconds": "soon"})
    assert name == "error" and "soon" in message
