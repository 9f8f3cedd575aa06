"""Library agents and presets through the LibraryFunction (and GraphsFunction for graphs) on moto."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stratus.db.agents_table.approvals import approval_key
from stratus.db.agents_table.table import agents_table
from stratus.db.executions_table import executions_table, meta_key
from stratus.executions import launcher

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
INP = "c0a8e994-ebf1-4a9c-a4d8-89d09c86741b"


def example(file_name: str, **changes) -> dict:
    return {**json.loads((EXAMPLES / file_name).read_text()), **changes}


@pytest.fixture()
def users(api, monkeypatch):
    monkeypatch.setattr(launcher, "_start_state_machine", lambda graph_exec_id: None)
    for user in ("alice", "bob"):
        assert api.request("POST", "/api/auth/user", user=user)[0] == 200
    return api


def create_graph(api, user: str, **changes) -> dict:
    status, graph = api.request(
        "POST", "/api/graphs", user=user, json_body={"graph": example("calculator.json", **changes)}
    )
    assert status == 200, graph
    return graph


def library(api, user: str, query: str = "") -> tuple[list[dict], dict]:
    status, body = api.request("GET", "/api/library/agents", user=user, query=query)
    assert status == 200, body
    return body["agents"], body["pagination"]


@pytest.fixture()
def store(users):
    """Publishes graph versions through the store's own routes: profile, submission, admin review."""
    api = users

    def publish(owner: str, graph: dict, approved: bool = True, **listing) -> str:
        status, _ = api.request(
            "POST",
            "/api/store/profile",
            user=owner,
            json_body={
                "name": f"{owner.title()} B.",
                "username": owner,
                "avatar_url": f"https://img.example/{owner}.png",
            },
        )
        assert status == 200
        body = {
            "agent_id": graph["id"],
            "agent_version": graph["version"],
            "slug": f"agent-{graph['id'][:8]}",
            "name": graph["name"],
            "description": graph["description"],
            **listing,
        }
        status, submission = api.request("POST", "/api/store/submissions", user=owner, json_body=body)
        assert status == 200, submission
        if approved:
            review(api, submission["store_listing_version_id"], approve=True)
        return submission["store_listing_version_id"]

    return publish


def review(api, store_listing_version_id: str, approve: bool) -> None:
    status, body = api.request(
        "POST",
        f"/api/store/admin/submissions/{store_listing_version_id}/review",
        user="admin",
        admin=True,
        json_body={"is_approved": approve, "comments": ""},
    )
    assert status == 200, body


# --- library agents ------------------------------------------------------------------------------
def test_creating_a_graph_adds_it_to_the_library(users):
    api = users
    graph = create_graph(users, "alice")
    [agent], pagination = library(api, "alice")
    assert pagination == {"total_items": 1, "total_pages": 1, "current_page": 1, "page_size": 15}
    assert agent["graph_id"] == graph["id"] and agent["graph_version"] == 1
    assert agent["name"] == "Calculator" and agent["description"] == graph["description"]
    assert agent["is_created_by_user"] and agent["can_access_graph"] and agent["auto_update_version"]
    assert not agent["is_favorite"] and not agent["is_archived"] and agent["creator_name"] == "Unknown"
    assert agent["input_schema"]["required"] == ["a", "b"] and set(agent["output_schema"]["properties"]) == {"result"}
    assert agent["credentials_input_schema"] is None  # list: as AutoGPT, only GET by id has it
    status, fetched = api.request("GET", f"/api/library/agents/{agent['id']}", user="alice")
    assert status == 200 and fetched["credentials_input_schema"] == graph["credentials_input_schema"]
    # The entry follows the graph's active version.
    status, v2 = api.request(
        "PUT", f"/api/graphs/{graph['id']}", user="alice", json_body={**graph, "name": "Calculator v2"}
    )
    assert status == 200 and v2["version"] == 2
    [agent] = library(api, "alice")[0]
    assert (agent["graph_version"], agent["name"]) == (2, "Calculator v2")
    # Another user sees none of it.
    assert library(api, "bob")[0] == []
    for method in ("GET", "PATCH", "DELETE"):
        body = {"is_favorite": True} if method == "PATCH" else None
        assert api.request(method, f"/api/library/agents/{agent['id']}", user="bob", json_body=body)[0] == 404
    assert api.request("POST", f"/api/library/agents/{agent['id']}/fork", user="bob")[0] == 404
    assert api.request("GET", "/api/library/agents")[0] == 401


def test_external_api_graph_create_adds_it_to_the_library(users):
    api = users
    status, key = api.request(
        "POST", "/api/api-keys", user="alice", json_body={"name": "k", "permissions": ["WRITE_GRAPH"]}
    )
    assert status == 200
    status, graph = api.request(
        "POST",
        "/external-api/v1/graphs",
        headers={"x-api-key": key["plain_text_key"]},
        json_body={"graph": example("calculator.json")},
    )
    assert status == 200
    assert [a["graph_id"] for a in library(api, "alice")[0]] == [graph["id"]]


def test_favorites_archive_search_sort_pages_and_delete(users):
    api = users
    ids = {}
    for name, description in (("Adder", "adds numbers"), ("Mailer", "sends MAIL"), ("Reporter", "weekly report")):
        graph = create_graph(api, "alice", name=name, description=description)
        ids[name] = next(a["id"] for a in library(api, "alice")[0] if a["graph_id"] == graph["id"])
    names = lambda agents_: [a["name"] for a in agents_]  # noqa: E731
    assert names(library(api, "alice")[0]) == ["Reporter", "Mailer", "Adder"]  # updatedAt, newest first
    assert names(library(api, "alice", "sort_by=createdAt")[0]) == ["Adder", "Mailer", "Reporter"]
    page, pagination = library(api, "alice", "sort_by=createdAt&page=2&page_size=2")
    assert names(page) == ["Reporter"] and pagination == {
        "total_items": 3,
        "total_pages": 2,
        "current_page": 2,
        "page_size": 2,
    }

    status, favorite = api.request(
        "PATCH", f"/api/library/agents/{ids['Adder']}", user="alice", json_body={"is_favorite": True}
    )
    assert status == 200 and favorite["is_favorite"] and favorite["name"] == "Adder"
    assert names(library(api, "alice")[0])[0] == "Adder"  # touched: now the most recently updated
    assert names(library(api, "alice", "sort_by=createdAt&favorites_first=true")[0]) == ["Adder", "Mailer", "Reporter"]
    status, body = api.request("GET", "/api/library/agents/favorites", user="alice")
    assert status == 200 and names(body["agents"]) == ["Adder"] and body["pagination"]["total_items"] == 1

    assert (
        api.request("PATCH", f"/api/library/agents/{ids['Mailer']}", user="alice", json_body={"is_archived": True})[1][
            "is_archived"
        ]
        is True
    )
    assert names(library(api, "alice", "sort_by=createdAt")[0]) == ["Adder", "Reporter"]
    assert names(library(api, "alice", "sort_by=createdAt&include_archived=true")[0]) == ["Adder", "Mailer", "Reporter"]

    # Search: name or description, case-insensitive; archived excluded unless asked.
    assert names(library(api, "alice", "search_term=REPORT")[0]) == ["Reporter"]
    assert names(library(api, "alice", "search_term=numbers")[0]) == ["Adder"]
    assert library(api, "alice", "search_term=mail")[0] == []
    found, pagination = library(api, "alice", "search_term=mail&include_archived=true")
    assert names(found) == ["Mailer"] and pagination["total_items"] == 1
    assert library(api, "alice", "search_term=nothing-like-it")[1]["total_items"] == 0

    # Delete is soft (AutoGPT): gone from every read; the graph itself stays.
    assert api.request("DELETE", f"/api/library/agents/{ids['Reporter']}", user="alice") == (204, None)
    assert api.request("GET", f"/api/library/agents/{ids['Reporter']}", user="alice")[0] == 404
    assert api.request("DELETE", f"/api/library/agents/{ids['Reporter']}", user="alice")[0] == 404
    assert (
        api.request("PATCH", f"/api/library/agents/{ids['Reporter']}", user="alice", json_body={"is_favorite": True})[0]
        == 404
    )
    assert names(library(api, "alice", "include_archived=true&sort_by=createdAt")[0]) == ["Adder", "Mailer"]
    assert len(api.request("GET", "/api/graphs", user="alice")[1]) == 3

    # A deleted graph drops out of the library.
    graph_id = api.request("GET", f"/api/library/agents/{ids['Adder']}", user="alice")[1]["graph_id"]
    assert api.request("DELETE", f"/api/graphs/{graph_id}", user="alice")[0] == 200
    assert api.request("GET", f"/api/library/agents/{ids['Adder']}", user="alice")[0] == 404
    found, pagination = library(api, "alice", "include_archived=true")
    assert names(found) == ["Mailer"] and pagination["total_items"] == 1


def test_library_bad_input_is_422_naming_the_field(users):
    api = users
    create_graph(api, "alice")
    agent_id = library(api, "alice")[0][0]["id"]
    for query, field in (
        ("page=0", "page"),
        ("page_size=0", "page_size"),
        ("page_size=101", "page_size"),
        ("sort_by=name", "sort_by"),
        ("search_term=" + "x" * 101, "search_term"),
        ("favorites_first=maybe", "favorites_first"),
    ):
        status, body = api.request("GET", "/api/library/agents", user="alice", query=query)
        assert status == 422 and body["detail"][0]["loc"] == ["query", field], (query, body)
    status, body = api.request(
        "PATCH", f"/api/library/agents/{agent_id}", user="alice", json_body={"is_favorite": "sometimes"}
    )
    assert status == 422 and body["detail"][0]["loc"] == ["body", "is_favorite"]
    status, body = api.request("PATCH", f"/api/library/agents/{agent_id}", user="alice", json_body={})
    assert status == 422 and "Nothing to update" in body["detail"]
    status, body = api.request("POST", "/api/library/agents", user="alice", json_body={})
    assert status == 422 and body["detail"][0]["loc"] == ["body", "store_listing_version_id"]
    status, body = api.request("POST", "/api/library/agents", user="alice", raw_body=b"{not json")
    assert status == 422
    # Nothing was changed by the refused requests.
    agent = api.request("GET", f"/api/library/agents/{agent_id}", user="alice")[1]
    assert not agent["is_favorite"] and not agent["is_archived"]


def test_adding_a_store_agent(users, store):
    api = users
    secret_node = {
        "id": "token",
        "block_id": INP,
        "input_default": {"name": "token", "value": "s3cr3t", "secret": True},
        "metadata": {},
    }
    graph = example("calculator.json", name="Bob's calculator")
    graph["nodes"].append(secret_node)
    status, bobs = api.request("POST", "/api/graphs", user="bob", json_body={"graph": graph})
    assert status == 200
    listing = store(
        "bob",
        bobs,
        approved=False,
        name="Calculator Pro",
        description="From the store",
        image_urls=["https://img.example/calc.png"],
    )
    for unknown in (listing, "no-such-version"):  # pending, then never submitted
        status, body = api.request(
            "POST", "/api/library/agents", user="alice", json_body={"store_listing_version_id": unknown}
        )
        assert status == 404 and "not found or not approved" in body["detail"]
    review(api, listing, approve=False)
    assert (
        api.request("POST", "/api/library/agents", user="alice", json_body={"store_listing_version_id": listing})[0]
        == 404
    )

    review(api, listing, approve=True)
    status, added = api.request(
        "POST", "/api/library/agents", user="alice", json_body={"store_listing_version_id": listing}
    )
    assert status == 201, added
    assert added["graph_id"] == bobs["id"] and added["graph_version"] == 1
    assert not added["is_created_by_user"] and not added["can_access_graph"] and not added["auto_update_version"]
    assert (added["name"], added["description"], added["image_url"]) == (
        "Calculator Pro",
        "From the store",
        "https://img.example/calc.png",
    )
    assert (added["creator_name"], added["creator_image_url"]) == ("Bob B.", "https://img.example/bob.png")
    assert "default" not in added["input_schema"]["properties"]["token"]  # another user's secret never shows
    status, again = api.request(
        "POST", "/api/library/agents", user="alice", json_body={"store_listing_version_id": listing}
    )
    assert status == 201 and again["id"] == added["id"]
    assert [a["id"] for a in library(api, "alice")[0]] == [added["id"]]
    assert library(api, "alice", "search_term=pro")[0][0]["id"] == added["id"]

    # Deleted, then added again: the same entry comes back.
    assert api.request("DELETE", f"/api/library/agents/{added['id']}", user="alice")[0] == 204
    assert library(api, "alice")[0] == []
    status, revived = api.request(
        "POST", "/api/library/agents", user="alice", json_body={"store_listing_version_id": listing}
    )
    assert status == 201 and revived["id"] == added["id"]

    # The owner adding their own listing gets their own graph's entry.
    bobs_entry = library(api, "bob")[0][0]
    status, own = api.request(
        "POST", "/api/library/agents", user="bob", json_body={"store_listing_version_id": listing}
    )
    assert status == 201 and own["id"] == bobs_entry["id"] and own["is_created_by_user"]
    assert len(library(api, "bob")[0]) == 1

    # Fork: a copy in alice's own graphs, forked_from set, editable by her only, in her library.
    status, fork = api.request("POST", f"/api/library/agents/{added['id']}/fork", user="alice")
    assert status == 200, fork
    assert fork["is_created_by_user"] and fork["can_access_graph"] and fork["id"] != added["id"]
    assert fork["graph_id"] != bobs["id"] and fork["forked_from_id"] == bobs["id"] and fork["forked_from_version"] == 1
    assert fork["name"] == "Bob's calculator (copy)"
    status, forked_graph = api.request("GET", f"/api/graphs/{fork['graph_id']}", user="alice")
    assert status == 200 and forked_graph["user_id"] == "alice"
    assert (forked_graph["forked_from_id"], forked_graph["forked_from_version"]) == (bobs["id"], 1)
    token = next(n for n in forked_graph["nodes"] if n["input_default"].get("name") == "token")
    assert "value" not in token["input_default"]  # secrets are not copied
    assert {a["id"] for a in library(api, "alice")[0]} == {added["id"], fork["id"]}
    edited = {**forked_graph, "name": "Mine now"}
    status, v2 = api.request("PUT", f"/api/graphs/{fork['graph_id']}", user="alice", json_body=edited)
    assert status == 200 and v2["version"] == 2 and v2["forked_from_id"] == bobs["id"]
    assert api.request("PUT", f"/api/graphs/{fork['graph_id']}", user="bob", json_body=edited)[0] == 404
    assert api.request("GET", f"/api/graphs/{fork['graph_id']}", user="bob")[0] == 404

    # Unapproved later: the library still shows it (AutoGPT), but it can no longer be forked.
    review(api, listing, approve=False)
    assert api.request("GET", f"/api/library/agents/{added['id']}", user="alice")[0] == 200
    assert api.request("POST", f"/api/library/agents/{added['id']}/fork", user="alice")[0] == 404


def test_forking_an_own_graph_copies_its_active_version(users):
    api = users
    graph = create_graph(api, "alice")
    api.request("PUT", f"/api/graphs/{graph['id']}", user="alice", json_body={**graph, "name": "Calc v2"})
    entry = library(api, "alice")[0][0]
    status, fork = api.request("POST", f"/api/library/agents/{entry['id']}/fork", user="alice")
    assert status == 200
    assert (fork["forked_from_id"], fork["forked_from_version"], fork["name"]) == (graph["id"], 2, "Calc v2 (copy)")
    assert len(api.request("GET", "/api/graphs", user="alice")[1]) == 2


# --- presets ---------------------------------------------------------------------------------------
def test_presets_crud_and_execute_with_overrides(users):
    api = users
    graph = create_graph(api, "alice")
    body = {
        "name": "Doubles",
        "description": "a and b preset",
        "graph_id": graph["id"],
        "graph_version": 1,
        "inputs": {"a": 1, "b": 2},
        "credentials": {},
        "is_active": True,
    }
    status, preset = api.request("POST", "/api/library/presets", user="alice", json_body=body)
    assert status == 200, preset
    assert {k: preset[k] for k in body} == body and preset["user_id"] == "alice" and preset["webhook_id"] is None
    assert api.request("GET", f"/api/library/presets/{preset['id']}", user="alice") == (200, preset)
    others = [
        api.request("POST", "/api/library/presets", user="alice", json_body={**body, "name": f"P{i}"})[1]
        for i in range(2)
    ]
    status, listed = api.request("GET", "/api/library/presets", user="alice", query="page_size=2")
    assert status == 200 and [p["name"] for p in listed["presets"]] == ["P1", "P0"]  # newest first
    assert listed["pagination"] == {"total_items": 3, "total_pages": 2, "current_page": 1, "page_size": 2}
    status, listed = api.request(
        "GET", "/api/library/presets", user="alice", query=f"graph_id={graph['id']}&page=2&page_size=2"
    )
    assert [p["id"] for p in listed["presets"]] == [preset["id"]]
    assert api.request("GET", "/api/library/presets", user="alice", query="graph_id=other")[1]["presets"] == []

    status, updated = api.request(
        "PATCH",
        f"/api/library/presets/{preset['id']}",
        user="alice",
        json_body={"name": "Renamed", "inputs": {"a": 3, "b": 4}},
    )
    assert status == 200 and updated["name"] == "Renamed" and updated["inputs"] == {"a": 3, "b": 4}
    assert updated["description"] == "a and b preset" and updated["updated_at"] > preset["updated_at"]

    status, execution = api.request(
        "POST", f"/api/library/presets/{preset['id']}/execute", user="alice", json_body={"inputs": {"b": 5}}
    )
    assert status == 200, execution
    assert execution["graph_exec_id"] == execution["id"] and execution["preset_id"] == preset["id"]
    assert execution["status"] == "QUEUED" and execution["graph_id"] == graph["id"]
    meta = executions_table().get(meta_key(execution["id"]), consistent=True)
    assert meta["inputs"] == {"a": 3, "b": 5} and meta["preset_id"] == preset["id"] and meta["user_id"] == "alice"
    status, plain = api.request("POST", f"/api/library/presets/{preset['id']}/execute", user="alice")
    assert status == 200 and executions_table().get(meta_key(plain["id"]))["inputs"] == {"a": 3, "b": 4}

    # A preset missing a required input cannot run: AutoGPT's validation error, nothing recorded.
    status, partial = api.request("POST", "/api/library/presets", user="alice", json_body={**body, "inputs": {"a": 1}})
    status, refused = api.request("POST", f"/api/library/presets/{partial['id']}/execute", user="alice")
    assert status == 400 and refused["detail"]["node_errors"]
    assert (
        api.request(
            "POST", f"/api/library/presets/{partial['id']}/execute", user="alice", json_body={"inputs": {"b": 9}}
        )[0]
        == 200
    )

    # Another user: every route is 404.
    for method, suffix in (("GET", ""), ("PATCH", ""), ("DELETE", ""), ("POST", "/execute")):
        json_body = {"name": "x"} if method == "PATCH" else None
        assert (
            api.request(method, f"/api/library/presets/{preset['id']}{suffix}", user="bob", json_body=json_body)[0]
            == 404
        )
    assert api.request("GET", "/api/library/presets", user="bob")[1]["presets"] == []

    assert api.request("DELETE", f"/api/library/presets/{preset['id']}", user="alice") == (204, None)
    for method, suffix in (("GET", ""), ("DELETE", ""), ("POST", "/execute")):
        assert api.request(method, f"/api/library/presets/{preset['id']}{suffix}", user="alice")[0] == 404
    assert (
        api.request("PATCH", f"/api/library/presets/{preset['id']}", user="alice", json_body={"name": "back"})[0] == 404
    )
    remaining = api.request("GET", "/api/library/presets", user="alice")[1]["presets"]
    assert {p["id"] for p in remaining} == {others[0]["id"], others[1]["id"], partial["id"]}


def test_presets_only_for_readable_graphs(users, store):
    api = users
    bobs = create_graph(api, "bob")
    body = {
        "name": "On Bob's graph",
        "description": "",
        "graph_id": bobs["id"],
        "graph_version": 1,
        "inputs": {"a": 1, "b": 1},
        "credentials": {},
    }
    assert api.request("POST", "/api/library/presets", user="alice", json_body=body)[0] == 404
    assert (
        api.request("POST", "/api/library/presets", user="alice", json_body={**body, "graph_id": "no-such-graph"})[0]
        == 404
    )
    listing = store("bob", bobs)  # approved in the store: anyone can save a preset for it and run it
    status, preset = api.request("POST", "/api/library/presets", user="alice", json_body=body)
    assert status == 200
    status, execution = api.request("POST", f"/api/library/presets/{preset['id']}/execute", user="alice")
    assert status == 200 and execution["user_id"] == "alice"
    assert agents_table().get(approval_key(bobs["id"], 1))["runs"] == 1
    review(api, listing, approve=False)  # unapproved: the preset no longer runs
    assert api.request("POST", f"/api/library/presets/{preset['id']}/execute", user="alice")[0] == 404


def test_preset_bad_input_is_422_naming_the_field(users):
    api = users
    graph = create_graph(api, "alice")
    good = {
        "name": "P",
        "description": "",
        "graph_id": graph["id"],
        "graph_version": 1,
        "inputs": {},
        "credentials": {},
    }
    for change, field in (
        ({"name": ""}, "name"),
        ({"graph_version": 0}, "graph_version"),
        ({"inputs": [1, 2]}, "inputs"),
        ({"is_active": "perhaps"}, "is_active"),
        ({"credentials": {"x": "not-an-object"}}, "credentials"),
    ):
        status, body = api.request("POST", "/api/library/presets", user="alice", json_body={**good, **change})
        assert status == 422 and body["detail"][0]["loc"][:2] == ["body", field], (change, body)
    status, body = api.request(
        "POST", "/api/library/presets", user="alice", json_body={k: v for k, v in good.items() if k != "graph_id"}
    )
    assert status == 422 and body["detail"][0]["loc"] == ["body", "graph_id"]
    status, body = api.request(
        "POST", "/api/library/presets", user="alice", json_body={**good, "inputs": {"a": "x" * 360_000}}
    )
    assert status == 413
    assert api.request("GET", "/api/library/presets", user="alice")[1]["presets"] == []  # nothing saved
    status, preset = api.request("POST", "/api/library/presets", user="alice", json_body=good)
    assert status == 200
    status, body = api.request("PATCH", f"/api/library/presets/{preset['id']}", user="alice", json_body={})
    assert status == 422
    status, body = api.request(
        "PATCH", f"/api/library/presets/{preset['id']}", user="alice", json_body={"inputs": "a=1"}
    )
    assert status == 422 and body["detail"][0]["loc"] == ["body", "inputs"]
    status, body = api.request(
        "POST", f"/api/library/presets/{preset['id']}/execute", user="alice", json_body={"inputs": [1]}
    )
    assert status == 422 and body["detail"][0]["loc"] == ["body", "inputs"]
    for query, field in (("page=0", "page"), ("page_size=101", "page_size")):
        status, body = api.request("GET", "/api/library/presets", user="alice", query=query)
        assert status == 422 and body["detail"][0]["loc"] == ["query", field]
    assert api.request("GET", f"/api/library/presets/{preset['id']}", user="alice")[1] == preset
