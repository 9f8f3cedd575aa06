"""A graph's input_schema, output_schema and credentials_input_schema (JSON schemas)."""

from __future__ import annotations

from typing import Any, NamedTuple

from stratus.blocks.registry import get_block
from stratus.blocks.sdk import BlockType
from stratus.graphs.models import Graph

_INPUT_TYPES = {  # AutoGPT's typed input blocks
    "96dae2bb-97a2-41c2-bd2f-13a3b5a8ea98": {"type": "number"},
    "7e198b09-4994-47db-8b4d-952d98241817": {"type": "string", "format": "date"},
    "2a1c757e-86cf-4c7e-aacf-060dc382e434": {"type": "string", "format": "time"},
    "cbf36ab5-df4a-43b6-8a7f-f7ed8652116e": {"type": "boolean"},  # toggle
    "95ead23f-8283-4654-aef3-10c053b74a31": {"type": "string", "format": "file"},
    "655d6fdf-a334-421c-b733-520549c07cd1": {"type": "string"},  # dropdown (its options: the enum)
}


def _block_input_schema(block: Any, input_default: dict[str, Any]) -> dict[str, Any]:
    """What a node's settings add to its input's schema (AutoGPT's generate_schema): a dropdown's
    options as the enum, a table's columns."""
    extra = getattr(block, "graph_input_schema", None)
    return extra(input_default) if callable(extra) else {}


def input_node_value(block: Any, input_default: dict[str, Any]) -> Any:
    """An input node's default value: its own `value`, else its block's (a toggle's False).
    None: the graph input is required."""
    if "value" in input_default:
        return input_default["value"]
    field = block.input_schema.model_fields.get("value")
    return field.get_default(call_default_factory=True) if field is not None else None


def input_schema(graph: Graph) -> dict[str, Any]:
    properties: dict[str, Any] = {}
    required: list[str] = []
    for node in graph.nodes:
        block = get_block(node.block_id)
        if block is None or block.block_type is not BlockType.INPUT:
            continue
        name = node.input_default.get("name")
        if not name:
            continue
        prop: dict[str, Any] = dict(_INPUT_TYPES.get(node.block_id, {}))
        prop.update(_block_input_schema(block, node.input_default))
        prop["title"] = node.input_default.get("title") or name
        if node.input_default.get("description"):
            prop["description"] = node.input_default["description"]
        prop["secret"] = bool(node.input_default.get("secret", False))
        prop["advanced"] = bool(node.input_default.get("advanced", False))
        value = input_node_value(block, node.input_default)
        if value is not None:
            if not prop["secret"]:  # a secret's value is never shown (nor copied into sub-agent nodes)
                prop["default"] = value
        else:
            required.append(name)
        properties[name] = prop
    return {"type": "object", "properties": properties, "required": sorted(set(required))}


def output_schema(graph: Graph) -> dict[str, Any]:
    properties: dict[str, Any] = {}
    for node in graph.nodes:
        block = get_block(node.block_id)
        if block is None or block.block_type is not BlockType.OUTPUT:
            continue
        name = node.input_default.get("name")
        if name:
            prop: dict[str, Any] = {"title": node.input_default.get("title") or name}
            if node.input_default.get("description"):
                prop["description"] = node.input_default["description"]
            properties[name] = prop
    return {"type": "object", "properties": properties, "required": []}


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
