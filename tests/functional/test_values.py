"""Values as AutoGPT handles them, through the graphs API, the orchestrator, the blocks API and
the WebSocket notifier: every value a block yields is stored (DynamoDB, S3 past the inline
limit), routed and sent as JSON (AutoGPT's SafeJson), and node inputs are converted as
AutoGPT's validate_exec converts them."""

from __future__ import annotations

import datetime
import decimal
import enum
import uuid

import pytest
from pydantic import BaseModel

from stratus.auth.jwt_tokens import Claims
from stratus.blocks.registry import get_block
from stratus.db import executions_table as repository
from stratus.db.executions_table import execution_pk, executions_table
from stratus.executions import launcher, values
from stratus.users.service import get_or_create_user
from tests.functional.test_orchestrator import drive
from tests.functional.test_realtime import Stream, _connect, _invoke, _send
from tests.graph_dicts import link_dict as _link
from tests.graph_dicts import node_dict as _node

DATE_INPUT = "7e198b09-4994-47db-8b4d-952d98241817"
TIME_INPUT = "2a1c757e-86cf-4c7e-aacf-060dc382e434"
TEXT_INPUT = "7fcd3bcb-8e1b-4e69-903d-32d3d4a92158"
NUMBER_INPUT = "96dae2bb-97a2-41c2-bd2f-13a3b5a8ea98"
OUTPUT = "363ae599-353e-4804-937e-b2ee3cef3da4"
STORE = "1ff065e9-88e8-4358-9d82-8dc91f622ba9"
CALC = "b1ab9b19-67a6-406d-abf5-2dba76d00c79"


@pytest.fixture()
def user(api, monkeypatch):
    monkeypatch.setattr(launcher, "_start_state_machine", lambda graph_exec_id: None)  # driven by hand
    get_or_create_user(Claims("alice", "alice@example.com", None, None))
    return "alice"


def _upload(api, graph: dict) -> dict:
    status, created = api.request("POST", "/api/graphs", user="alice", json_body={"graph": graph})
    assert status == 200, created
    return created


def _run(api, graph: dict, inputs: dict) -> tuple[dict, dict]:
    """(the execution, its node executions by the uploaded node's `name` or `input`)."""
    created = _upload(api, graph)
    execution = launcher.start_execution("alice", created["id"], 1, inputs)
    drive(execution.id)
    status, result = api.request("GET", f"/api/graphs/{created['id']}/executions/{execution.id}", user="alice")
    assert status == 200, result
    return result, _by_name(created, result)


def _by_name(created: dict, result: dict) -> dict[str, dict]:
    names = {n["id"]: n["input_default"].get("name") or n["input_default"].get("input") for n in created["nodes"]}
    return {names[n["node_id"]]: n for n in result["node_executions"]}


DATES = {
    "name": "dates",
    "nodes": [
        _node("day", DATE_INPUT, name="day"),
        _node("at", TIME_INPUT, name="at", value="09:30:00"),
        _node("out_day", OUTPUT, name="the day"),
        _node("out_at", OUTPUT, name="the time"),
    ],
    "links": [_link("day", "result", "out_day", "value"), _link("at", "result", "out_at", "value")],
}


def test_a_graph_with_date_and_time_inputs_completes_with_iso_outputs(api, user):
    result, nodes = _run(api, DATES, {"day": "2024-02-29"})
    assert result["status"] == "COMPLETED", result
    assert result["outputs"] == {"the day": ["2024-02-29"], "the time": ["09:30:00"]}
    assert nodes["day"]["output_data"] == {"result": ["2024-02-29"]}
    assert nodes["at"]["output_data"] == {"result": ["09:30:00"]}


def test_a_bad_date_input_is_a_422_naming_it(api, user):
    created = _upload(api, DATES)
    status, body = api.request(
        "POST", f"/api/graphs/{created['id']}/execute/1", user="alice", json_body={"inputs": {"day": "29/02/2024"}}
    )
    assert status == 422 and "inputs.day" in str(body["detail"])


def test_the_blocks_api_runs_date_and_time_inputs(api, user):
    status, outputs = api.request(
        "POST", f"/api/blocks/{DATE_INPUT}/execute", user="alice", json_body={"name": "d", "value": "2024-02-29"}
    )
    assert (status, outputs) == (200, {"result": ["2024-02-29"]})
    status, outputs = api.request(
        "POST", f"/api/blocks/{TIME_INPUT}/execute", user="alice", json_body={"name": "t", "value": "23:59:58"}
    )
    assert (status, outputs) == (200, {"result": ["23:59:58"]})
    # Idempotent replays store and return the same JSON.
    headers = {"idempotency-key": "date-1"}
    for _ in range(2):
        status, outputs = api.request(
            "POST",
            f"/api/blocks/{DATE_INPUT}/execute",
            user="alice",
            json_body={"name": "d", "value": "2000-01-01"},
            headers=headers,
        )
        assert (status, outputs) == (200, {"result": ["2000-01-01"]})


class Colour(enum.Enum):
    RED = "red"


class Inner(BaseModel):
    when: datetime.datetime
    tags: set[str]


class Outer(BaseModel):
    inner: Inner
    amount: decimal.Decimal


EXOTIC = {
    "date": datetime.date(2024, 2, 29),
    "time": datetime.time(9, 30, 15, 250000),
    "datetime": datetime.datetime(2024, 2, 29, 9, 30, tzinfo=datetime.UTC),
    "timedelta": datetime.timedelta(minutes=1, seconds=30),
    "utf8 bytes": "héllo".encode(),
    "binary bytes": b"\xff\x00\xfe",
    "set": {3},
    "tuple": (1, "two"),
    "decimal": decimal.Decimal("2.50"),
    "integral decimal": decimal.Decimal("7"),
    "enum": Colour.RED,
    "uuid": uuid.UUID("12345678-1234-5678-1234-567812345678"),
    "model": Outer(
        inner=Inner(when=datetime.datetime(2025, 1, 1, 12, 0, tzinfo=datetime.UTC), tags={"a"}),
        amount=decimal.Decimal("1.25"),
    ),
    "keys": {1: "one", None: "none", 2.5: "half"},
    "big": b"x" * (values.INLINE_LIMIT + 10),  # offloaded to S3
}
EXOTIC_JSON = {
    "date": "2024-02-29",
    "time": "09:30:15.250000",
    "datetime": "2024-02-29T09:30:00+00:00",
    "timedelta": 90.0,
    "utf8 bytes": "héllo",
    "binary bytes": "data:application/octet-stream;base64,/wD+",
    "set": [3],
    "tuple": [1, "two"],
    "decimal": 2.5,
    "integral decimal": 7,
    "enum": "red",
    "uuid": "12345678-1234-5678-1234-567812345678",
    "model": {"inner": {"when": "2025-01-01T12:00:00Z", "tags": ["a"]}, "amount": "1.25"},
    "keys": {"1": "one", "null": "none", "2.5": "half"},
    "big": "x" * (values.INLINE_LIMIT + 10),
}


@pytest.fixture()
def exotic_store_block(monkeypatch):
    """The StoreValue block yields every kind of value a block can yield, one per run."""
    block = get_block(STORE)

    async def run(self, input_data, **kwargs):
        yield "output", EXOTIC[input_data.input]

    monkeypatch.setattr(type(block), "run", run)
    return block


def test_every_value_a_block_yields_is_stored_offloaded_and_sent_as_json(api, user, management, exotic_store_block):
    stream = Stream()
    names = list(EXOTIC)
    graph = {
        "name": "exotic",
        "nodes": [
            *(_node(f"s{i}", STORE, input=name) for i, name in enumerate(names)),
            *(_node(f"o{i}", OUTPUT, name=name) for i, name in enumerate(names)),
        ],
        "links": [_link(f"s{i}", "output", f"o{i}", "value") for i in range(len(names))],
    }
    created = _upload(api, graph)
    _connect(api, management, "c1", "alice")
    execution = launcher.start_execution("alice", created["id"], 1, {})
    _send(api, "c1", "subscribe_graph_execution", {"graph_exec_id": execution.id})
    management.posted.clear()
    drive(execution.id)

    meta = repository.get_meta(execution.id)
    assert meta["status"] == "COMPLETED", meta
    assert values.resolve_outputs(meta["outputs"]) == {name: [EXOTIC_JSON[name]] for name in names}
    stored, _ = executions_table().query("PK = :pk", {":pk": execution_pk(execution.id)}, consistent=True)
    big_id = next(n["id"] for n in created["nodes"] if n["input_default"].get("input") == "big")
    big_node = next(i for i in stored if i.get("node_id") == big_id)
    assert set(big_node["output_data"]["output"][0]) == {"$s3"}  # offloaded, and resolved above

    status, result = api.request("GET", f"/api/graphs/{created['id']}/executions/{execution.id}", user="alice")
    assert status == 200 and result["outputs"] == {name: [EXOTIC_JSON[name]] for name in names}

    records = stream.records()
    _invoke(api, "NotifierFunction", {"Records": records})
    input_of = {n["id"]: n["input_default"].get("input") for n in created["nodes"]}
    sent = {}
    for message in management.messages("c1"):
        data = message["data"]
        if message["method"] == "node_execution_event" and data["status"] == "COMPLETED" and data["output_data"]:
            sent[input_of[data["node_id"]]] = data["output_data"]
    for name in names:
        if name != "big":  # past one WebSocket message's size: sent by reference
            assert sent[name] == {"output": [EXOTIC_JSON[name]]}, name


def test_node_inputs_are_converted_as_autogpt_converts_them(api, user):
    """Text inputs feeding the calculator's numbers: "7.5" → 7.5 and "abc" → 0.0 (AutoGPT's
    convert: float(value), else 0); a number input given "42" yields 42."""
    graph = {
        "name": "convert",
        "nodes": [
            _node("a", TEXT_INPUT, name="a"),
            _node("b", TEXT_INPUT, name="b"),
            _node("calc", CALC, operation="Add"),
            _node("n", NUMBER_INPUT, name="n"),
            _node("sum", OUTPUT, name="sum"),
            _node("echo", OUTPUT, name="echo"),
        ],
        "links": [
            _link("a", "result", "calc", "a"),
            _link("b", "result", "calc", "b"),
            _link("calc", "result", "sum", "value"),
            _link("n", "result", "echo", "value"),
        ],
    }
    result, nodes = _run(api, graph, {"a": "7.5", "b": "abc", "n": "42"})
    assert result["status"] == "COMPLETED", result
    assert result["outputs"] == {"sum": [7.5], "echo": [42]}
    assert nodes["n"]["output_data"] == {"result": [42]}
