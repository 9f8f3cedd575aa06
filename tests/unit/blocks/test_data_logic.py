"""Dictionary, list and logic blocks: AutoGPT ids, pins and edge-case behaviour."""

from __future__ import annotations

import math

import pytest

from stratus.blocks.core import data, logic
from stratus.blocks.dynamic_pins import merge_execution_input
from stratus.blocks.registry import all_blocks
from stratus.blocks.sdk import BlockInputError
from stratus.blocks.testing import run_block, run_node_block

EXPECTED_IDS = {
    "CreateDictionaryBlock": "b924ddf4-de4f-4b56-9a85-358930dcbc91",
    "AddToDictionaryBlock": "31d1064e-7446-4693-a7d4-65e5ca1180d1",
    "FindInDictionaryBlock": "0e50422c-6dee-4145-83d6-3a5a392f65de",
    "RemoveFromDictionaryBlock": "46afe2ea-c613-43f8-95ff-6692c3ef6876",
    "ReplaceDictionaryValueBlock": "27e31876-18b6-44f3-ab97-f6226d8b3889",
    "DictionaryIsEmptyBlock": "a3cf3f64-6bb9-4cc6-9900-608a0b3359b0",
    "CreateListBlock": "a912d5c7-6e00-4542-b2a9-8034136930e4",
    "AddToListBlock": "aeb08fc1-2fc1-4141-bc8e-f758f183a822",
    "FindInListBlock": "5e2c6d0a-1e37-489f-b1d0-8e1812b23333",
    "GetListItemBlock": "262ca24c-1025-43cf-a578-534e23234e97",
    "RemoveFromListBlock": "d93c5a93-ac7e-41c1-ae5c-ef67e6e9b826",
    "ReplaceListItemBlock": "fbf62922-bea1-4a3d-8bac-23587f810b38",
    "ListIsEmptyBlock": "896ed73b-27d0-41be-813c-c1c1dc856c03",
    "CalculatorBlock": "b1ab9b19-67a6-406d-abf5-2dba76d00c79",
    "CountItemsBlock": "3c9c2f42-b0c3-435f-ba35-05f7a25c772a",
    "ConditionBlock": "715696a0-e1da-45c8-b209-c2fa9c3b0be6",
    "IfInputMatchesBlock": "6dbbc4b3-ca6c-42b6-b508-da52d23e13f2",
    "StepThroughItemsBlock": "f66a3543-28d3-4ab5-8945-9b336371e2ce",
}


def run(block_cls, **inputs):
    return run_block(block_cls(), inputs)


# --- registry and pins -------------------------------------------------------------------
@pytest.mark.parametrize("name,block_id", sorted(EXPECTED_IDS.items()))
def test_registered_under_autogpt_id(name, block_id):
    block = all_blocks()[block_id]
    assert block.name == name
    description = block.to_dict()
    assert description["id"] == block_id and description["name"] == name


@pytest.mark.parametrize(
    "block_cls,inputs,outputs",
    [
        (data.CreateDictionaryBlock, {"values"}, {"dictionary", "error"}),
        (data.AddToDictionaryBlock, {"dictionary", "key", "value", "entries"}, {"updated_dictionary", "error"}),
        (data.FindInDictionaryBlock, {"input", "key"}, {"output", "missing", "error"}),
        (
            data.RemoveFromDictionaryBlock,
            {"dictionary", "key", "return_value"},
            {"updated_dictionary", "removed_value", "error"},
        ),
        (data.CreateListBlock, {"values", "max_size", "max_tokens"}, {"list", "error"}),
        (data.AddToListBlock, {"list", "entry", "entries", "position"}, {"updated_list", "error"}),
        (data.FindInListBlock, {"list", "value"}, {"index", "found", "not_found_value", "error"}),
        (data.GetListItemBlock, {"list", "index"}, {"item", "error"}),
        (logic.CalculatorBlock, {"operation", "a", "b", "round_result"}, {"result", "error"}),
        (logic.CountItemsBlock, {"collection"}, {"count", "error"}),
        (
            logic.ConditionBlock,
            {"value1", "operator", "value2", "yes_value", "no_value"},
            {"result", "yes_output", "no_output", "error"},
        ),
        (
            logic.IfInputMatchesBlock,
            {"input", "value", "yes_value", "no_value"},
            {"result", "yes_output", "no_output", "error"},
        ),
        (logic.StepThroughItemsBlock, {"items", "items_object", "items_str"}, {"item", "key", "error"}),
    ],
)
def test_pin_names(block_cls, inputs, outputs):
    assert block_cls.input_schema.field_names() == inputs
    assert block_cls.output_schema.field_names() == outputs


def test_enum_options_match_autogpt():
    schema = logic.CalculatorBlock.Input.jsonschema()
    assert schema["$defs"]["Operation"]["enum"] == ["Add", "Subtract", "Multiply", "Divide", "Power"]
    schema = logic.ConditionBlock.Input.jsonschema()
    assert schema["$defs"]["ComparisonOperator"]["enum"] == ["==", "!=", ">", "<", ">=", "<="]


# --- dictionaries ---------------------------------------------------------------------------
def test_create_dictionary_from_dynamic_pins():
    inputs = merge_execution_input({"values_#_a": 1, "values_#_b": "two"})
    assert inputs == {"values": {"a": 1, "b": "two"}}
    assert run(data.CreateDictionaryBlock, **inputs) == [("dictionary", {"a": 1, "b": "two"})]


def test_create_dictionary_requires_values():
    with pytest.raises(BlockInputError) as info:
        run(data.CreateDictionaryBlock)
    assert "values" in info.value.errors


def test_add_to_dictionary_does_not_mutate_input_and_skips_none_value():
    original = {"a": 1}
    assert run(data.AddToDictionaryBlock, dictionary=original, key="b", value=2) == [
        ("updated_dictionary", {"a": 1, "b": 2})
    ]
    assert original == {"a": 1}
    # No value (None) or no key: nothing added, as in AutoGPT.
    assert run(data.AddToDictionaryBlock, dictionary=original, key="b") == [("updated_dictionary", {"a": 1})]
    assert run(data.AddToDictionaryBlock, value=5) == [("updated_dictionary", {})]


def test_add_to_dictionary_accepts_json_text():
    assert run_node_block(data.AddToDictionaryBlock(), {"dictionary": '{"a": 1}', "key": "b", "value": False}) == [
        ("updated_dictionary", {"a": 1, "b": False})
    ]


def test_find_in_dictionary_missing_key_yields_missing():
    source = {"x": 10}
    assert run(data.FindInDictionaryBlock, input=source, key="w") == [("missing", source)]


def test_find_in_dictionary_variants():
    assert run(data.FindInDictionaryBlock, input='{"a": {"b": 1}}', key="a") == [("output", {"b": 1})]
    assert run(data.FindInDictionaryBlock, input=["x", "y"], key=-1) == [("missing", ["x", "y"])]
    assert run(data.FindInDictionaryBlock, input=[], key="k") == [("output", [])]
    # JSON values have no attributes: method names are not "found".
    assert run(data.FindInDictionaryBlock, input={"a": 1}, key="keys") == [("missing", {"a": 1})]
    assert run(data.FindInDictionaryBlock, input=["abc"], key="upper") == [("output", [])]


def test_find_in_dictionary_invalid_json_text_fails():
    with pytest.raises(ValueError, match="not valid JSON"):
        run(data.FindInDictionaryBlock, input="not json", key="a")


def test_remove_from_dictionary_missing_key_yields_error():
    assert run(data.RemoveFromDictionaryBlock, dictionary={"a": 1}, key="zz") == [
        ("error", "Key 'zz' not found in dictionary")
    ]


def test_remove_from_dictionary_without_return_value():
    original = {"a": 1, "b": 2}
    assert run(data.RemoveFromDictionaryBlock, dictionary=original, key="a") == [("updated_dictionary", {"b": 2})]
    assert original == {"a": 1, "b": 2}


def test_replace_dictionary_value_missing_key_yields_error():
    assert run(data.ReplaceDictionaryValueBlock, dictionary={"a": 1}, key="b", value=3) == [
        ("error", "Key 'b' not found in dictionary")
    ]


# --- lists ----------------------------------------------------------------------------------
def test_create_list_from_dynamic_pins():
    inputs = merge_execution_input({"values_$_1": "second", "values_$_0": "first"})
    assert inputs == {"values": ["first", "second"]}
    assert run(data.CreateListBlock, **inputs) == [("list", ["first", "second"])]


def test_create_list_empty_and_chunked():
    assert run(data.CreateListBlock, values=[]) == [("list", [])]
    assert run(data.CreateListBlock, values=[1, 2, 3], max_size=3) == [("list", [1, 2, 3])]
    # 8-character strings are two tokens each by the 4-characters-a-token estimate.
    words = ["aaaaaaaa", "bbbbbbbb", "cccccccc"]
    assert run(data.CreateListBlock, values=words, max_tokens=4) == [
        ("list", ["aaaaaaaa", "bbbbbbbb"]),
        ("list", ["cccccccc"]),
    ]
    # A value over the budget travels alone; no empty chunk is emitted before it.
    assert run(data.CreateListBlock, values=["x" * 40, "y"], max_tokens=4) == [("list", ["x" * 40]), ("list", ["y"])]


def test_add_to_list_positions():
    assert run(data.AddToListBlock, list=[1, 2, 3], entry=0, position=0) == [("updated_list", [0, 1, 2, 3])]
    assert run(data.AddToListBlock, list=[1, 2, 3], entry=9, position=-1) == [("updated_list", [1, 2, 9, 3])]
    assert run(data.AddToListBlock, list=[1], entries=[2, 3]) == [("updated_list", [1, 2, 3])]
    assert run(data.AddToListBlock) == [("updated_list", [])]


def test_find_in_list():
    assert run(data.FindInListBlock, list=["a", "b", "b"], value="b") == [("index", 1), ("found", True)]
    assert run(data.FindInListBlock, list=[], value="z") == [("found", False), ("not_found_value", "z")]


def test_get_list_item_out_of_range_yields_error():
    assert run(data.GetListItemBlock, list=[1, 2, 3], index=3) == [("error", "Index out of range")]
    assert run(data.GetListItemBlock, list=[1, 2, 3], index=-4) == [("error", "Index out of range")]
    assert run(data.GetListItemBlock, list=[], index=0) == [("error", "Index out of range")]
    assert run(data.GetListItemBlock, list=[1, 2, 3], index=-3) == [("item", 1)]


def test_remove_from_list_errors():
    assert run(data.RemoveFromListBlock, list=[1, 2], index=5) == [("error", "Index or value not found")]
    assert run(data.RemoveFromListBlock, list=[1, 2], value=7) == [("error", "Index or value not found")]
    assert run(data.RemoveFromListBlock, list=[1, 2]) == [("error", "Index or value not found")]
    assert run(data.RemoveFromListBlock, list=[1, 2, 3], index=-1, return_item=True) == [
        ("updated_list", [1, 2]),
        ("removed_item", 3),
    ]


def test_replace_list_item_out_of_range_and_empty_checks():
    assert run(data.ReplaceListItemBlock, list=[1], index=1, value=2) == [("error", "Index out of range")]
    assert run(data.ListIsEmptyBlock, list=[]) == [("is_empty", True)]
    assert run(data.DictionaryIsEmptyBlock, dictionary={"k": None}) == [("is_empty", False)]


# --- calculator -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "operation,a,b,expected",
    [
        ("Add", 2, 3, 5.0),
        ("Subtract", 2, 3, -1.0),
        ("Multiply", 2.5, 4, 10.0),
        ("Divide", 7, 2, 3.5),
        ("Power", 2, 10, 1024.0),
    ],
)
def test_calculator_operations(operation, a, b, expected):
    [(name, value)] = run(logic.CalculatorBlock, operation=operation, a=a, b=b)
    assert name == "result" and value == expected and isinstance(value, float)


def test_calculator_divide_by_zero_is_infinity():
    assert run(logic.CalculatorBlock, operation="Divide", a=1, b=0) == [("result", math.inf)]
    # AutoGPT answers +inf whatever the sign of a, rounded or not.
    assert run(logic.CalculatorBlock, operation="Divide", a=-1, b=0, round_result=True) == [("result", math.inf)]


def test_calculator_round_result():
    [(_, value)] = run(logic.CalculatorBlock, operation="Divide", a=10, b=4, round_result=True)
    assert value == 2 and isinstance(value, int)  # Python rounds half to even
    [(_, value)] = run(logic.CalculatorBlock, operation="Multiply", a=1.6, b=1, round_result=True)
    assert value == 2


def test_calculator_failures_give_nan():
    [(_, overflow)] = run(logic.CalculatorBlock, operation="Power", a=10, b=400)
    assert math.isnan(overflow)
    [(_, complex_root)] = run(logic.CalculatorBlock, operation="Power", a=-8, b=0.5)
    assert math.isnan(complex_root)
    [(_, rounded_inf)] = run(logic.CalculatorBlock, operation="Multiply", a=1e308, b=10, round_result=True)
    assert math.isnan(rounded_inf)


def test_calculator_numbers_as_text_and_bad_operation():
    assert run(logic.CalculatorBlock, operation="Add", a="1.5", b="2") == [("result", 3.5)]
    with pytest.raises(BlockInputError):
        run(logic.CalculatorBlock, operation="Modulo", a=1, b=2)


# --- count items ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "collection,count",
    [
        ([1, 2, 3], 3),
        ({"a": 1, "b": 2}, 2),
        ("hello", 5),
        ([], 0),
        (42, -1),
        (None, -1),
    ],
)
def test_count_items(collection, count):
    assert run(logic.CountItemsBlock, collection=collection) == [("count", count)]


# --- condition ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "operator,true_pair,false_pair",
    [
        ("==", (5, 5), (5, 6)),
        ("!=", ("a", "b"), ("a", "a")),
        (">", (10, 9), (9, 10)),
        ("<", (1, 2), (2, 1)),
        (">=", (3, 3), (2, 3)),
        ("<=", (3, 3), (4, 3)),
    ],
)
def test_condition_each_operator(operator, true_pair, false_pair):
    yes = run(
        logic.ConditionBlock, value1=true_pair[0], operator=operator, value2=true_pair[1], yes_value="Y", no_value="N"
    )
    assert yes == [("result", True), ("yes_output", "Y")]
    no = run(
        logic.ConditionBlock, value1=false_pair[0], operator=operator, value2=false_pair[1], yes_value="Y", no_value="N"
    )
    assert no == [("result", False), ("no_output", "N")]


def test_condition_numeric_strings_compare_as_numbers():
    # As text "10" < "9"; AutoGPT reads numeric strings as floats first.
    assert run(logic.ConditionBlock, value1="10", operator=">", value2=" 9 ")[0] == ("result", True)
    assert run(logic.ConditionBlock, value1="5", operator="==", value2=5)[0] == ("result", True)
    assert run(logic.ConditionBlock, value1=" abc ", operator="==", value2="abc")[0] == ("result", True)


def test_condition_default_outputs_are_the_read_values():
    assert run(logic.ConditionBlock, value1="10", operator=">", value2=5) == [("result", True), ("yes_output", 10.0)]
    assert run(logic.ConditionBlock, value1=1, operator=">", value2="2") == [("result", False), ("no_output", 2.0)]


def test_condition_incomparable_types_fail():
    with pytest.raises(ValueError, match="Comparison failed"):
        run(logic.ConditionBlock, value1="abc", operator=">", value2=5)
    # Equality across types is simply false.
    assert run(logic.ConditionBlock, value1="abc", operator="==", value2=5)[0] == ("result", False)


# --- if input matches -----------------------------------------------------------------------
def test_if_input_matches_converts_value_to_input_type():
    assert run(logic.IfInputMatchesBlock, input=10, value="10", yes_value="y") == [
        ("result", True),
        ("yes_output", "y"),
    ]
    assert run(logic.IfInputMatchesBlock, input=True, value="true", yes_value="y")[0] == ("result", True)
    assert run(logic.IfInputMatchesBlock, input=[1, 2], value="[1, 2]")[0] == ("result", True)
    assert run(logic.IfInputMatchesBlock, input="10", value=10)[0] == ("result", True)
    assert run(logic.IfInputMatchesBlock, input="a", value="b", no_value="n") == [("result", False), ("no_output", "n")]
    assert run(logic.IfInputMatchesBlock, input=None, value=None)[0] == ("result", True)
    assert run(logic.IfInputMatchesBlock, input=0, value=None)[0] == ("result", False)


# --- step through items ---------------------------------------------------------------------
def test_step_through_list():
    assert run(logic.StepThroughItemsBlock, items=["a", "b"]) == [("item", "a"), ("key", 0), ("item", "b"), ("key", 1)]


def test_step_through_dict_yields_values_with_keys():
    assert run(logic.StepThroughItemsBlock, items_object={"x": 1, "y": [2]}) == [
        ("item", 1),
        ("key", "x"),
        ("item", [2]),
        ("key", "y"),
    ]


def test_step_through_json_string():
    assert run(logic.StepThroughItemsBlock, items_str='[10, {"a": 1}]') == [
        ("item", 10),
        ("key", 0),
        ("item", {"a": 1}),
        ("key", 1),
    ]
    assert run(logic.StepThroughItemsBlock, items_str='{"k": "v"}') == [("item", "v"), ("key", "k")]


def test_step_through_list_given_as_json_text_on_items_pin():
    assert run_node_block(logic.StepThroughItemsBlock(), {"items": "[1, 2]"}) == [
        ("item", 1),
        ("key", 0),
        ("item", 2),
        ("key", 1),
    ]


def test_step_through_nothing_and_bad_input():
    assert run(logic.StepThroughItemsBlock) == []
    with pytest.raises(ValueError, match="not valid JSON"):
        run(logic.StepThroughItemsBlock, items_str="[1, 2")
    with pytest.raises(ValueError, match="Too many items"):
        run(logic.StepThroughItemsBlock, items=list(range(logic.MAX_ITEMS + 1)))
