"""Engine-level blocks of issue 13 in real executions and through the graphs API: the typed
input blocks in a graph's input_schema (a dropdown's enum), and Persist/RetrieveInformation on
the users table (per user, scoped within one agent or across a user's agents)."""

from __future__ import annotations

import pytest

from stratus.db import users_table
from tests.functional.test_state_machine import _wait, sfn_api  # noqa: F401 - the fixture

INPUT = "c0a8e994-ebf1-4a9c-a4d8-89d09c86741b"
DROPDOWN = "655d6fdf-a334-421c-b733-520549c07cd1"
TOGGLE = "cbf36ab5-df4a-43b6-8a7f-f7ed8652116e"
TABLE = "5603b273-f41e-4020-af7d-fbc9c6a8d928"
FILE = "95ead23f-8283-4654-aef3-10c053b74a31"
OUTPUT = "363ae599-353e-4804-937e-b2ee3cef3da4"
PERSIST = "1d055e55-a2b9-4547-8311-907d05b0304d"
RETRIEVE = "d8710fc9-6e29-481e-a7d5-165eb16f8471"


def _link(source: str, source_name: str, sink: str, sink_name: str) -> dict:
    return {"source_id": source, "source_name": source_name, "sink_id": sink, "sink_name": sink_name}


def _create(api, user: str, graph: dict) -> dict:
    status, created = api.request("POST", "/api/graphs", user=user, json_body={"graph": graph})
    assert status == 200, created
    return created


# --- typed inputs in the graph's input_schema ----------------------------------------------------
def _forms_graph() -> dict:
    return {
        "name": "forms",
        "nodes": [
            {"id": "tone", "block_id": DROPDOWN, "input_default": {"name": "tone", "options": ["formal", "casual"]}},
            # AutoGPT's older exports name the options `placeholder_values`.
            {
                "id": "lang",
                "block_id": DROPDOWN,
                "input_default": {"name": "lang", "placeholder_values": ["en", "fr"], "value": "en"},
            },
            {"id": "loud", "block_id": TOGGLE, "input_default": {"name": "loud"}},
            {"id": "rows", "block_id": TABLE, "input_default": {"name": "rows", "column_headers": ["City", "Temp"]}},
            {"id": "doc", "block_id": FILE, "input_default": {"name": "doc"}},
            {"id": "out", "block_id": OUTPUT, "input_default": {"name": "tone_out"}},
        ],
        "links": [_link("tone", "result", "out", "value")],
    }


def test_dropdown_options_are_the_enum_of_the_graph_input_schema(api):
    api.request("POST", "/api/auth/user", user="alice")
    created = _create(api, "alice", _forms_graph())
    status, fetched = api.request("GET", f"/api/graphs/{created['id']}", user="alice")
    assert status == 200
    for graph in (created, fetched):
        properties = graph["input_schema"]["properties"]
        assert properties["tone"]["anyOf"] == [{"type": "string"}, {"type": "null"}]
        assert properties["tone"]["enum"] == ["formal", "casual"]
        assert properties["lang"]["enum"] == ["en", "fr"] and properties["lang"]["default"] == "en"
        assert properties["loud"]["type"] == "boolean" and properties["loud"]["default"] is False
        assert properties["rows"]["type"] == "array" and properties["rows"]["format"] == "table"
        assert properties["rows"]["items"]["properties"] == {"City": {"type": "string"}, "Temp": {"type": "string"}}
        assert properties["doc"]["anyOf"] == [{"format": "file", "type": "string"}, {"type": "null"}]
        # A toggle has a value of its own (False): only inputs without any value are required,
        # in node order as AutoGPT lists them.
        assert graph["input_schema"]["required"] == ["tone", "rows", "doc"]


def test_a_graph_with_the_typed_inputs_runs(sfn_api):  # noqa: F811
    sfn_api.request("POST", "/api/auth/user", user="alice")
    created = _create(sfn_api, "alice", _forms_graph())
    inputs = {"tone": "casual", "rows": [{"City": "Oslo", "Temp": "3"}], "doc": "data:text/plain;base64,aGk="}
    status, execution = sfn_api.request(
        "POST", f"/api/graphs/{created['id']}/execute/1", user="alice", json_body={"inputs": inputs}
    )
    assert status == 200, execution
    assert _wait(execution["id"])["status"] == "SUCCEEDED"
    _, result = sfn_api.request("GET", f"/api/graphs/{created['id']}/executions/{execution['id']}", user="alice")
    assert result["status"] == "COMPLETED" and result["outputs"] == {"tone_out": ["casual"]}


# --- Persist / Retrieve information ---------------------------------------------------------------
def _memory_graph(name: str) -> dict:
    """Reads both keys first (unlinked nodes start the run), then stores the input under both."""
    return {
        "name": name,
        "nodes": [
            {"id": "v", "block_id": INPUT, "input_default": {"name": "v"}},
            {"id": "p_in", "block_id": PERSIST, "input_default": {"key": "note", "scope": "within_agent"}},
            {"id": "p_all", "block_id": PERSIST, "input_default": {"key": "note", "scope": "across_agents"}},
            {
                "id": "r_in",
                "block_id": RETRIEVE,
                "input_default": {"key": "note", "scope": "within_agent", "default_value": "nothing yet"},
            },
            {
                "id": "r_all",
                "block_id": RETRIEVE,
                "input_default": {"key": "note", "scope": "across_agents", "default_value": "nothing yet"},
            },
            {"id": "o_stored", "block_id": OUTPUT, "input_default": {"name": "stored"}},
            {"id": "o_in", "block_id": OUTPUT, "input_default": {"name": "within"}},
            {"id": "o_all", "block_id": OUTPUT, "input_default": {"name": "across"}},
        ],
        "links": [
            _link("v", "result", "p_in", "value"),
            _link("v", "result", "p_all", "value"),
            _link("p_in", "value", "o_stored", "value"),
            _link("r_in", "value", "o_in", "value"),
            _link("r_all", "value", "o_all", "value"),
        ],
    }


def _run(api, user: str, graph: dict, value) -> dict:
    status, execution = api.request(
        "POST", f"/api/graphs/{graph['id']}/execute/{graph['version']}", user=user, json_body={"inputs": {"v": value}}
    )
    assert status == 200, execution
    assert _wait(execution["id"])["status"] == "SUCCEEDED"
    _, result = api.request("GET", f"/api/graphs/{graph['id']}/executions/{execution['id']}", user=user)
    assert result["status"] == "COMPLETED", result
    return result["outputs"]


@pytest.fixture()
def users(sfn_api):  # noqa: F811
    for user in ("alice", "bob"):
        sfn_api.request("POST", "/api/auth/user", user=user)
    return sfn_api


def test_persisted_information_outlives_the_run_within_one_agent_or_across_a_users_agents(users):
    api = users
    first, second = _create(api, "alice", _memory_graph("first")), _create(api, "alice", _memory_graph("second"))

    outputs = _run(api, "alice", first, {"n": 1})
    assert outputs == {"stored": [{"n": 1}], "within": ["nothing yet"], "across": ["nothing yet"]}
    # The next run of the same agent reads both; another agent of hers only the across_agents key.
    assert _run(api, "alice", first, "two") == {"stored": ["two"], "within": [{"n": 1}], "across": [{"n": 1}]}
    assert _run(api, "alice", second, "three") == {"stored": ["three"], "within": ["nothing yet"], "across": ["two"]}
    assert _run(api, "alice", first, "four")["within"] == ["two"]  # its own key, not the other agent's

    # The items are alice's, in her partition of the users table, keyed as AutoGPT keys them.
    assert users_table.get_kv_data("alice", f"agent#{first['id']}#note") == '"four"'
    assert users_table.get_kv_data("alice", f"agent#{second['id']}#note") == '"three"'
    assert users_table.get_kv_data("alice", "global#note") == '"four"'


def test_two_users_never_see_each_others_information(users):
    api = users
    alices = _create(api, "alice", _memory_graph("mine"))
    _run(api, "alice", alices, "alice's secret")
    bobs = _create(api, "bob", _memory_graph("his"))
    assert _run(api, "bob", bobs, "bob's note") == {
        "stored": ["bob's note"],
        "within": ["nothing yet"],
        "across": ["nothing yet"],
    }
    assert _run(api, "alice", alices, "again")["across"] == ["alice's secret"]
    assert users_table.get_kv_data("bob", "global#note") == '"bob\'s note"'
    assert users_table.get_kv_data("bob", f"agent#{alices['id']}#note") is None


def test_falsy_values_read_back_as_the_default_as_in_autogpt(users):
    api = users
    graph = _create(api, "alice", _memory_graph("zero"))
    assert _run(api, "alice", graph, 0)["stored"] == [None]  # AutoGPT's upsert answers None for 0
    assert _run(api, "alice", graph, 5)["within"] == ["nothing yet"]


def test_the_store_refuses_keys_and_values_dynamodb_cannot_hold(aws):
    from stratus.executions.block_services import UserKeyValueStore

    store = UserKeyValueStore("alice")
    assert store.put("global#k", {"a": [1, 2.5]}, "node-1") == {"a": [1, 2.5]} and store.get("global#k") == {
        "a": [1, 2.5]
    }
    assert store.get("global#missing") is None
    with pytest.raises(ValueError, match="key is too long"):
        store.put("global#" + "k" * 1_100, 1, "node-1")
    with pytest.raises(ValueError, match="Value too large to persist"):
        store.put("global#big", "x" * 400_000, "node-1")
    assert store.get("global#big") is None
