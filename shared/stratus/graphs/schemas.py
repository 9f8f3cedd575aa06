"""A graph's input_schema, output_schema and credentials_input_schema (JSON schemas)."""

from __future__ import annotations

from typing import Any, NamedTuple

from stratus.blocks.registry import get_block
from stratus.blocks.sdk import BlockType
from stratus.graphs.models import Graph


def input_node_value(block: Any, input_default: dict[str, Any]) -> Any:
    """An input node's default value: its own `value`, else its block's (a toggle's False).
    None: the graph input is required."""
    if "value" in input_default:
        return input_default["value"]
    field = block.input_schema.model_fields.get("value")
    return field.get_default(call_default_factory=True) if field is not None else None


def _interface_schema(graph: Graph, block_type: BlockType) -> dict[str, Any]:
    """AutoGPT's BaseGraph._generate_schema over the graph's input (or output) nodes.

    Each property is the block's `generate_schema(input_default)` (its `value` pin's schema:
    type or anyOf, format, enum, a table's items) without its description and default, then
    `secret`, `advanced` (only when the node has a value: a field without one is required and
    shown), `title` (the node's, else its name), the node's `description` when it has one and
    its value as `default`. `required`: the names of nodes without a value, in node order.

    One deliberate difference: a secret node's value is never shown as `default` (AutoGPT shows
    it); the input still counts as having a value (not required, `advanced` as set).
    """
    properties: dict[str, Any] = {}
    required: list[str] = []
    for node in graph.nodes:
        block = get_block(node.block_id)
        generate = getattr(block, "generate_schema", None)
        if block is None or block.block_type is not block_type or not callable(generate):
            continue
        name = node.input_default.get("name")
        if not name:  # never stored: validation requires an interface node's name
            continue
        value = input_node_value(block, node.input_default)
        secret = bool(node.input_default.get("secret", False))
        prop = {k: v for k, v in generate(node.input_default).items() if k not in ("description", "default")}
        prop["secret"] = secret
        prop["advanced"] = bool(node.input_default.get("advanced", False)) and value is not None
        prop["title"] = node.input_default.get("title") or name
        if node.input_default.get("description"):
            prop["description"] = node.input_default["description"]
        if value is not None and not secret:  # a secret's value is never shown (nor copied into sub-agent nodes)
            prop["default"] = value
        properties[name] = prop
        if value is None and name not in required:
            required.append(name)
    return {"type": "object", "properties": properties, "required": required}


def input_schema(graph: Graph) -> dict[str, Any]:
    return _interface_schema(graph, BlockType.INPUT)


def output_schema(graph: Graph) -> dict[str, Any]:
    """The graph's outputs as AutoGPT lists them: required are the output nodes without a value
    of their own (normally all: their value arrives over a link)."""
    return _interface_schema(graph, BlockType.OUTPUT)


class CredentialsField(NamedTuple):
    key: str  # the graph-level input name
    providers: list[str]
    types: list[str]


def block_credentials_fields(block: Any) -> dict[str, CredentialsField]:
    """The credential inputs of a block, by input field name.

    The graph-level key is AutoGPT's aggregated name `<provider>_<type>_credentials` (e.g.
    `openai_api_key_credentials`): every node of that provider shares one graph input.
    """
    fields: dict[str, CredentialsField] = {}
    for name, field in block.input_schema.model_fields.items():
        if name != "credentials" and not name.endswith("_credentials"):
            continue
        extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
        providers = sorted(extra.get("credentials_provider") or [extra.get("provider") or "unknown"])
        types = sorted(extra.get("credentials_types") or ["api_key"])
        fields[name] = CredentialsField(f"{'_'.join(providers)}_{'_'.join(types)}_credentials", providers, types)
    return fields


def credentials_input_schema(graph: Graph) -> dict[str, Any]:
    """Credential inputs of the graph's blocks, one per provider and type (AI blocks add them).

    Executions take them as `credentials_inputs` {key: {id, provider, type, title}}; nodes
    whose own `credentials` are empty use them.
    """
    properties: dict[str, Any] = {}
    for node in graph.nodes:
        block = get_block(node.block_id)
        if block is None:
            continue
        for name, field in block_credentials_fields(block).items():
            properties[field.key] = {
                "type": "object",
                "title": name,
                "credentials_provider": field.providers,
                "credentials_types": field.types,
                "properties": {
                    "id": {"type": "string"},
                    "title": {"type": "string"},
                    "provider": {"type": "string"},
                    "type": {"type": "string"},
                },
                "required": ["id", "provider", "type"],
            }
    # None is required: a node without credentials runs on the platform's key.
    return {"type": "object", "properties": properties, "required": []}


def coerce_inputs(graph: Graph, inputs: dict[str, Any]) -> dict[str, Any]:
    """The graph inputs converted to their input blocks' `value` types as AutoGPT's
    validate_exec does (typeconv, then the block's schema); Unprocessable naming the input
    when a value cannot become that type. Inputs no input block names pass unchanged."""
    from stratus.blocks.jsonable import to_json_value
    from stratus.blocks.sdk import BlockInputError
    from stratus.errors import Unprocessable

    coerced = dict(inputs)
    for node in graph.nodes:
        block = get_block(node.block_id)
        name = node.input_default.get("name")
        if block is None or block.block_type is not BlockType.INPUT or not name or inputs.get(name) is None:
            continue
        try:
            given = {**node.input_default, "value": inputs[name]}
            checked = block.validate_input(block.convert_input(given, strict=True))
        except BlockInputError as error:
            message = error.errors.get("value") or next(iter(error.errors.values()), "invalid")
            raise Unprocessable(f"inputs.{name}: {message}") from None
        # Every INPUT block's schema has a `value` pin (BlockSchema itself declares none).
        coerced[name] = to_json_value(vars(checked)["value"])  # a date input stays an ISO string
    return coerced
