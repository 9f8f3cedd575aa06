"""A graph's input_schema and output_schema as AutoGPT builds them (BaseGraph._generate_schema
over each input block's Input.generate_schema), through the graphs and library APIs.

The expected properties are written from AutoGPT's code: the block's `value` pin schema (its
anyOf/type/format, a dropdown's enum, a table's items) without description and default, then
`secret`, `advanced` (only with a value), `title` (or the name), `description` (when set) and
the value as `default`; `required` lists the nodes without a value, in node order. Stratus's one
deliberate difference: a secret's value is never shown as `default`.
"""

from __future__ import annotations

INPUT = "c0a8e994-ebf1-4a9c-a4d8-89d09c86741b"
SHORT = "7fcd3bcb-8e1b-4e69-903d-32d3d4a92158"
LONG = "90a56ffb-7024-4b2b-ab50-e26c5e5ab8ba"
NUMBER = "96dae2bb-97a2-41c2-bd2f-13a3b5a8ea98"
DATE = "7e198b09-4994-47db-8b4d-952d98241817"
TIME = "2a1c757e-86cf-4c7e-aacf-060dc382e434"
FILE = "95ead23f-8283-4654-aef3-10c053b74a31"
DROPDOWN = "655d6fdf-a334-421c-b733-520549c07cd1"
TOGGLE = "cbf36ab5-df4a-43b6-8a7f-f7ed8652116e"
TABLE = "5603b273-f41e-4020-af7d-fbc9c6a8d928"
OUTPUT = "363ae599-353e-4804-937e-b2ee3cef3da4"

_NULL = {"type": "null"}


def _node(node_id: str, block_id: str, **input_default) -> dict:
    return {"id": node_id, "block_id": block_id, "input_default": input_default}


def _forms_graph() -> dict:
    return {
        "name": "every input kind",
        "description": "one node per AutoGPT input block",
        "nodes": [
            _node("topic", INPUT, name="topic", title="Topic", description="About", value="cats", advanced=True),
            _node("token", SHORT, name="api_token", secret=True, value="s3cr3t"),
            _node("notes", LONG, name="notes", advanced=True),  # advanced without a value: shown, required
            _node("count", NUMBER, name="count", value=3, description="How many"),
            _node("day", DATE, name="day"),
            _node("at", TIME, name="at", title="At", value="09:30:00"),
            _node("doc", FILE, name="doc", description=""),  # an empty description is left out
            _node("tone", DROPDOWN, name="tone", options=["formal", "casual"], value="formal"),
            _node("lang", DROPDOWN, name="lang", placeholder_values=["en", "fr"]),  # older exports' name
            _node("free", DROPDOWN, name="free", options=[], value="anything"),  # no options: no enum
            _node("loud", TOGGLE, name="loud", advanced=True),  # the block's own False is a value
            _node("rows", TABLE, name="rows", column_headers=["City", "Temp"], value=[{"City": "Oslo", "Temp": "3"}]),
            _node("grid", TABLE, name="grid"),
            _node("result", OUTPUT, name="result", title="Result", description="The text"),
            _node("fixed", OUTPUT, name="fixed", value="constant", advanced=True),
            _node("hidden", OUTPUT, name="hidden", secret=True, value="classified"),
            _node("plain", OUTPUT, name="plain", secret=True),
        ],
        "links": [
            {"source_id": "topic", "source_name": "result", "sink_id": "result", "sink_name": "value"},
            {"source_id": "count", "source_name": "result", "sink_id": "plain", "sink_name": "value"},
        ],
    }


def _flags(title: str, secret: bool = False, advanced: bool = False) -> dict:
    return {"secret": secret, "advanced": advanced, "title": title}


EXPECTED_INPUTS = {
    "topic": {**_flags("Topic", advanced=True), "description": "About", "default": "cats"},
    # AutoGPT would add "default": "s3cr3t".
    "api_token": {"anyOf": [{"format": "short-text", "type": "string"}, _NULL], **_flags("api_token", secret=True)},
    "notes": {"anyOf": [{"format": "long-text", "type": "string"}, _NULL], **_flags("notes")},
    "count": {"anyOf": [{"type": "integer"}, _NULL], **_flags("count"), "description": "How many", "default": 3},
    "day": {"anyOf": [{"format": "date", "type": "string"}, _NULL], **_flags("day")},
    "at": {"anyOf": [{"format": "time", "type": "string"}, _NULL], **_flags("At"), "default": "09:30:00"},
    "doc": {"anyOf": [{"format": "file", "type": "string"}, _NULL], **_flags("doc")},
    "tone": {
        "anyOf": [{"type": "string"}, _NULL],
        "enum": ["formal", "casual"],
        **_flags("tone"),
        "default": "formal",
    },
    "lang": {"anyOf": [{"type": "string"}, _NULL], "enum": ["en", "fr"], **_flags("lang")},
    "free": {"anyOf": [{"type": "string"}, _NULL], **_flags("free"), "default": "anything"},
    "loud": {"type": "boolean", **_flags("loud", advanced=True), "default": False},
    "rows": {
        "anyOf": [{"items": {"additionalProperties": True, "type": "object"}, "type": "array"}, _NULL],
        "type": "array",
        "format": "table",
        "items": {"type": "object", "properties": {"City": {"type": "string"}, "Temp": {"type": "string"}}},
        **_flags("rows"),
        "default": [{"City": "Oslo", "Temp": "3"}],
    },
    "grid": {
        "anyOf": [{"items": {"additionalProperties": True, "type": "object"}, "type": "array"}, _NULL],
        "type": "array",
        "format": "table",
        "items": {"type": "object", "properties": {f"Column {i}": {"type": "string"} for i in (1, 2, 3)}},
        **_flags("grid"),
    },
}
EXPECTED_OUTPUTS = {
    "result": {**_flags("Result"), "description": "The text"},
    "fixed": {**_flags("fixed", advanced=True), "default": "constant"},
    "hidden": _flags("hidden", secret=True),  # AutoGPT would add "default": "classified"
    "plain": _flags("plain", secret=True),
}


def _check(graph: dict) -> None:
    assert graph["input_schema"] == {
        "type": "object",
        "properties": EXPECTED_INPUTS,
        "required": ["notes", "day", "doc", "lang", "grid"],
    }
    assert graph["output_schema"] == {
        "type": "object",
        "properties": EXPECTED_OUTPUTS,
        "required": ["result", "plain"],
    }
    # Properties in node order, as AutoGPT's dict comprehension lists them.
    assert list(graph["input_schema"]["properties"]) == list(EXPECTED_INPUTS)


def test_every_input_block_kind_in_the_graph_input_schema(api):
    api.request("POST", "/api/auth/user", user="alice")
    status, created = api.request("POST", "/api/graphs", user="alice", json_body={"graph": _forms_graph()})
    assert status == 200, created
    _check(created)
    status, fetched = api.request("GET", f"/api/graphs/{created['id']}", user="alice")
    assert status == 200
    _check(fetched)
    status, version = api.request("GET", f"/api/graphs/{created['id']}/versions/1", user="alice")
    assert status == 200
    _check(version)
    # The library shows the same schemas (graphs.to_model builds them for both).
    status, body = api.request("GET", "/api/library/agents", user="alice")
    assert status == 200
    [agent] = [a for a in body["agents"] if a["graph_id"] == created["id"]]
    _check(agent)
    status, one = api.request("GET", f"/api/library/agents/{agent['id']}", user="alice")
    assert status == 200
    _check(one)


def test_an_input_given_no_value_explicitly_is_required_even_a_toggle(api):
    api.request("POST", "/api/auth/user", user="alice")
    graph = {
        "name": "explicit none",
        "nodes": [_node("t", TOGGLE, name="flag", value=None, advanced=True), _node("n", NUMBER, name="n", value=0)],
        "links": [],
    }
    status, created = api.request("POST", "/api/graphs", user="alice", json_body={"graph": graph})
    assert status == 200, created
    assert created["input_schema"] == {
        "type": "object",
        "properties": {
            # AutoGPT: value None -> no default, advanced dropped (a required field is shown).
            "flag": {"type": "boolean", **_flags("flag")},
            # 0 is a value: a default, not required.
            "n": {"anyOf": [{"type": "integer"}, _NULL], **_flags("n"), "default": 0},
        },
        "required": ["flag"],
    }
    assert created["output_schema"] == {"type": "object", "properties": {}, "required": []}
