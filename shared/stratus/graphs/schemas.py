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
    discriminator: str | None = None
    discriminator_mapping: dict[str, str] | None = None
    discriminator_values: tuple[Any, ...] = ()
    scopes: tuple[str, ...] = ()


def credentials_key(providers: list[str], types: list[str]) -> str:
    """AutoGPT's aggregated input name: `<providers>_<types>_credentials`, each list sorted and
    joined with "-" (one provider: `anthropic_api_key_credentials`)."""
    return f"{'-'.join(sorted(providers))}_{'-'.join(sorted(types))}_credentials"


def _discriminated_provider(value: Any, mapping: dict[str, str], providers: list[str]) -> str | None:
    if isinstance(value, str) and value in mapping:
        return mapping[value]
    if isinstance(value, str) and set(providers) <= set(_llm_providers()):
        # A model name outside AutoGPT's table: the LLM blocks' own routing (retired names, custom models).
        from stratus.blocks.ai.providers import provider_of

        return provider_of(value)
    return None


def _llm_providers() -> tuple[str, ...]:
    from stratus.blocks.ai.providers import LLM_PROVIDERS

    return LLM_PROVIDERS


def block_credentials_fields(block: Any, input_default: dict[str, Any] | None = None) -> dict[str, CredentialsField]:
    """The credential inputs of a block (of a node with these inputs), by input field name.

    A field with a discriminator (the LLM blocks' `model`) is narrowed to the provider the
    node's value maps to, as AutoGPT's `CredentialsFieldInfo.discriminate` (the block's default
    when the node sets none), and remembers the value. The graph-level key is AutoGPT's
    aggregated name (`credentials_key`): every node of that provider shares one graph input.
    """
    fields: dict[str, CredentialsField] = {}
    for name, field in block.input_schema.model_fields.items():
        if name != "credentials" and not name.endswith("_credentials"):
            continue
        extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
        providers = sorted(extra.get("credentials_provider") or [extra.get("provider") or "unknown"])
        types = sorted(extra.get("credentials_types") or ["api_key"])
        discriminator = extra.get("discriminator")
        mapping = extra.get("discriminator_mapping")
        values: tuple[Any, ...] = ()
        if isinstance(discriminator, str) and isinstance(mapping, dict):
            value = (input_default or {}).get(discriminator)
            if value is None and discriminator in block.input_schema.model_fields:
                value = block.input_schema.model_fields[discriminator].get_default(call_default_factory=True)
            provider = _discriminated_provider(value, mapping, providers) if value is not None else None
            if provider is not None:
                providers, values = [provider], (value,)
        fields[name] = CredentialsField(
            credentials_key(providers, types),
            providers,
            types,
            discriminator if isinstance(discriminator, str) else None,
            mapping if isinstance(mapping, dict) else None,
            values,
            tuple(extra.get("credentials_scopes") or ()),
        )
    return fields


def _credentials_property(field: CredentialsField, values: list[Any], scopes: list[str]) -> dict[str, Any]:
    """One aggregated credentials input, in AutoGPT's shape (its credentials_input_schema)."""

    def one_of(options: list[str]) -> dict[str, Any]:
        return {"enum": options} if len(options) > 1 else {"const": options[0]}

    prop: dict[str, Any] = {
        "credentials_provider": field.providers,
        "credentials_types": field.types,
        "type": "object",
        "properties": {
            "id": {"title": "Id", "type": "string"},
            "title": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None, "title": "Title"},
            "provider": {"title": "Provider", "type": "string", **one_of(field.providers)},
            "type": {"title": "Type", "type": "string", **one_of(field.types)},
        },
        "required": ["id", "provider", "type"],
    }
    if scopes:
        prop["credentials_scopes"] = scopes
    if field.discriminator:
        prop["discriminator"] = field.discriminator
    if field.discriminator_mapping:
        prop["discriminator_mapping"] = field.discriminator_mapping
    if values:
        prop["discriminator_values"] = values
    return prop


def credentials_input_schema(graph: Graph) -> dict[str, Any]:
    """The credentials inputs of the graph's nodes as AutoGPT aggregates them: one per provider
    (after discrimination by each node's model) and type, named `<provider>_<type>_credentials`,
    with the discriminator values of the nodes merged into it.

    Executions take them as `credentials_inputs` {key: {id, provider, type, title}}; they win
    over the nodes' own `credentials` (AutoGPT's input masks). None is required (AutoGPT
    requires them): a node without usable credentials runs on the platform's key of its provider.
    """
    grouped: dict[str, tuple[CredentialsField, list[Any], list[str]]] = {}
    for node in graph.nodes:
        block = get_block(node.block_id)
        if block is None:
            continue
        for field in block_credentials_fields(block, node.input_default).values():
            first, values, scopes = grouped.setdefault(field.key, (field, [], []))
            values.extend(value for value in field.discriminator_values if value not in values)
            scopes.extend(scope for scope in field.scopes if scope not in scopes)
    properties = {key: _credentials_property(field, values, scopes) for key, (field, values, scopes) in grouped.items()}
    return {"type": "object", "properties": properties, "required": []}


def coerce_inputs(graph: Graph, inputs: dict[str, Any]) -> dict[str, Any]:
    """The graph inputs converted to their input blocks' `value` types as AutoGPT's
    validate_exec does (typeconv, then the block's schema); Unprocessable naming the input
    when a value cannot become that type. Inputs no input block names pass unchanged."""
    from stratus.blocks.sdk import BlockInputError
    from stratus.errors import Unprocessable

    coerced = dict(inputs)
    for node in graph.nodes:
        block = get_block(node.block_id)
        name = node.input_default.get("name")
        if block is None or block.block_type is not BlockType.INPUT or not name or inputs.get(name) is None:
            continue
        try:
            checked = block.validate_input({**node.input_default, "value": inputs[name]})
        except BlockInputError as error:
            message = error.errors.get("value") or next(iter(error.errors.values()), "invalid")
            raise Unprocessable(f"inputs.{name}: {message}") from None
        # Every INPUT block's schema has a `value` pin (BlockSchema itself declares none).
        value = vars(checked)["value"]  # date and time inputs stay JSON strings, as sent
        coerced[name] = value.isoformat() if hasattr(value, "isoformat") else value
    return coerced
