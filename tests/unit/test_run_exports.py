"""The run_exports tool's pure parts: inputs made from a graph's input schema, and a refused
upload's node errors grouped by block (sub-graph nodes named `<sub-graph id>/<node id>`)."""

from __future__ import annotations

from localcloud.run_exports import export_files, placeholder_inputs, refusal_by_block


def test_placeholder_inputs_use_defaults_choices_formats_and_types():
    schema = {
        "properties": {
            "tone": {"type": "string", "enum": ["Friendly", "Formal"]},
            "count": {"type": "number", "default": 3},
            "steps": {"type": "integer", "minimum": 2},
            "contact": {"type": "string", "format": "email", "title": "Contact"},
            "Your Email Address": {"type": "string", "title": "Your Email Address"},
            "Homepage URL": {"type": "string", "title": "Homepage URL"},
            "Website Topic": {"type": "string", "title": "Website Topic"},
            "day": {"type": "string", "format": "date"},
            "flag": {"type": "boolean"},
            "tags": {"type": "array", "items": {"type": "string"}, "title": "Tags"},
            "options": {"type": "object"},
            "maybe": {"anyOf": [{"type": "integer"}, {"type": "null"}]},
            "topic": {"type": "string", "title": "Topic", "default": ""},
        }
    }
    assert placeholder_inputs(schema) == {
        "tone": "Friendly",
        "count": 3,
        "steps": 2,
        "contact": "someone@example.com",
        "Your Email Address": "someone@example.com",
        "Homepage URL": "https://example.com",
        "Website Topic": "Example Website Topic",
        "day": "2026-01-15",
        "flag": True,
        "tags": ["Example value"],  # an item schema has no title of its own
        "options": {},
        "maybe": 1,
        "topic": "Example Topic",
    }


def test_refusal_by_block_groups_node_errors_by_the_block_of_their_node():
    export = {
        "nodes": [{"id": "n1", "block_id": "block-a"}, {"id": "n2", "block_id": "block-a"}],
        "sub_graphs": [{"id": "sub", "nodes": [{"id": "n1", "block_id": "block-b"}]}],
    }
    detail = {
        "node_errors": {
            "n1": {"block_id": "Unknown block 'block-a'."},
            "n2": {"block_id": "Unknown block 'block-a'."},
            "sub/n1": {"block_id": "Unknown block 'block-b'.", "x": "No pin x."},
            "ghost": {"y": "Link from missing node."},
        }
    }
    assert refusal_by_block(export, detail) == {
        "block-a": ["block_id: Unknown block 'block-a'.", "block_id: Unknown block 'block-a'."],
        "block-b": ["block_id: Unknown block 'block-b'.", "x: No pin x."],
        "node ghost": ["y: Link from missing node."],
    }


def test_stub_unknown_blocks_stands_in_with_the_pins_the_export_links():
    import asyncio

    from localcloud.run_exports import _STUBBED, stub_unknown_blocks
    from stratus.blocks.registry import all_blocks, get_block

    unknown = "00000000-0000-4000-8000-0000000057ab"
    export = {
        "nodes": [
            {"id": "mail", "block_id": unknown, "input_default": {"query": "inbox"}},
            {"id": "count", "block_id": "f66a3543-28d3-4ab5-8945-9b336371e2ce", "input_default": {}},
            {"id": "find", "block_id": "0e50422c-6dee-4145-83d6-3a5a392f65de", "input_default": {"key": "subject"}},
            {"id": "out", "block_id": "363ae599-353e-4804-937e-b2ee3cef3da4", "input_default": {"name": "o"}},
        ],
        "links": [
            {"source_id": "out", "source_name": "output", "sink_id": "mail", "sink_name": "label"},
            {"source_id": "mail", "source_name": "emails", "sink_id": "count", "sink_name": "items"},
            {"source_id": "mail", "source_name": "email", "sink_id": "find", "sink_name": "input"},
            {"source_id": "mail", "source_name": "result_#_status", "sink_id": "out", "sink_name": "value"},
        ],
    }
    try:
        assert stub_unknown_blocks([export]) == [unknown]
        stub = get_block(unknown)
        assert stub is not None and stub.input_schema.field_names() == {"query", "label"}
        assert stub.output_schema.field_names() == {"emails", "email", "result", "error"}

        async def outputs() -> dict:
            return {name: value async for name, value in stub.run(None)}

        assert asyncio.run(outputs()) == {
            "emails": [{"text": "Stub emails item 1"}, {"text": "Stub emails item 2"}],  # StepThroughItems wants a list
            "email": {"subject": "Stub email"},  # the key the FindInDictionary sink looks up
            "result": {"status": "Stub result_#_status"},  # a dynamic output pin reads a key
        }
    finally:
        all_blocks().pop(unknown, None)
        _STUBBED.discard(unknown)


def test_a_folder_gives_its_graph_files_and_a_named_file_is_kept(tmp_path):
    (tmp_path / "agent.json").write_text('{"name": "a", "nodes": [], "links": []}')
    (tmp_path / "inputs.json").write_text('{"topic": "not a graph"}')
    (tmp_path / "broken.json").write_text("{not json")
    assert export_files([str(tmp_path)]) == [tmp_path / "agent.json", tmp_path / "broken.json"]
    assert export_files([str(tmp_path / "inputs.json")]) == [tmp_path / "inputs.json"]
