"""Graphs through GraphsFunction on moto: import AutoGPT exports, versions, export, validation."""

from __future__ import annotations

import json
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
CALC = "b1ab9b19-67a6-406d-abf5-2dba76d00c79"
OUT = "363ae599-353e-4804-937e-b2ee3cef3da4"
INP = "c0a8e994-ebf1-4a9c-a4d8-89d09c86741b"
STORE = "1ff065e9-88e8-4358-9d82-8dc91f622ba9"


def example(name: str) -> dict:
    return json.loads((EXAMPLES / name).read_text())


def create(api, user: str, graph: dict) -> tuple[int, dict]:
    return api.request("POST", "/api/graphs", user=user, json_body={"graph": graph, "source": "upload"})


def test_importing_an_autogpt_export_reassigns_every_id(api):
    exported = example("calculator.json")
    status, graph = create(api, "alice", exported)
    assert status == 200, graph
    assert graph["id"] != exported["id"] and graph["version"] == 1 and graph["is_active"] is True
    assert graph["user_id"] == "alice"
    old_ids = {node["id"] for node in exported["nodes"]}
    new_ids = {node["id"] for node in graph["nodes"]}
    assert not old_ids & new_ids and len(new_ids) == len(old_ids)
    for link in graph["links"]:
        assert link["source_id"] in new_ids and link["sink_id"] in new_ids
    adder = next(n for n in graph["nodes"] if n["input_default"].get("operation") == "Add")
    assert {link["sink_name"] for link in adder["input_links"]} == {"a", "b"}
    assert graph["input_schema"]["required"] == ["a", "b"]
    assert graph["input_schema"]["properties"]["a"]["anyOf"] == [{"type": "integer"}, {"type": "null"}]
    assert set(graph["output_schema"]["properties"]) == {"result"}
    assert graph["credentials_input_schema"]["properties"] == {}


def test_get_list_versions_and_activation(api):
    _, graph = create(api, "alice", example("list_fanout.json"))
    graph_id = graph["id"]
    status, fetched = api.request("GET", f"/api/graphs/{graph_id}", user="alice")
    assert status == 200 and fetched["nodes"] == graph["nodes"]
    status, listed = api.request("GET", "/api/graphs", user="alice")
    assert [g["id"] for g in listed] == [graph_id]
    edited = {**fetched, "name": "Fan-out v2"}
    status, v2 = api.request("PUT", f"/api/graphs/{graph_id}", user="alice", json_body=edited)
    assert status == 200 and v2["version"] == 2 and v2["is_active"] and v2["id"] == graph_id
    draft = {**fetched, "name": "Fan-out draft", "is_active": False}
    status, v3 = api.request("PUT", f"/api/graphs/{graph_id}", user="alice", json_body=draft)
    assert v3["version"] == 3 and v3["is_active"] is False
    assert api.request("GET", f"/api/graphs/{graph_id}", user="alice")[1]["name"] == "Fan-out v2"
    status, versions = api.request("GET", f"/api/graphs/{graph_id}/versions", user="alice")
    assert [(v["version"], v["is_active"]) for v in versions] == [(3, False), (2, True), (1, False)]
    status, active = api.request(
        "PUT", f"/api/graphs/{graph_id}/versions/active", user="alice", json_body={"active_graph_version": 1}
    )
    assert status == 200 and active["version"] == 1 and active["is_active"]
    assert api.request("GET", f"/api/graphs/{graph_id}", user="alice")[1]["version"] == 1
    status, v3_again = api.request("GET", f"/api/graphs/{graph_id}/versions/3", user="alice")
    assert status == 200 and v3_again["name"] == "Fan-out draft" and v3_again["is_active"] is False
    status, v4 = api.request("PUT", f"/api/graphs/{graph_id}", user="alice", json_body=edited)
    assert v4["version"] == 4  # max + 1, whatever is active
    assert api.request("GET", f"/api/graphs/{graph_id}/versions/9", user="alice")[0] == 404
    assert api.request("DELETE", f"/api/graphs/{graph_id}", user="alice") == (200, {"version_counts": 4})
    assert api.request("GET", f"/api/graphs/{graph_id}", user="alice")[0] == 404
    assert api.request("GET", "/api/graphs", user="alice") == (200, [])


def test_export_strips_secrets_and_owner_and_reimports(api):
    graph = example("calculator.json")
    graph["nodes"].append(
        {
            "id": "secret",
            "block_id": INP,
            "input_default": {"name": "token", "value": "s3cr3t", "secret": True},
            "metadata": {},
        }
    )
    _, created = create(api, "alice", graph)
    status, exported = api.request("GET", f"/api/graphs/{created['id']}", user="alice", query="for_export=true")
    assert status == 200 and exported["user_id"] == ""
    assert "s3cr3t" not in json.dumps(exported)
    status, again = create(api, "bob", exported)
    assert status == 200 and again["user_id"] == "bob" and len(again["nodes"]) == len(exported["nodes"])


def test_only_the_owner_reads_or_writes_a_graph(api):
    _, graph = create(api, "alice", example("condition_branch.json"))
    graph_id = graph["id"]
    for method, path, body in [
        ("GET", f"/api/graphs/{graph_id}", None),
        ("GET", f"/api/graphs/{graph_id}/versions", None),
        ("GET", f"/api/graphs/{graph_id}/versions/1", None),
        ("PUT", f"/api/graphs/{graph_id}", graph),
        ("PUT", f"/api/graphs/{graph_id}/versions/active", {"active_graph_version": 1}),
        ("DELETE", f"/api/graphs/{graph_id}", None),
    ]:
        assert api.request(method, path, user="bob", json_body=body)[0] == 404, (method, path)
    assert api.request("GET", "/api/graphs", user="bob") == (200, [])
    assert api.request("GET", f"/api/graphs/{graph_id}", user="alice")[1]["version"] == 1


def _node(node_id: str, block_id: str, **defaults) -> dict:
    return {"id": node_id, "block_id": block_id, "input_default": defaults}


def _link(source: str, source_name: str, sink: str, sink_name: str) -> dict:
    return {"source_id": source, "source_name": source_name, "sink_id": sink, "sink_name": sink_name}


def test_validation_reports_every_problem_per_node_and_pin(api):
    graph = {
        "name": "broken",
        "nodes": [
            _node("calc", CALC, operation="Add"),
            _node("ghost", "00000000-0000-0000-0000-000000000000"),
            _node("out", OUT, name="x"),
        ],
        "links": [
            _link("calc", "result", "out", "value"),
            _link("calc", "nope", "out", "value"),
            _link("calc", "result", "out", "missing_pin"),
            _link("calc", "result", "nowhere", "value"),
        ],
    }
    status, body = create(api, "alice", graph)
    assert status == 400
    detail = body["detail"]
    assert detail["type"] == "validation_error" and detail["message"]
    errors = detail["node_errors"]
    assert "Unknown block" in errors["ghost"]["block_id"]
    assert "nope" in errors["calc"]["nope"]
    assert "missing_pin" in errors["out"]["missing_pin"]
    assert "nowhere" in errors["calc"]["result"]
    assert api.request("GET", "/api/graphs", user="alice") == (200, [])


def test_dynamic_pins_validate_on_their_base_name_and_cycles_are_accepted(api):
    fill = "db7d8f02-2f44-4c55-ab7a-eae0941f0c30"
    graph = {
        "name": "dynamic",
        "nodes": [_node("calc", CALC, operation="Add", a=1, b=2), _node("fill", fill, format="{{x}}")],
        "links": [_link("calc", "result", "fill", "values_#_x")],
    }
    assert create(api, "alice", graph)[0] == 200
    # Loops are AutoGPT graphs too: a two-node cycle and a node feeding itself are saved as sent.
    cyclic = {
        "name": "cycle",
        "nodes": [_node("c1", CALC, operation="Add", b=1), _node("c2", CALC, operation="Add", b=1)],
        "links": [_link("c1", "result", "c2", "a"), _link("c2", "result", "c1", "a"), _link("c1", "result", "c1", "b")],
    }
    status, created = create(api, "alice", cyclic)
    assert status == 200, created
    ids = {node["id"]: name for node, name in zip(created["nodes"], ("c1", "c2"), strict=True)}
    assert sorted((ids[link["source_id"]], ids[link["sink_id"]]) for link in created["links"]) == [
        ("c1", "c1"),
        ("c1", "c2"),
        ("c2", "c1"),
    ]
    # What AutoGPT refuses still is: a link to a pin the block lacks, inside the loop too.
    broken = {**cyclic, "links": [*cyclic["links"], _link("c2", "result", "c1", "nope")]}
    status, body = create(api, "alice", broken)
    assert status == 400 and set(body["detail"]["node_errors"]) == {"c1"}
    assert "nope" in body["detail"]["node_errors"]["c1"]


def test_links_from_static_output_blocks_are_forced_static(api):
    graph = {
        "name": "static",
        "nodes": [_node("store", STORE, input="x"), _node("out", OUT, name="o")],
        "links": [_link("store", "output", "out", "value")],
    }
    status, created = create(api, "alice", graph)
    assert status == 200 and created["links"][0]["is_static"] is True


def test_limits_say_which_was_hit(api):
    many = {"name": "big", "nodes": [_node(f"n{i}", CALC, operation="Add") for i in range(1001)], "links": []}
    status, body = create(api, "alice", many)
    assert status == 413 and "1000 nodes" in body["detail"]
    huge = {"name": "huge", "nodes": [_node("n", STORE, input="x" * 500_000)], "links": []}
    status, body = create(api, "alice", huge)
    assert status == 413 and "400 KB" in body["detail"]
    status, body = api.request("POST", "/api/graphs", user="alice", json_body={"graph": {"nodes": "nope"}})
    assert status == 422 and body["detail"][0]["loc"][:3] == ["body", "graph", "nodes"]


def test_non_finite_defaults_survive_storage(api):
    graph = {"name": "inf", "nodes": [_node("c", CALC, operation="Add", a=float("inf"), b=1)], "links": []}
    status, created = create(api, "alice", graph)
    assert status == 200
    status, fetched = api.request("GET", f"/api/graphs/{created['id']}", user="alice")
    assert fetched["nodes"][0]["input_default"]["a"] == float("inf")


def test_get_graph_is_one_getitem_and_list_is_one_query(api, dynamodb_calls):
    _, graph = create(api, "alice", example("calculator.json"))
    dynamodb_calls.clear()
    api.request("GET", f"/api/graphs/{graph['id']}", user="alice")
    assert dynamodb_calls == ["GetItem"]
    dynamodb_calls.clear()
    api.request("GET", "/api/graphs", user="alice")
    assert dynamodb_calls == ["Query"]


AGENT = "e189baac-8c20-45a1-94a7-55177ea42565"


def _agent(node_id: str, graph: dict) -> dict:
    """An unlinked AgentExecutor node running `graph` (no pins, so no schemas needed)."""
    return _node(node_id, AGENT, graph_id=graph["id"], graph_version=graph["version"], user_id="", inputs={})


def _agent_targets(graph: dict) -> list[tuple[str, int]]:
    return sorted(
        (n["input_default"]["graph_id"], n["input_default"]["graph_version"])
        for n in graph["nodes"]
        if n["block_id"] == AGENT
    )


def test_importing_an_export_with_sub_graphs_creates_them_and_points_the_agent_nodes_at_them(api):
    exported = example("calculator_subagent.json")
    bundled = exported["sub_graphs"][0]
    assert _agent_targets(exported) == [(bundled["id"], bundled["version"])]  # the Calculator, v3 where exported
    status, graph = create(api, "alice", exported)
    assert status == 200, graph
    [child] = graph["sub_graphs"]
    assert child["id"] not in (bundled["id"], graph["id"]) and child["version"] == 1 and child["user_id"] == "alice"
    assert child["name"] == "Calculator" and child["input_schema"]["required"] == ["a", "b"]
    assert _agent_targets(graph) == [(child["id"], 1)]
    status, stored = api.request("GET", f"/api/graphs/{child['id']}", user="alice")
    assert status == 200 and {n["id"] for n in stored["nodes"]} == {n["id"] for n in child["nodes"]}
    status, listed = api.request("GET", "/api/graphs", user="alice")
    assert sorted(g["id"] for g in listed) == sorted([graph["id"], child["id"]])
    status, library = api.request("GET", "/api/library/agents", user="alice")
    assert sorted(a["graph_id"] for a in library["agents"]) == sorted([graph["id"], child["id"]])
    assert api.request("GET", f"/api/graphs/{graph['id']}", user="alice")[1]["sub_graphs"] == []  # export only


def test_a_secret_input_value_is_not_in_the_schema_nor_in_an_exported_sub_agent_node(api):
    child_graph = {
        "name": "child",
        "nodes": [_node("secret", INP, name="token", value="s3cr3t", secret=True)],
        "links": [],
    }
    _, child = create(api, "alice", child_graph)
    assert child["input_schema"]["properties"]["token"]["secret"] is True
    assert "s3cr3t" not in json.dumps(child["input_schema"]) and child["input_schema"]["required"] == []
    # A node written with an older schema copy still holding the default: export drops it.
    schema = {**child["input_schema"], "properties": {"token": {"type": "string", "secret": True, "default": "s3cr3t"}}}
    node = {**_agent("c", child), "input_default": {**_agent("c", child)["input_default"], "input_schema": schema}}
    _, parent = create(api, "alice", {"name": "parent", "nodes": [node], "links": []})
    status, exported = api.request("GET", f"/api/graphs/{parent['id']}", user="alice", query="for_export=true")
    assert status == 200 and "s3cr3t" not in json.dumps(exported)
    exported_node = next(n for n in exported["nodes"] if n["block_id"] == AGENT)
    assert exported_node["input_default"]["input_schema"]["properties"]["token"] == {"type": "string", "secret": True}


def test_an_export_bundles_the_owners_sub_graphs_once_each_and_an_import_remaps_them_all(api):
    _, grandchild = create(api, "alice", example("calculator.json"))
    child_graph = {
        "name": "child",
        "nodes": [
            _agent("g1", grandchild),
            _agent("g2", grandchild),
            _node("secret", INP, name="token", value="s3cr3t", secret=True),
        ],
        "links": [],
    }
    _, child = create(api, "alice", child_graph)
    parent_graph = {"name": "parent", "nodes": [_agent("c", child), _agent("g", grandchild)], "links": []}
    _, parent = create(api, "alice", parent_graph)
    itself = api.request(
        "PUT",
        f"/api/graphs/{parent['id']}",
        user="alice",
        json_body={**parent_graph, "nodes": [*parent_graph["nodes"], _agent("self", parent)]},
    )[1]
    assert itself["version"] == 2

    status, exported = api.request("GET", f"/api/graphs/{parent['id']}", user="alice", query="for_export=true")
    assert status == 200
    # Breadth-first, each graph once; the graph itself is not bundled.
    assert [s["id"] for s in exported["sub_graphs"]] == [child["id"], grandchild["id"]]
    assert all(s["user_id"] == "" for s in exported["sub_graphs"]) and "s3cr3t" not in json.dumps(exported)

    status, imported = create(api, "carol", exported)
    assert status == 200, imported
    new_child, new_grandchild = imported["sub_graphs"]
    new_ids = {imported["id"], new_child["id"], new_grandchild["id"]}
    assert len(new_ids) == 3 and not new_ids & {parent["id"], child["id"], grandchild["id"]}
    assert _agent_targets(imported) == sorted([(new_child["id"], 1), (new_grandchild["id"], 1), (imported["id"], 1)])
    assert _agent_targets(new_child) == sorted([(new_grandchild["id"], 1)] * 2)
    status, listed = api.request("GET", "/api/graphs", user="carol")
    assert sorted(g["id"] for g in listed) == sorted(new_ids)


def test_a_reference_to_a_graph_the_user_cannot_run_is_a_node_error_at_upload(api):
    _, bobs = create(api, "bob", example("calculator.json"))
    graph = {"name": "borrows", "nodes": [_agent("b", bobs), _node("out", OUT, name="x")], "links": []}
    status, body = create(api, "alice", graph)
    assert status == 400, body
    assert "is not a graph you can run" in body["detail"]["node_errors"]["b"]["graph_id"]
    assert api.request("GET", "/api/graphs", user="alice") == (200, [])
    status, own = create(api, "bob", graph)  # bob may run his own graph
    assert status == 200 and _agent_targets(own) == [(bobs["id"], 1)]


def test_an_export_whose_agent_nodes_name_re_ided_sub_graphs_runs_the_bundled_copies(api):
    """AutoGPT's shipped exports: the sub-graph was re-id'd, the node kept its old graph_id but
    its version and its copies of the child's input and output schemas still name it."""
    exported = example("calculator_subagent.json")
    bundled = exported["sub_graphs"][0]
    node = next(n for n in exported["nodes"] if n["block_id"] == AGENT)
    node["input_default"]["graph_id"] = "0c9c3670-b3b4-45ce-92d1-42b178fd92b9"  # no graph of that id anywhere
    status, graph = create(api, "alice", exported)
    assert status == 200, graph
    [child] = graph["sub_graphs"]
    assert _agent_targets(graph) == [(child["id"], 1)] and child["id"] != bundled["id"]
    # Without schema copies that fit, nothing is evident: the node's error names it.
    node["input_default"]["input_schema"] = {"type": "object", "properties": {"other": {"type": "string"}}}
    status, body = create(api, "alice", exported)
    assert status == 400 and list(body["detail"]["node_errors"]) == [node["id"]]


def test_an_invalid_sub_graph_rejects_the_whole_upload_and_names_it(api):
    exported = example("calculator_subagent.json")
    bundled = exported["sub_graphs"][0]
    bundled["nodes"].append(_node("ghost", "00000000-0000-0000-0000-000000000000"))
    status, body = create(api, "alice", exported)
    assert status == 400, body
    detail = body["detail"]
    assert detail["type"] == "validation_error" and "Sub-graph 'Calculator'" in detail["message"]
    assert "Unknown block" in detail["node_errors"][f"{bundled['id']}/ghost"]["block_id"]
    assert api.request("GET", "/api/graphs", user="alice") == (200, [])
    assert api.request("GET", "/api/library/agents", user="alice")[1]["agents"] == []
    twice = {**exported, "sub_graphs": [example("calculator.json")] * 2}
    status, body = create(api, "alice", twice)
    assert status == 400 and "bundled twice" in body["detail"]
    assert api.request("GET", "/api/graphs", user="alice") == (200, [])
