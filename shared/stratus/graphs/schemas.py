"""A graph's input_schema, output_schema and credentials_input_schema (JSON schemas)."""

from __future__ import annotations

from collections.abc import Iterable
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


def credentials_input_schema(graph: Graph, sub_graphs: Iterable[Graph] = ()) -> dict[str, Any]:
    """The credentials inputs of the nodes of the graph and of `sub_graphs` (the graphs its
    AgentExecutor nodes run, at any depth: AutoGPT's `for graph in [self] + self.sub_graphs`)
    as AutoGPT aggregates them: one per provider
    (after discrimination by each node's model) and type, named `<provider>_<type>_credentials`,
    with the discriminator values of the nodes merged into it.

    Executions take them as `credentials_inputs` {key: {id, provider, type, title}}; they win
    over the nodes' own `credentials` (AutoGPT's input masks). None is required (AutoGPT
    requires them): a node without usable credentials runs on the platform's key of its provider.
    """
    grouped: dict[str, tuple[CredentialsField, list[Any], list[str]]] = {}
    for node in [node for each in (graph, *sub_graphs) for node in each.nodes]:
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
