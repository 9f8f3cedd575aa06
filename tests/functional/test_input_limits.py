"""Input limits (issue 11) at every entry point, through the handlers on moto: depth, map keys,
request size and graph input types are refused with a 4xx naming the field, and nothing is
stored (no META item, no graph version, no preset or schedule, no credit charged)."""

from __future__ import annotations

import json
import os

import pytest

from localcloud.provision import create_schedule_groups
from stratus.aws import client
from stratus.db.agents_table.table import agents_table
from stratus.db.executions_table import executions_table, meta_key
from stratus.executions import launcher
from stratus.payload_limits import MAX_DEPTH, MAX_KEY_LENGTH, MAX_REQUEST_BYTES
from tests.functional.test_executions_api import put_execution
from tests.functional.test_state_machine import _wait, sfn_api  # noqa: F401 - fixture

INPUT, NUMBER, OUTPUT = (
    "c0a8e994-ebf1-4a9c-a4d8-89d09c86741b",
    "96dae2bb-97a2-41c2-bd2f-13a3b5a8ea98",
    "363ae599-353e-4804-937e-b2ee3cef3da4",
)
STORE_VALUE = "1ff065e9-88e8-4358-9d82-8dc91f622ba9"  # a core block (no cost)


def nested(depth: int, leaf=1):
    """A value with `depth` levels of maps ({"a": …}); depth 0 is the leaf."""
    value = leaf
    for _ in range(depth):
        value = {"a": value}
    return value


def echo_graph() -> dict:
    """`text` (any value) → output `echo`; `x` (a number input, optional) → output `n`."""
    return {
        "name": "echo",
        "nodes": [
            {"id": "in", "block_id": INPUT, "input_default": {"name": "text"}},
            {"id": "num", "block_id": NUMBER, "input_default": {"name": "x", "value": 7}},
            {"id": "out", "block_id": OUTPUT, "input_default": {"name": "echo"}},
            {"id": "nout", "block_id": OUTPUT, "input_default": {"name": "n"}},
        ],
        "links": [
            {"source_id": "in", "source_name": "result", "sink_id": "out", "sink_name": "value"},
            {"source_id": "num", "source_name": "result", "sink_id": "nout", "sink_name": "value"},
        ],
    }


@pytest.fixture()
def alice(api, monkeypatch):
    monkeypatch.setattr(launcher, "_start_state_machine", lambda graph_exec_id: None)
    assert api.request("POST", "/api/auth/user", user="alice")[0] == 200
    status, graph = api.request("POST", "/api/graphs", user="alice", json_body={"graph": echo_graph()})
    assert status == 200, graph
    return graph


def meta_count() -> int:
    return sum(1 for i in _scan(executions_table().name) if i["SK"]["S"] == "META")


def _scan(table_name: str) -> list[dict]:
    return client("dynamodb").scan(TableName=table_name)["Items"]


def balance(api, user: str = "alice") -> int:
    return api.request("GET", "/api/credits", user=user)[1]["credits"]


def refused(result: tuple[int, dict], status: int, *fragments: str) -> str:
    code, body = result
    assert code == status, body
    detail = body["detail"] if isinstance(body["detail"], str) else json.dumps(body["detail"])
    for fragment in fragments:
        assert fragment in detail, detail
    return detail


def execute(api, graph: dict, body: dict, user: str = "alice"):
    return api.request("POST", f"/api/graphs/{graph['id']}/execute/{graph['version']}", user=user, json_body=body)


# --- graph execute ------------------------------------------------------------------------
@pytest.mark.parametrize("depth", [MAX_DEPTH, 200])
def test_execute_refuses_inputs_nested_too_deep(api, alice, depth):
    credits = balance(api)
    detail = refused(
        execute(api, alice, {"inputs": {"text": nested(depth)}}),
        422,
        "nesting deeper than 32 levels",
        "inputs.text.a.a",
    )
    assert detail.startswith("inputs.text")
    assert meta_count() == 0 and balance(api) == credits


def test_execute_accepts_inputs_at_the_depth_limit(api, alice):
    status, execution = execute(api, alice, {"inputs": {"text": nested(MAX_DEPTH - 1)}})  # inputs itself is level 1
    assert status == 200, execution
    assert executions_table().get(meta_key(execution["id"]))["inputs"]["text"] == nested(MAX_DEPTH - 1)


@pytest.mark.parametrize(
    "inputs, fragment",
    [
        ({"": "x"}, "inputs: empty map key"),
        ({"text": [{"ok": 1}, {"": 2}]}, "inputs.text[1]: empty map key"),
        ({"text": {"k" * (MAX_KEY_LENGTH + 1): 1}}, f"the limit is {MAX_KEY_LENGTH}"),
        ({"text": {"$s3": "someone-elses/value.json"}}, "inputs.text: map key '$s3' is reserved"),
    ],
)
def test_execute_refuses_bad_map_keys(api, alice, inputs, fragment):
    refused(execute(api, alice, {"inputs": inputs}), 422, fragment)
    assert meta_count() == 0


def test_execute_refuses_bad_credentials_inputs_keys(api, alice):
    refused(
        execute(api, alice, {"inputs": {"text": "hi"}, "credentials_inputs": {"": {"id": "x"}}}),
        422,
        "credentials_inputs: empty map key",
    )
    assert meta_count() == 0


def test_a_number_input_is_coerced_or_refused_naming_the_input(api, alice):
    refused(execute(api, alice, {"inputs": {"text": "hi", "x": {"x": 1}}}), 422, "inputs.x")
    refused(execute(api, alice, {"inputs": {"text": "hi", "x": "seven"}}), 422, "inputs.x")
    assert meta_count() == 0
    status, execution = execute(api, alice, {"inputs": {"text": "hi", "x": "5"}})  # AutoGPT's convert: "5" → 5
    assert status == 200, execution
    assert execution["inputs"]["x"] == 5
    assert executions_table().get(meta_key(execution["id"]))["inputs"]["x"] == 5


def test_a_request_over_the_size_limit_is_413(api, alice):
    credits = balance(api)
    body = {"inputs": {"text": "x" * (MAX_REQUEST_BYTES + 10)}}
    refused(execute(api, alice, body), 413, str(MAX_REQUEST_BYTES))
    assert meta_count() == 0 and balance(api) == credits


def test_external_api_execute_checks_inputs(api, alice):
    status, key = api.request(
        "POST",
        "/api/api-keys",
        user="alice",
        json_body={"name": "k", "permissions": ["EXECUTE_GRAPH"], "description": ""},
    )
    assert status == 200, key
    result = api.request(
        "POST",
        f"/external-api/v1/graphs/{alice['id']}/execute/1",
        headers={"x-api-key": key["plain_text_key"]},
        json_body={"node_input": {"text": nested(60)}},
    )
    refused(result, 422, "inputs.text", "nesting deeper")
    assert meta_count() == 0


# --- large inputs run, by reference -------------------------------------------------------
def test_a_one_megabyte_input_runs_to_completion_and_reads_back(sfn_api):  # noqa: F811
    api = sfn_api
    api.request("POST", "/api/auth/user", user="alice")
    _, graph = api.request("POST", "/api/graphs", user="alice", json_body={"graph": echo_graph()})
    big = "b" * 1_000_000
    status, execution = execute(api, graph, {"inputs": {"text": big}})
    assert status == 200, execution
    assert execution["inputs"]["text"] == big
    stored = executions_table().get(meta_key(execution["id"]))["inputs"]
    assert set(stored["text"]) == {"$s3"}  # by reference, like a node value
    assert _wait(execution["id"])["status"] == "SUCCEEDED"
    status, result = api.request("GET", f"/api/graphs/{graph['id']}/executions/{execution['id']}", user="alice")
    assert status == 200 and result["status"] == "COMPLETED"
    assert result["inputs"]["text"] == big and result["outputs"]["echo"] == [big]
    status, listed = api.request("GET", "/api/executions", user="alice")
    assert status == 200 and listed[0]["inputs"]["text"] == big


def test_many_inputs_just_under_the_inline_limit_still_fit_one_item(api, alice):
    from stratus.executions.values import INLINE_LIMIT

    inputs = {"text": "t", **{f"extra{i}": "e" * (INLINE_LIMIT - 100) for i in range(8)}}
    status, execution = execute(api, alice, {"inputs": inputs})
    assert status == 200, execution
    stored = executions_table().get(meta_key(execution["id"]))["inputs"]
    references = [name for name, value in stored.items() if isinstance(value, dict)]
    assert len(references) == 7 and stored["text"] == "t"  # the largest went out until the rest fits
    assert len(json.dumps(stored)) < INLINE_LIMIT + 1000
    status, read = api.request("GET", f"/api/graphs/{alice['id']}/executions/{execution['id']}", user="alice")
    assert read["inputs"] == inputs


# --- listing items written before the fix -------------------------------------------------
def test_the_listing_survives_items_written_before_the_limits(api, alice):
    put_execution("old-deep", inputs={"text": nested(40)}, at=1)
    put_execution("old-not-a-map", inputs="just text", at=2)
    put_execution("old-gone", inputs={"text": {"$s3": "missing/object.json"}}, at=3)
    put_execution("fine", inputs={"text": "hi"}, at=4)
    status, listed = api.request("GET", "/api/executions", user="alice")
    assert status == 200, listed
    entries = {e["id"]: e for e in listed}
    assert set(entries) == {"old-deep", "old-not-a-map", "old-gone", "fine"}
    assert entries["old-deep"]["inputs"] == {"text": nested(40)}
    assert entries["old-not-a-map"]["inputs"] == {} and entries["old-gone"]["inputs"] == {}
    assert entries["fine"]["inputs"] == {"text": "hi"}
    status, page = api.request("GET", "/api/graphs/graph-1/executions", user="alice")
    assert status == 200 and len(page["executions"]) == 4


# --- blocks -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "data, fragment",
    [
        ({"input": nested(200)}, "input.input.a"),
        ({"input": {"": 1}}, "input.input: empty map key"),
    ],
)
def test_block_execute_checks_its_input(api, alice, data, fragment):
    credits = balance(api)
    refused(api.request("POST", f"/api/blocks/{STORE_VALUE}/execute", user="alice", json_body=data), 422, fragment)
    assert balance(api) == credits


# --- graphs -------------------------------------------------------------------------------
def graph_versions() -> int:
    return sum(1 for i in _scan(os.environ["GRAPHS_TABLE"]) if i["SK"]["S"].startswith("V#"))


@pytest.mark.parametrize(
    "node_field, value, fragment",
    [
        ("input_default", {"name": "text", "value": nested(200)}, "nodes[0].input_default.value.a"),
        ("input_default", {"name": "text", "": 1}, "nodes[0].input_default: empty map key"),
        ("metadata", {"position": {"": 1}}, "nodes[0].metadata.position: empty map key"),
    ],
)
def test_graph_create_and_update_check_every_node(api, alice, node_field, value, fragment):
    before = graph_versions()
    graph = echo_graph()
    graph["nodes"][0][node_field] = value
    refused(api.request("POST", "/api/graphs", user="alice", json_body={"graph": graph}), 422, fragment)
    refused(api.request("PUT", f"/api/graphs/{alice['id']}", user="alice", json_body=graph), 422, fragment)
    sub = {**echo_graph(), "id": "sub-1"}
    sub["nodes"][0][node_field] = value
    refused(
        api.request("POST", "/api/graphs", user="alice", json_body={"graph": {**echo_graph(), "sub_graphs": [sub]}}),
        422,
        "sub_graphs[sub-1]." + fragment,
    )
    assert graph_versions() == before


# --- presets ------------------------------------------------------------------------------
def presets_stored() -> int:
    return sum(1 for i in _scan(agents_table().name) if i["SK"]["S"].startswith("PRESET#"))


def test_presets_check_inputs_on_create_update_and_execute(api, alice):
    body = {
        "name": "P",
        "description": "",
        "graph_id": alice["id"],
        "graph_version": 1,
        "inputs": {"text": nested(100)},
        "credentials": {},
        "is_active": True,
    }
    refused(api.request("POST", "/api/library/presets", user="alice", json_body=body), 422, "inputs.text.a")
    refused(
        api.request(
            "POST",
            "/api/library/presets",
            user="alice",
            json_body={**body, "inputs": {}, "credentials": {"": {"id": "c"}}},
        ),
        422,
        "credentials: empty map key",
    )
    assert presets_stored() == 0
    status, preset = api.request(
        "POST", "/api/library/presets", user="alice", json_body={**body, "inputs": {"text": "a"}}
    )
    assert status == 200, preset
    refused(
        api.request("PATCH", f"/api/library/presets/{preset['id']}", user="alice", json_body={"inputs": {"": "x"}}),
        422,
        "inputs: empty map key",
    )
    assert api.request("GET", f"/api/library/presets/{preset['id']}", user="alice")[1]["inputs"] == {"text": "a"}
    refused(
        api.request(
            "POST",
            f"/api/library/presets/{preset['id']}/execute",
            user="alice",
            json_body={"inputs": {"text": {"": 1}}},
        ),
        422,
        "inputs.text: empty map key",
    )
    refused(
        api.request(
            "POST", f"/api/library/presets/{preset['id']}/execute", user="alice", json_body={"inputs": {"x": [1, 2]}}
        ),
        422,
        "inputs.x",
    )
    assert meta_count() == 0


# --- schedules ----------------------------------------------------------------------------
def test_schedules_check_inputs_before_storing(api, alice, stack, monkeypatch):
    monkeypatch.setenv("SCHEDULE_GROUP", "ScheduleGroup")
    monkeypatch.setenv(
        "SCHEDULED_RUN_FUNCTION_ARN", "arn:aws:lambda:us-east-1:123456789012:function:ScheduledRunFunction"
    )
    monkeypatch.setenv("SCHEDULER_ROLE_ARN", "arn:aws:iam::123456789012:role/SchedulerRole")
    create_schedule_groups(stack, client("scheduler"))
    path = f"/api/graphs/{alice['id']}/schedules"
    body = {"name": "n", "cron": "0 * * * *"}
    refused(
        api.request("POST", path, user="alice", json_body={**body, "inputs": {"text": nested(50)}}),
        422,
        "inputs.text.a",
    )
    refused(
        api.request("POST", path, user="alice", json_body={**body, "inputs": {"text": "a", "": 1}}),
        422,
        "inputs: empty map key",
    )
    refused(
        api.request("POST", path, user="alice", json_body={**body, "inputs": {"text": "a", "x": {"n": 1}}}),
        422,
        "inputs.x",
    )
    assert not any(i["SK"]["S"].startswith("SCHEDULE#") for i in _scan(agents_table().name))
    assert client("scheduler").list_schedules(GroupName="ScheduleGroup")["Schedules"] == []


def test_a_scheduled_run_of_an_old_bad_schedule_stores_no_execution(api, alice, stack, monkeypatch):
    from stratus.db.agents_table.schedules import schedule_key

    agents_table().put(
        {
            **schedule_key("alice", "s-old"),
            "id": "s-old",
            "user_id": "alice",
            "graph_id": alice["id"],
            "graph_version": 1,
            "input_data": {"text": nested(40)},
            "input_credentials": {},
            "name": "old",
            "cron": "0 * * * *",
            "timezone": "UTC",
            "run_count": 0,
        }
    )
    result = api.runner.invoke(
        "ScheduledRunFunction", {"schedule_id": "s-old", "user_id": "alice", "scheduled_time": "2026-05-01T23:30:00Z"}
    )
    assert not result.errored, result.payload
    assert meta_count() == 0
    assert "nesting deeper than 32 levels" in agents_table().get(schedule_key("alice", "s-old"))["last_error"]


# --- MAG run ------------------------------------------------------------------------------
def test_mag_run_is_under_the_request_size_limit(api, alice):
    result = api.request(
        "POST",
        "/api/mag/graphs/anything/run",
        user="alice",
        raw_body=b'{"input_text": "' + b"x" * MAX_REQUEST_BYTES + b'"}',
    )
    refused(result, 413, "limit")


# --- credentials --------------------------------------------------------------------------
@pytest.mark.parametrize(
    "body, fragment",
    [
        ({"api_key": "sk-abc", "": 1}, "credentials: empty map key"),
        ({"api_key": "sk-abc", "title": "t", "extra": nested(200)}, "credentials.extra.a"),
    ],
)
def test_credentials_create_checks_the_whole_body(api, alice, body, fragment):
    refused(api.request("POST", "/api/integrations/openai/credentials", user="alice", json_body=body), 422, fragment)
    assert api.request("GET", "/api/integrations/credentials", user="alice")[1] == []


def test_a_retry_with_the_same_idempotency_key_keeps_the_first_large_inputs(api, alice):
    from stratus.executions.values import INLINE_LIMIT

    first, second = "1" * (INLINE_LIMIT + 1), "2" * (INLINE_LIMIT + 1)
    path = f"/api/graphs/{alice['id']}/execute/1"
    headers = {"idempotency-key": "run-once"}
    status, started = api.request("POST", path, user="alice", headers=headers, json_body={"inputs": {"text": first}})
    assert status == 200 and started["inputs"]["text"] == first
    # Another payload under the key is refused (422) and overwrites nothing; the same one is the first run.
    status, _ = api.request("POST", path, user="alice", headers=headers, json_body={"inputs": {"text": second}})
    assert status == 422
    status, again = api.request("POST", path, user="alice", headers=headers, json_body={"inputs": {"text": first}})
    assert status == 200 and again["id"] == started["id"] and again["inputs"]["text"] == first
    status, read = api.request("GET", f"/api/graphs/{alice['id']}/executions/{started['id']}", user="alice")
    assert read["inputs"]["text"] == first and meta_count() == 1
