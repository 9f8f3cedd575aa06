"""Graph validation, reported as AutoGPT does: node_errors = {node_id: {pin: message}}.

Graphs may loop: like AutoGPT's validate_graph, nothing here refuses a directed cycle (a node
feeding itself or an earlier node). Loops end by their blocks' readiness and conditions, and
an execution is bounded by its node-run budget and the user's credits.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from stratus.blocks.dynamic_pins import base_name
from stratus.blocks.registry import get_block
from stratus.blocks.sdk import Block, BlockType
from stratus.errors import StratusError
from stratus.graphs.models import Graph
from stratus.payload_limits import check_structure

MAX_NODES = 1_000
MAX_LINKS = 5_000
# Types a value of the source type can never become (AutoGPT converts everything else).
_INCOMPATIBLE = {
    ("array", "integer"),
    ("array", "number"),
    ("array", "boolean"),
    ("object", "integer"),
    ("object", "number"),
    ("object", "boolean"),
}


class GraphValidationError(StratusError):
    status_code = 400

    def __init__(self, message: str, node_errors: dict[str, dict[str, str]]):
        super().__init__({"type": "validation_error", "message": message, "node_errors": node_errors})
        self.node_errors = node_errors


class GraphTooLarge(StratusError):
    status_code = 413


def check_limits(graph: Graph) -> None:
    if len(graph.nodes) > MAX_NODES:
        raise GraphTooLarge(f"Graph has {len(graph.nodes)} nodes; the limit is {MAX_NODES} nodes.")
    if len(graph.links) > MAX_LINKS:
        raise GraphTooLarge(f"Graph has {len(graph.links)} links; the limit is {MAX_LINKS} links.")
    for index, node in enumerate(graph.nodes):
        check_structure(node.input_default, f"nodes[{index}].input_default")
        check_structure(node.metadata, f"nodes[{index}].metadata")


def _pin_type(schema: dict[str, Any], pin: str) -> str | None:
    prop = schema.get("properties", {}).get(pin, {})
    kind = prop.get("type")
    return kind if isinstance(kind, str) else None


def input_pins(block: Block, input_default: dict[str, Any] | None = None) -> set[str]:
    return block.input_schema.field_names() | block.node_pins(input_default or {})[0]


def output_pins(block: Block, input_default: dict[str, Any] | None = None) -> set[str]:
    pins = block.output_schema.field_names() | block.node_pins(input_default or {})[1]
    return pins | {"error"} if block.has_error_pin() else pins


def validate_graph(graph: Graph, for_run: bool = False) -> None:
    """Raise GraphValidationError listing every problem found, per node and pin."""
    check_limits(graph)
    errors: dict[str, dict[str, str]] = defaultdict(dict)
    nodes = {node.id: node for node in graph.nodes}
    blocks: dict[str, Block] = {}
    for node in graph.nodes:
        block = get_block(node.block_id)
        if block is None:
            errors[node.id]["block_id"] = f"Unknown block {node.block_id!r}."
        else:
            blocks[node.id] = block
    linked_inputs: dict[str, set[str]] = defaultdict(set)
    for link in graph.links:
        source, sink = nodes.get(link.source_id), nodes.get(link.sink_id)
        if source is None:
            errors[link.sink_id][link.sink_name] = f"Link from missing node {link.source_id!r}."
        if sink is None:
            errors[link.source_id][link.source_name] = f"Link to missing node {link.sink_id!r}."
        if source is None or sink is None:
            continue
        source_block, sink_block = blocks.get(source.id), blocks.get(sink.id)
        source_pin, sink_pin = base_name(link.source_name), base_name(link.sink_name)
        if source_block and source_pin not in output_pins(source_block, source.input_default):
            errors[source.id][link.source_name] = f"{source_block.name} has no output pin {source_pin!r}."
        if sink_block and sink_pin not in input_pins(sink_block, sink.input_default):
            errors[sink.id][link.sink_name] = f"{sink_block.name} has no input pin {sink_pin!r}."
        linked_inputs[sink.id].add(sink_pin)
        if source_block and sink_block and source_pin == link.source_name and sink_pin == link.sink_name:
            source_type = _pin_type(source_block.output_schema.jsonschema(), source_pin)
            sink_type = _pin_type(sink_block.input_schema.jsonschema(), sink_pin)
            if (source_type, sink_type) in _INCOMPATIBLE:
                errors[sink.id][link.sink_name] = (
                    f"Type mismatch: {source_block.name}.{source_pin} gives {source_type}, "
                    f"{sink_block.name}.{sink_pin} needs {sink_type}."
                )
    if for_run:
        for node in graph.nodes:
            block = blocks.get(node.id)
            if block is None or block.block_type in (BlockType.INPUT, BlockType.NOTE):
                continue
            provided = {base_name(pin) for pin in node.input_default} | linked_inputs[node.id]
            for pin in sorted(block.input_schema.required_fields() - provided):
                errors[node.id][pin] = f"Required input {pin!r} has no value and no link."
    if errors:
        count = sum(len(pins) for pins in errors.values())
        raise GraphValidationError(f"Graph has {count} validation error(s).", dict(errors))
