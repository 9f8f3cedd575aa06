"""Text blocks: regex match/extract, Jinja2 templates, combine, split, replace.

Ids, pins, defaults and yields follow AutoGPT's `backend/blocks/text.py`.
"""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic import Field

from stratus.blocks.sdk import Block, BlockCategory, BlockOutput, BlockSchema, BlockSchemaOutput

# Limits against runaway regexes and templates (AutoGPT has the same kind of caps).
MAX_TEXT_LENGTH = 1_000_000
MAX_MATCHES = 1000
MAX_MATCH_LENGTH = 10_000
MAX_EXPONENT = 1000
MAX_RANGE = 10_000
MAX_SEQUENCE_REPEAT = 10_000


def _as_text(value: Any) -> str:
    # Non-string inputs are matched against their JSON form, as AutoGPT does.
    return value if isinstance(value, str) else json.dumps(value)


def _regex_flags(case_sensitive: bool, dot_all: bool) -> int:
    flags = 0 if case_sensitive else re.IGNORECASE
    return flags | re.DOTALL if dot_all else flags


# --- sandboxed Jinja2 ----------------------------------------------------------------
def _format_number(value: Any, format_string: str | None = None) -> Any:
    # AutoGPT replaces Jinja's `format` filter: `{{ x | format("%.2f") }}`.
    return format_string % float(value) if format_string else value


def _safe_range(*args: int) -> range:
    result = range(*args)
    if len(result) > MAX_RANGE:
        raise OverflowError(f"range() too large ({len(result)} items, max {MAX_RANGE})")
    return result


def _check_power(base: Any, exponent: Any) -> None:
    for number, what in ((exponent, "Exponent"), (base, "Base")):
        if isinstance(number, (int, float)) and abs(number) > MAX_EXPONENT:
            raise OverflowError(f"{what} too large for exponentiation (max {MAX_EXPONENT})")


def _check_repeat(left: Any, right: Any) -> None:
    for sequence, count in ((left, right), (right, left)):
        if (
            isinstance(sequence, (str, list, tuple))
            and isinstance(count, int)
            and len(sequence) * count > MAX_SEQUENCE_REPEAT
        ):
            raise OverflowError(f"Sequence repeat too large (max {MAX_SEQUENCE_REPEAT} items)")


def _environment(autoescape: bool) -> Any:
    from jinja2 import BaseLoader
    from jinja2.sandbox import SandboxedEnvironment

    class LimitedEnvironment(SandboxedEnvironment):
        """The sandbox blocks unsafe attributes (`__class__`, `__globals__`, …); this also
        caps `**`, `pow()` and sequence repetition so a template cannot exhaust memory/CPU."""

        intercepted_binops = frozenset(["**", "*"])

        def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
            if operator == "**":
                _check_power(left, right)
            elif operator == "*":
                _check_repeat(left, right)
            return super().call_binop(context, operator, left, right)

        def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805
            if __obj is pow and len(args) >= 2:
                _check_power(args[0], args[1])
            return super().call(__context, __obj, *args, **kwargs)

    env = LimitedEnvironment(loader=BaseLoader(), autoescape=autoescape)
    env.globals.clear()
    env.globals["range"] = _safe_range
    for name in ("pprint", "tojson", "urlize", "xmlattr"):
        env.filters.pop(name, None)
    env.filters["format"] = _format_number
    return env


def render_template(template: str, values: dict[str, Any] | None, autoescape: bool = False) -> str:
    """Render a Jinja2 template in a sandbox. Raises ValueError on any template failure."""
    try:
        return _environment(autoescape).from_string(template).render(values or {})
    except Exception as exc:  # SecurityError, syntax errors, OverflowError, 1/0, …
        raise ValueError(f"{type(exc).__name__}: {exc}") from exc


# --- blocks ----------------------------------------------------------------------------
class MatchTextPatternBlock(Block):
    id = "3060088f-6ed9-4928-9ba7-9c92823a7ccd"
    description = (
        "Matches text against a regex pattern and forwards data to positive or negative output based on the match."
    )
    categories = {BlockCategory.TEXT}

    class Input(BlockSchema):
        text: Any = Field(description="Text to match")
        match: str = Field(description="Pattern (Regex) to match")
        data: Any = Field(description="Data to be forwarded to output")
        case_sensitive: bool = Field(default=True, description="Case sensitive match")
        dot_all: bool = Field(default=True, description="Dot matches all")

    class Output(BlockSchemaOutput):
        positive: Any = Field(description="Output data if match is found")
        negative: Any = Field(description="Output data if match is not found")

    input_schema, output_schema = Input, Output
    test_input = [
        {"text": "ABC", "match": "ab", "data": "X", "case_sensitive": False},
        {"text": "ABC", "match": "ab", "data": "Y", "case_sensitive": True},
        {"text": "Hello World!", "match": ".orld.+", "data": "Z"},
        {"text": "Hello World!", "match": "World![a-z]+", "data": "Z"},
    ]
    test_output = [("positive", "X"), ("negative", "Y"), ("positive", "Z"), ("negative", "Z")]

    async def run(self, input_data: Input, **kwargs: Any) -> BlockOutput:
        # A falsy `data` forwards the text itself (AutoGPT: `data or text`).
        output = input_data.data or input_data.text
        flags = _regex_flags(input_data.case_sensitive, input_data.dot_all)
        try:
            found = re.search(input_data.match, _as_text(input_data.text)[:MAX_TEXT_LENGTH], flags)
        except re.error as exc:
            yield "error", f"Invalid regex pattern {input_data.match!r}: {exc}"
            return
        yield ("positive" if found else "negative"), output


class ExtractTextInformationBlock(Block):
    id = "3146e4fe-2cdd-4f29-bd12-0c9d5bb4deb0"
    description = "This block extracts the text from the given text using the pattern (regex)."
    categories = {BlockCategory.TEXT}

    class Input(BlockSchema):
        text: Any = Field(description="Text to parse")
        pattern: str = Field(description="Pattern (Regex) to parse")
        group: int = Field(default=0, description="Group number to extract")
        case_sensitive: bool = Field(default=True, description="Case sensitive match")
        dot_all: bool = Field(default=True, description="Dot matches all")
        find_all: bool = Field(default=False, description="Find all matches")

    class Output(BlockSchemaOutput):
        positive: str = Field(description="Extracted text")
        negative: str = Field(description="Original text")
        matched_results: list[str] = Field(description="List of matched results")
        matched_count: int = Field(description="Number of matched results")

    input_schema, output_schema = Input, Output
    test_input = [
        {"text": "Hello, World!", "pattern": "Hello, (.+)", "group": 1},
        {"text": "Hello, World!", "pattern": "Hello, (.+)", "group": 0},
        {"text": "Hello, World!", "pattern": "Hello, (.+)", "group": 2},
        {"text": "Hello, World!", "pattern": "hello,", "case_sensitive": False},
        {"text": "Hello, World!! Hello, Earth!!", "pattern": "Hello, (\\S+)", "group": 1, "find_all": False},
        {"text": "Hello, World!! Hello, Earth!!", "pattern": "Hello, (\\S+)", "group": 1, "find_all": True},
    ]
    test_output = [
        ("positive", "World!"),
        ("matched_results", ["World!"]),
        ("matched_count", 1),
        ("positive", "Hello, World!"),
        ("matched_results", ["Hello, World!"]),
        ("matched_count", 1),
        ("negative", "Hello, World!"),
        ("matched_results", []),
        ("matched_count", 0),
        ("positive", "Hello,"),
        ("matched_results", ["Hello,"]),
        ("matched_count", 1),
        ("positive", "World!!"),
        ("matched_results", ["World!!"]),
        ("matched_count", 1),
        ("positive", "World!!"),
        ("positive", "Earth!!"),
        ("matched_results", ["World!!", "Earth!!"]),
        ("matched_count", 2),
    ]

    async def run(self, input_data: Input, **kwargs: Any) -> BlockOutput:
        text = _as_text(input_data.text)[:MAX_TEXT_LENGTH]
        flags = _regex_flags(input_data.case_sensitive, input_data.dot_all)
        group = input_data.group
        matches: list[str] = []
        try:
            for match in re.finditer(input_data.pattern, text, flags):
                if len(matches) >= MAX_MATCHES or (matches and not input_data.find_all):
                    break
                # A group the pattern does not have is skipped, not an error.
                if 0 <= group <= len(match.groups()):
                    matches.append((match.group(group) or "")[:MAX_MATCH_LENGTH])
        except re.error:
            # AutoGPT treats a bad pattern as "no match" rather than failing the node.
            matches = []
        for found in matches:
            yield "positive", found
        if not matches:
            yield "negative", input_data.text
        yield "matched_results", matches
        yield "matched_count", len(matches)


class FillTextTemplateBlock(Block):
    id = "db7d8f02-2f44-4c55-ab7a-eae0941f0c30"
    description = "This block formats the given texts using the format template."
    categories = {BlockCategory.TEXT}

    class Input(BlockSchema):
        values: dict[str, Any] = Field(
            description="Values (dict) to be used in format. These values can be used by putting "
            "them in double curly braces in the format template. e.g. {{value_name}}."
        )
        format: str = Field(description="Template to format the text using `values`. Use Jinja2 syntax.")
        escape_html: bool = Field(
            default=False,
            description="Whether to escape special characters in the inserted values to be "
            "HTML-safe. Enable for HTML output, disable for plain text.",
        )

    class Output(BlockSchemaOutput):
        output: str = Field(description="Formatted text")

    input_schema, output_schema = Input, Output
    test_input = [
        {"values": {"name": "Alice", "hello": "Hello", "world": "World!"}, "format": "{{hello}}, {{ world }} {{name}}"},
        {"values": {"list": ["Hello", " World!"]}, "format": "{% for item in list %}{{ item }}{% endfor %}"},
        {"values": {}, "format": "{% set name = 'Alice' %}Hello, World! {{ name }}"},
    ]
    test_output = [
        ("output", "Hello, World! Alice"),
        ("output", "Hello World!"),
        ("output", "Hello, World! Alice"),
    ]

    async def run(self, input_data: Input, **kwargs: Any) -> BlockOutput:
        try:
            rendered = render_template(input_data.format, input_data.values, input_data.escape_html)
        except ValueError as exc:
            yield "error", f"Template error: {exc}"
            return
        yield "output", rendered


class CombineTextsBlock(Block):
    id = "e30a4d42-7b7d-4e6a-b36e-1f9b8e3b7d85"
    description = "This block combines multiple input texts into a single output text."
    categories = {BlockCategory.TEXT}

    class Input(BlockSchema):
        input: list[str] = Field(description="text input to combine")
        delimiter: str = Field(default="", description="Delimiter to combine texts")

    class Output(BlockSchemaOutput):
        output: str = Field(description="Combined text")

    input_schema, output_schema = Input, Output
    test_input = [
        {"input": ["Hello world I like ", "cake and to go for walks"]},
        {"input": ["This is a test", "Hi!"], "delimiter": "! "},
    ]
    test_output = [
        ("output", "Hello world I like cake and to go for walks"),
        ("output", "This is a test! Hi!"),
    ]

    async def run(self, input_data: Input, **kwargs: Any) -> BlockOutput:
        yield "output", input_data.delimiter.join(input_data.input)


class TextSplitBlock(Block):
    id = "d5ea33c8-a575-477a-b42f-2fe3be5055ec"
    description = "This block is used to split a text into a list of strings."
    categories = {BlockCategory.TEXT}

    class Input(BlockSchema):
        text: str = Field(description="The text to split.")
        delimiter: str = Field(description="The delimiter to split the text by.")
        strip: bool = Field(default=True, description="Whether to strip the text.")

    class Output(BlockSchemaOutput):
        texts: list[str] = Field(description="The text split into a list of strings.")

    input_schema, output_schema = Input, Output
    test_input = [
        {"text": "Hello, World!", "delimiter": ","},
        {"text": "Hello, World!", "delimiter": ",", "strip": False},
    ]
    test_output = [("texts", ["Hello", "World!"]), ("texts", ["Hello", " World!"])]

    async def run(self, input_data: Input, **kwargs: Any) -> BlockOutput:
        if not input_data.text:
            yield "texts", []
            return
        if not input_data.delimiter:
            yield "error", "The delimiter must not be empty"
            return
        texts = input_data.text.split(input_data.delimiter)
        yield "texts", [part.strip() for part in texts] if input_data.strip else texts


class TextReplaceBlock(Block):
    id = "7e7c87ab-3469-4bcc-9abe-67705091b713"
    description = "This block is used to replace a text with a new text."
    categories = {BlockCategory.TEXT}

    class Input(BlockSchema):
        text: str = Field(description="The text to replace.")
        old: str = Field(description="The old text to replace.")
        new: str = Field(description="The new text to replace with.")

    class Output(BlockSchemaOutput):
        output: str = Field(description="The text with the replaced text.")

    input_schema, output_schema = Input, Output
    test_input = {"text": "Hello, World!", "old": "Hello", "new": "Hi"}
    test_output = [("output", "Hi, World!")]

    async def run(self, input_data: Input, **kwargs: Any) -> BlockOutput:
        yield "output", input_data.text.replace(input_data.old, input_data.new)
