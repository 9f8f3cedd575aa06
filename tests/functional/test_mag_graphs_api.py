"""MAG graphs through GraphsFunction on moto: save and import by name (JSON or zip package),
subgraph snapshots and recursion, list/get/export/delete, the MCP server registry."""

from __future__ import annotations

import base64
import io
import json
import zipfile

from stratus.mag.service import MAG_AGENT_BLOCK_ID

SERVER = {"transportType": "streamable_http", "url": "https://api.example.com/mcp"}


def agent(name: str, inputs: list[str], outputs: list[str], **fields) -> dict:
    return {
        "name": name,
        "model_name": "fake-gpt",
        "input_nodes": inputs,
        "output_nodes": outputs,
        "user_prompt": f"{name}: {{{{start}}}}",
        **fields,
    }


def config(name: str = "research", **fields) -> dict:
    return {
        "name": name,
        "description": "Search, then write",
        "nodes": [
            agent("searcher", ["start"], ["writer"], mcp_servers=["search"]),
            agent("writer", ["searcher"], ["end"]),
        ],
        "end_template": "{{writer}}",
        **fields,
    }


def subgraph_node(name: str, subgraph: str) -> dict:
    return {
        "name": name,
        "is_subgraph": True,
        "subgraph_name": subgraph,
        "input_nodes": ["start"],
        "output_nodes": ["end"],
    }


def package(graph: dict, servers: dict | None = None, models: list | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("config.json", json.dumps(graph))
        archive.writestr("readme.md", "# Research\n")
        archive.writestr("attachment/mcp.json", json.dumps({"mcpServers": servers or {}}))
        archive.writestr("attachment/model.json", json.dumps({"models": models or []}))
    return buffer.getvalue()


def import_zip(api, user: str, payload: bytes) -> tuple[int, dict]:
    return api.request(
        "POST", "/api/mag/graphs/import", user=user, raw_body=payload, headers={"content-type": "application/zip"}
    )


def multipart(payload: bytes, filename: str = "research.zip") -> tuple[bytes, str]:
    boundary = "stratus-test-boundary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
            f"Content-Type: application/zip\r\n\r\n"
        ).encode()
        + payload
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, f"multipart/form-data; boundary={boundary}"


def test_save_a_mag_graph_as_a_stratus_graph_of_kind_mag(api):
    status, saved = api.request("POST", "/api/mag/graphs", user="alice", json_body=config())
    assert status == 201 and saved["name"] == "research" and saved["version"] == 1
    status, graph = api.request("GET", f"/api/graphs/{saved['graph_id']}", user="alice")
    assert status == 200 and graph["kind"] == "mag" and graph["name"] == "research"
    assert {n["block_id"] for n in graph["nodes"]} == {MAG_AGENT_BLOCK_ID}
    by_name = {n["input_default"]["name"]: n for n in graph["nodes"]}
    assert by_name["searcher"]["input_default"]["mcp_servers"] == ["search"]
    assert [(link["source_id"], link["sink_id"]) for link in graph["links"]] == [
        (by_name["searcher"]["id"], by_name["writer"]["id"])
    ]
    assert graph["mag_config"]["end_template"] == "{{writer}}" and graph["mag_subgraphs"] == {}
    assert graph["input_schema"]["required"] == ["start"]
    # The same listing as AutoGPT graphs, which stay as they were (no MAG fields).
    assert [g["id"] for g in api.request("GET", "/api/graphs", user="alice")[1]] == [saved["graph_id"]]
    status, got = api.request("GET", "/api/mag/graphs/research", user="alice")
    assert status == 200 and got["graph_id"] == saved["graph_id"]
    assert [(n["name"], n["level"]) for n in got["config"]["nodes"]] == [("searcher", 0), ("writer", 1)]


def test_an_existing_name_is_a_conflict_and_writes_nothing(api):
    assert api.request("POST", "/api/mag/graphs", user="alice", json_body=config())[0] == 201
    status, body = api.request("POST", "/api/mag/graphs", user="alice", json_body=config(description="again"))
    assert status == 409 and "research" in body["detail"]
    status, body = import_zip(api, "alice", package(config(), servers={"new": SERVER}))
    assert status == 409
    assert api.request("GET", "/api/mag/mcp", user="alice")[1] == {"mcpServers": {}}
    assert len(api.request("GET", "/api/graphs", user="alice")[1]) == 1
    # Names are per user.
    assert api.request("POST", "/api/mag/graphs", user="bob", json_body=config())[0] == 201


def test_import_a_zip_package_adds_the_servers_and_models_the_user_lacks(api):
    kept = {"transportType": "sse", "url": "https://api.example.com/sse"}
    assert api.request("PUT", "/api/mag/mcp", user="alice", json_body={"mcpServers": {"search": kept}})[0] == 200
    models = [{"name": "fake-gpt", "base_url": "https://api.example.com/v1", "api_key": "", "model": "gpt-4o-mini"}]
    status, imported = import_zip(
        api, "alice", package(config(), servers={"search": SERVER, "extra": SERVER}, models=models)
    )
    assert status == 201, imported
    assert imported["name"] == "research" and imported["version"] == 1
    assert imported["added_servers"] == ["extra"] and imported["skipped_servers"] == ["search"]
    assert imported["added_models"] == ["fake-gpt"] and imported["needs_api_key"] == ["fake-gpt"]
    servers = api.request("GET", "/api/mag/mcp", user="alice")[1]["mcpServers"]
    assert servers["search"]["transportType"] == "sse"  # existing servers are kept
    assert servers["extra"]["url"] == SERVER["url"]
    from stratus.integrations.model_configs import get_model_config

    assert get_model_config("alice", "fake-gpt").model == "gpt-4o-mini"
    got = api.request("GET", "/api/mag/graphs/research", user="alice")[1]
    assert got["config"]["readme"] == "# Research\n"


def test_import_json_and_multipart_uploads(api):
    status, imported = api.request("POST", "/api/mag/graphs/import", user="alice", json_body=config("plain"))
    assert status == 201 and imported["name"] == "plain" and imported["added_servers"] == []
    body, content_type = multipart(package(config("uploaded")))
    status, imported = api.request(
        "POST", "/api/mag/graphs/import", user="alice", raw_body=body, headers={"content-type": content_type}
    )
    assert status == 201 and imported["name"] == "uploaded"
    names = [g["name"] for g in api.request("GET", "/api/mag/graphs", user="alice")[1]]
    assert names == ["plain", "uploaded"]


def test_subgraphs_are_snapshotted_and_recursion_is_refused(api):
    assert api.request("POST", "/api/mag/graphs", user="alice", json_body=config("inner"))[0] == 201
    middle = {"name": "middle", "nodes": [subgraph_node("run_inner", "inner")]}
    assert api.request("POST", "/api/mag/graphs", user="alice", json_body=middle)[0] == 201
    outer = {"name": "outer", "nodes": [subgraph_node("run_middle", "middle")]}
    status, saved = api.request("POST", "/api/mag/graphs", user="alice", json_body=outer)
    assert status == 201
    graph = api.request("GET", f"/api/graphs/{saved['graph_id']}", user="alice")[1]
    assert sorted(graph["mag_subgraphs"]) == ["inner", "middle"]
    assert graph["mag_subgraphs"]["inner"]["nodes"][0]["name"] == "searcher"
    # inner → outer would close the loop outer → middle → inner → outer.
    looped = {**config("inner"), "nodes": [*config()["nodes"], subgraph_node("back", "outer")]}
    status, body = api.request("PUT", "/api/mag/graphs/inner", user="alice", json_body=looped)
    assert status == 422 and "inner → outer → middle → inner" in body["detail"]
    status, body = api.request(
        "POST",
        "/api/mag/graphs",
        user="alice",
        json_body={"name": "selfish", "nodes": [subgraph_node("me", "selfish")]},
    )
    assert status == 422 and "recursion" in body["detail"]
    status, body = api.request(
        "POST", "/api/mag/graphs", user="alice", json_body={"name": "lost", "nodes": [subgraph_node("x", "nowhere")]}
    )
    assert status == 422 and "nowhere" in body["detail"]
    # A deleted subgraph lives on in the snapshots of the graphs that used it.
    assert api.request("DELETE", "/api/mag/graphs/inner", user="alice")[0] == 200
    status, saved = api.request("PUT", "/api/mag/graphs/outer", user="alice", json_body=outer)
    assert status == 200 and saved["version"] == 2
    graph = api.request("GET", f"/api/graphs/{saved['graph_id']}", user="alice")[1]
    assert sorted(graph["mag_subgraphs"]) == ["inner", "middle"]
    # Another user's graph is not a subgraph anyone else can use.
    status, _ = api.request("POST", "/api/mag/graphs", user="bob", json_body=outer)
    assert status == 422


def test_update_list_export_and_delete(api):
    api.request(
        "PUT",
        "/api/mag/mcp",
        user="alice",
        json_body={"mcpServers": {"search": SERVER, "unused": {"command": "npx", "env": {"K": "v"}}}},
    )
    from stratus.integrations.model_configs import save_model_config
    from stratus.mag.models import ModelConfig

    save_model_config(
        "alice",
        ModelConfig(
            name="fake-gpt", base_url="https://api.example.com/v1", api_key="sk-secret-123456", model="gpt-4o-mini"
        ),
    )
    saved = api.request("POST", "/api/mag/graphs", user="alice", json_body=config())[1]
    status, v2 = api.request("PUT", "/api/mag/graphs/research", user="alice", json_body=config(description="Better"))
    assert status == 200 and v2 == {"graph_id": saved["graph_id"], "version": 2, "name": "research"}
    assert api.request("PUT", "/api/mag/graphs/research", user="alice", json_body=config("renamed"))[0] == 422
    status, listed = api.request("GET", "/api/mag/graphs", user="alice")
    assert status == 200 and [(g["name"], g["description"], g["version"], g["node_count"]) for g in listed] == [
        ("research", "Better", 2, 2)
    ]
    archive = zipfile.ZipFile(io.BytesIO(download(api, "alice", "/api/mag/graphs/research/export")))
    assert json.loads(archive.read("config.json"))["description"] == "Better"
    assert list(json.loads(archive.read("attachment/mcp.json"))["mcpServers"]) == ["search"]
    models = json.loads(archive.read("attachment/model.json"))["models"]
    assert [(m["name"], m["api_key"]) for m in models] == [("fake-gpt", "")]
    # The export imports back for another user.
    status, imported = import_zip(api, "bob", archive_bytes(archive))
    assert status == 201 and imported["added_servers"] == ["search"] and imported["needs_api_key"] == ["fake-gpt"]
    assert api.request("DELETE", "/api/mag/graphs/research", user="alice") == (200, {"version_counts": 2})
    assert api.request("GET", "/api/mag/graphs/research", user="alice")[0] == 404
    assert api.request("GET", f"/api/graphs/{saved['graph_id']}", user="alice")[0] == 404
    assert api.request("GET", "/api/mag/graphs", user="alice") == (200, [])
    # The name is free again.
    assert api.request("POST", "/api/mag/graphs", user="alice", json_body=config())[0] == 201


def download(api, user: str, path: str) -> bytes:
    """A binary answer as the gateway returns it: Mangum base64-encodes it, the gateway decodes."""
    from localcloud.apigw import http_event
    from tests.conftest import token

    route_key, function, params = api.router.match("GET", path)
    event = http_event("GET", path, route_key, {"authorization": f"Bearer {token(user)}"}, "", b"", params)
    response = api.runner.invoke(function, event).payload
    assert response["statusCode"] == 200, response
    assert response["headers"]["content-type"] == "application/zip" and response["isBase64Encoded"]
    return base64.b64decode(response["body"])


def archive_bytes(archive: zipfile.ZipFile) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as copy:
        for name in archive.namelist():
            copy.writestr(name, archive.read(name))
    return buffer.getvalue()


def test_another_users_graph_is_invisible(api):
    saved = api.request("POST", "/api/mag/graphs", user="alice", json_body=config())[1]
    for method, path in [
        ("GET", "/api/mag/graphs/research"),
        ("GET", "/api/mag/graphs/research/export"),
        ("DELETE", "/api/mag/graphs/research"),
    ]:
        assert api.request(method, path, user="bob")[0] == 404, path
    assert api.request("PUT", "/api/mag/graphs/research", user="bob", json_body=config())[0] == 404
    assert api.request("POST", "/api/mag/graphs/research/run", user="bob", json_body={"input_text": "x"})[0] == 404
    assert api.request("GET", "/api/mag/graphs", user="bob") == (200, [])
    assert api.request("GET", f"/api/graphs/{saved['graph_id']}", user="bob")[0] == 404
    assert api.request("GET", "/api/mag/graphs", user=None)[0] == 401


def test_a_mag_graph_is_edited_through_the_mag_routes_only(api):
    saved = api.request("POST", "/api/mag/graphs", user="alice", json_body=config())[1]
    graph = api.request("GET", f"/api/graphs/{saved['graph_id']}", user="alice")[1]
    status, body = api.request("PUT", f"/api/graphs/{saved['graph_id']}", user="alice", json_body=graph)
    assert status == 400 and "/api/mag/graphs/research" in body["detail"]
    # Deleting it as a graph frees its name too.
    assert api.request("DELETE", f"/api/graphs/{saved['graph_id']}", user="alice")[0] == 200
    assert api.request("POST", "/api/mag/graphs", user="alice", json_body=config())[0] == 201


def test_bad_input_is_a_clear_4xx_and_writes_nothing(api):
    cases = [
        ("POST", "/api/mag/graphs", {"name": "a.b", "nodes": []}, 422),
        ("POST", "/api/mag/graphs", {"name": "x", "nodes": [agent("a", ["ghost"], [])]}, 422),
        ("POST", "/api/mag/graphs", {"name": "x", "nodes": [{"name": "a", "input_nodes": ["start"]}]}, 422),
        ("POST", "/api/mag/graphs/import", {"name": "x", "nodes": [agent("start", [], [])]}, 422),
    ]
    for method, path, body, expected in cases:
        status, answer = api.request(method, path, user="alice", json_body=body)
        assert status == expected, (body, answer)
        assert answer["detail"]
    for payload, expected in [
        (b"not a graph", 400),
        (b"PK\x03\x04broken", 400),
        (package({"name": "../x"}), 422),
        (package(config(), models=[{"name": "a/b", "base_url": "http://x", "model": "m"}]), 422),
    ]:
        status, answer = import_zip(api, "alice", payload)
        assert status == expected and answer["detail"], answer
    status, answer = api.request(
        "PUT", "/api/mag/mcp", user="alice", json_body={"mcpServers": {"bad": {"transportType": "sse"}}}
    )
    assert status == 422 and "url" in json.dumps(answer["detail"])
    assert api.request("GET", "/api/mag/graphs", user="alice") == (200, [])
    assert api.request("GET", "/api/graphs", user="alice") == (200, [])
    assert api.request("GET", "/api/mag/mcp", user="alice")[1] == {"mcpServers": {}}


def test_the_mcp_server_registry_is_per_user_and_replaced_by_put(api):
    servers = {"search": SERVER, "local": {"command": "uvx", "args": ["tool"]}}
    status, body = api.request("PUT", "/api/mag/mcp", user="alice", json_body={"mcpServers": servers})
    assert status == 200 and sorted(body["mcpServers"]) == ["local", "search"]
    assert body["mcpServers"]["local"]["transportType"] == "stdio"
    assert api.request("GET", "/api/mag/mcp", user="bob")[1] == {"mcpServers": {}}
    status, body = api.request("PUT", "/api/mag/mcp", user="alice", json_body={"mcpServers": {"search": SERVER}})
    assert list(body["mcpServers"]) == ["search"]
    from stratus.mag.service import get_mcp_servers

    assert get_mcp_servers("alice")["search"].url == SERVER["url"]


def test_mcp_servers_are_sealed_at_rest(api):
    secret_url = "https://mcp.example.com/mcp?token=sk-mcp-0123456789abcdef"
    servers = {"remote": {"url": secret_url}, "local": {"command": "uvx", "env": {"API_KEY": "sk-env-secret"}}}
    assert api.request("PUT", "/api/mag/mcp", user="alice", json_body={"mcpServers": servers})[0] == 200
    from stratus.db import graphs_table

    item = graphs_table.get_mcp_servers_item("alice")
    stored = json.dumps(item, default=str)
    assert "sk-mcp-0123456789abcdef" not in stored and "sk-env-secret" not in stored
    assert item["names"] == ["local", "remote"]
    served = api.request("GET", "/api/mag/mcp", user="alice")[1]["mcpServers"]  # the owner reads them back
    assert served["remote"]["url"] == secret_url and served["local"]["env"] == {"API_KEY": "sk-env-secret"}


def test_run_starts_an_execution_with_the_input_text_as_start(api, monkeypatch):
    from stratus.executions import launcher

    started: list[str] = []  # the state machine itself is H4b's MAG e2e
    monkeypatch.setattr(launcher, "_start_state_machine", started.append)
    api.request("POST", "/api/auth/user", user="alice")  # signup credits
    saved = api.request("POST", "/api/mag/graphs", user="alice", json_body=config())[1]
    status, execution = api.request(
        "POST", "/api/mag/graphs/research/run", user="alice", json_body={"input_text": "solar panels"}
    )
    assert status == 200, execution
    assert execution["graph_id"] == saved["graph_id"] and execution["graph_version"] == 1
    assert execution["inputs"] == {"start": "solar panels"} and started == [execution["graph_exec_id"]]
    status, fetched = api.request(
        "GET", f"/api/graphs/{saved['graph_id']}/executions/{execution['graph_exec_id']}", user="alice"
    )
    assert status == 200 and fetched["inputs"] == {"start": "solar panels"}
    assert api.request("POST", "/api/mag/graphs/research/run", user="alice", json_body={})[0] == 422


def test_by_name_reads_are_getitems_and_listing_is_one_query(api, dynamodb_calls):
    for name in ("one", "two"):
        api.request("POST", "/api/mag/graphs", user="alice", json_body=config(name))
    dynamodb_calls.clear()
    assert [g["name"] for g in api.request("GET", "/api/mag/graphs", user="alice")[1]] == ["one", "two"]
    assert dynamodb_calls == ["Query", "BatchGetItem"]
    dynamodb_calls.clear()
    assert api.request("GET", "/api/mag/graphs/two", user="alice")[0] == 200
    assert dynamodb_calls == ["GetItem", "GetItem"]
