"""XMLParserBlock: XML text to nested dicts, shaped like AutoGPT's gravitasml output.

Shape (what gravitasml produces, which downstream `parsed_xml_#_tag` links rely on):
tag names lower-cased; a leaf is `{tag: stripped text}`; an element with children is
`{tag: {child: ...}}` when the child tags are unique, `{tag: [{child: ...}, ...]}` when some
repeat. Text beside child elements and attributes are dropped (gravitasml has no attributes).
Parsing goes through defusedxml with DTDs forbidden, so entity bombs and external entities
fail as a block error instead of expanding. A bare `&` in text (a model writing "Q&A") is text,
as gravitasml reads it, not a syntax error.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import Field

from stratus.blocks.sdk import Block, BlockCategory, BlockOutput, BlockSchema, BlockSchemaOutput

MAX_XML_SIZE = 10 * 1024 * 1024  # characters, as AutoGPT
# An `&` that starts no entity or character reference ("Q&A", "R&D" in a model's answer):
# gravitasml takes it as text, so it is escaped before the strict parser sees it.
_BARE_AMPERSAND = re.compile(r"&(?!(?:[A-Za-z_][\w.-]*|#[0-9]+|#x[0-9A-Fa-f]+);)")


def _tag(element: Any) -> str:
    # ElementTree spells a namespaced tag `{uri}local`; keep the local name.
    return str(element.tag).rsplit("}", 1)[-1].lower()


def _value(element: Any) -> Any:
    children = list(element)
    if not children:
        return (element.text or "").strip()
    tags = [_tag(child) for child in children]
    if len(children) == 1:
        return element_to_dict(children[0])
    if len(set(tags)) == len(tags):
        merged: dict[str, Any] = {}
        for child in children:
            merged.update(element_to_dict(child))
        return merged
    return [element_to_dict(child) for child in children]


def element_to_dict(element: Any) -> dict[str, Any]:
    return {_tag(element): _value(element)}


def parse_xml(text: str) -> dict[str, Any]:
    """Raises ValueError with a user-facing message for bad, oversized or unsafe XML."""
    from xml.etree.ElementTree import ParseError

    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import fromstring

    if len(text) > MAX_XML_SIZE:
        raise ValueError(f"XML too large: {len(text)} characters > {MAX_XML_SIZE}")
    if not text.strip():
        raise ValueError("XML input is empty.")
    try:
        root = fromstring(
            _BARE_AMPERSAND.sub("&amp;", text), forbid_dtd=True, forbid_entities=True, forbid_external=True
        )
    except DefusedXmlException as exc:
        raise ValueError(f"Unsafe XML refused: {type(exc).__name__}") from exc
    except ParseError as exc:
        raise ValueError(f"Error in input xml syntax: {exc}") from exc
    return element_to_dict(root)


class XMLParserBlock(Block):
    id = "286380af-9529-4b55-8be0-1d7c854abdb5"
    description = "Parses XML and converts it to a dict"
    categories = {BlockCategory.BASIC}

    class Input(BlockSchema):
        input_xml: str = Field(description="input xml to be parsed")

    class Output(BlockSchemaOutput):
        parsed_xml: dict = Field(description="output parsed xml to dict")
        error: str = Field(default="", description="Error in parsing")

    input_schema, output_schema = Input, Output
    test_input = {"input_xml": "<tag1><tag2>content</tag2></tag1>"}
    test_output = [("parsed_xml", {"tag1": {"tag2": "content"}})]

    async def run(self, input_data: Input, **kwargs: Any) -> BlockOutput:
        try:
            parsed = parse_xml(input_data.input_xml)
        except ValueError as exc:
            yield "error", str(exc)
            return
        yield "parsed_xml", parsed
