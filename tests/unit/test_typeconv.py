"""The conversion table of stratus.blocks.typeconv: AutoGPT's type conversion
(backend/util/type.py, its cases in util/type_test.py) and the edge cases around it, and
the JSON form of block values (stratus.blocks.jsonable)."""

from __future__ import annotations

import datetime
import decimal
import enum
import math
from typing import Any, Optional

import pytest
from pydantic import BaseModel

from stratus.blocks.jsonable import to_json_value
from stratus.blocks.typeconv import ConversionError, convert, convert_to_annotation


class ShortText(str):  # a str subclass, as AutoGPT's ShortTextType / MediaFileType
    pass


class Mode(str, enum.Enum):
    FAST = "fast"


CASES: list[tuple[Any, Any, Any]] = [
    # numbers: through float, a container's length, 0 when it is no number
    (5.5, int, 5),
    ("5.5", int, 5),
    ([1, 2, 3], int, 3),
    ("7", Optional[int], 7),  # noqa: UP045 (typing.Union, not |)
    ("7", int | None, 7),
    ("5.5", float, 5.5),
    (5, float, 5.0),
    ("abc", float, 0.0),
    ("", int, 0),
    (None, float, 0.0),
    ({"a": 1}, float, 1.0),
    ([], int, 0),
    ([], Optional[int], 0),  # noqa: UP045 (typing.Union, not |)
    (" 3 ", int, 3),
    ("1e3", int, 1000),
    (True, int, True),  # already an int (bool is one): unchanged
    # booleans: only "true"/"1" (any case) are True among strings
    ("True", bool, True),
    ("False", bool, False),
    ("1", bool, True),
    ("yes", bool, False),
    ("on", bool, False),
    (" true", bool, False),
    (0, bool, False),
    (2.5, bool, True),
    ([], bool, False),
    ([0], bool, True),
    # strings: JSON text of anything that is not one
    (5, str, "5"),
    ({"a": 1, "b": 2}, str, '{"a": 1, "b": 2}'),
    ([1, 2, 3], str, "[1, 2, 3]"),
    ([], Optional[str], "[]"),  # noqa: UP045 (typing.Union, not |)
    ([], str, "[]"),
    (True, str, "true"),
    (None, str, "null"),
    (1.5, str, "1.5"),
    # lists: a JSON array string, a container's items, else one element (strings stripped)
    ("5", list, ["5"]),
    ((1, 2, 3), list, [1, 2, 3]),
    ({1, 2, 3}, list, [1, 2, 3]),
    ({"a": 1}, list, [("a", 1)]),
    ("[1, 2]", list, [1, 2]),
    ("  [1, 2]  ", list, [1, 2]),
    ("[not json]", list, ["[not json]"]),
    (' {"a": 1} ', list, ['{"a": 1}']),
    (7, list, [7]),
    ("5", list[int], [5]),
    ("[5,4,2]", list[int], [5, 4, 2]),
    ([5, 4, 2], list[str], ["5", "4", "2"]),
    # dicts: a JSON object string, else {"value": …}; sequences by index
    ("5", dict, {"value": 5}),
    ('{"a": 1, "b": 2}', dict, {"a": 1, "b": 2}),
    ("not json", dict, {"value": "not json"}),
    ("[1]", dict, {"value": [1]}),
    ([1, 2, 3], dict, {0: 1, 1: 2, 2: 3}),
    ((1, 2, 3), dict, {0: 1, 1: 2, 2: 3}),
    (4, dict, {"value": 4}),
    ({"a": "1"}, dict[str, int], {"a": 1}),
    ('{"n": "2"}', dict[str, float], {"n": 2.0}),
    # tuples and sets
    ("ab", tuple, ("a", "b")),
    ([1, "2"], tuple[int, int], (1, 2)),
    (5, tuple, (5,)),
    ("aab", set, {"a", "b"}),
    ([1, 1, 2], set[str], {"1", "2"}),
    (3, set, {3}),
    # unions: the first member that converts
    (5, str | int, "5"),
    ("5", int | str, 5),
    (None, Optional[int], None),  # noqa: UP045 (typing.Union, not |)
    # str subclasses
    ([], Optional[ShortText], ShortText("[]")),  # noqa: UP045 (typing.Union, not |)
    ([], ShortText, ShortText("[]")),
    (5, ShortText, ShortText("5")),
    ("fast", Mode, Mode.FAST),
    # targets it does not convert to
    ("5", Any, "5"),
    ({"x": 1}, BaseModel, {"x": 1}),
    ("2024-01-01", datetime.date, "2024-01-01"),
]


@pytest.mark.parametrize(("value", "target", "expected"), CASES, ids=[f"{v!r}->{t}" for v, t, _ in CASES])
def test_convert(value, target, expected):
    result = convert(value, target)
    assert result == expected and type(result) is type(expected)


def test_a_value_the_target_refuses_is_a_conversion_error():
    with pytest.raises(ConversionError):
        convert("slow", Mode)


def test_node_inputs_convert_unless_none_or_exactly_the_type():
    assert convert_to_annotation(None, int) is None
    assert convert_to_annotation("5", int) == 5
    assert convert_to_annotation(None, str) is None  # AutoGPT skips a missing value: not "null"
    sentinel = ["kept"]
    assert convert_to_annotation(sentinel, list) is sentinel


class Colour(enum.Enum):
    RED = "red"


class Point(BaseModel):
    x: int
    at: datetime.date


JSON_CASES: list[tuple[Any, Any]] = [
    (datetime.date(2024, 2, 29), "2024-02-29"),
    (datetime.datetime(2024, 1, 2, 3, 4, 5), "2024-01-02T03:04:05"),
    (datetime.time(1, 2), "01:02:00"),
    (datetime.timedelta(hours=1), 3600.0),
    (decimal.Decimal("3"), 3),
    (decimal.Decimal("3.10"), 3.1),
    (b"abc", "abc"),
    (b"\x80", "data:application/octet-stream;base64,gA=="),
    ({2, 1}, [1, 2]),
    ((1, (2, 3)), [1, [2, 3]]),
    (Colour.RED, "red"),
    (Mode.FAST, "fast"),
    (Point(x=1, at=datetime.date(2020, 1, 1)), {"x": 1, "at": "2020-01-01"}),
    ({1: "a", None: "b", 1.5: "c", False: "d"}, {"1": "a", "null": "b", "1.5": "c", "false": "d"}),
    ([{"d": datetime.date(2020, 1, 1)}], [{"d": "2020-01-01"}]),
    ((i for i in range(2)), [0, 1]),
    ("text", "text"),
    (None, None),
]


@pytest.mark.parametrize(("value", "expected"), JSON_CASES, ids=[repr(v)[:40] for v, _ in JSON_CASES])
def test_to_json_value(value, expected):
    assert to_json_value(value) == expected


def test_non_finite_floats_stay_floats():
    assert math.isinf(to_json_value(float("inf"))) and math.isnan(to_json_value(decimal.Decimal("NaN")))
