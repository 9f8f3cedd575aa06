"""The run_exports tool's pure parts: inputs made from a graph's input schema, and a refused
upload's node errors grouped by block (sub-graph nodes named `<sub-graph id>/<node id>`)."""

from __future__ import annotations

from localcloud.run_exports import placeholder_inputs, refusal_by_block


def test_placeholder_inputs_use_defaults_choices_formats_and_types():
    schema = {
        "properties": {
            "tone": {"type": "string", "enum": ["Friendly", "Formal"]},
            "count": {"type": "number", "default": 3},
            "steps": {"type": "integer", "minimum": 2},
            "contact": {"type": "string", "format": "email", "title": "Contact"},
            "Your Email Address": {"type": "string", "title": "Your Email Address"},
            "Homepage URL": {"type": "string", "title": "Homepage URL"},
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
