"""MAG packages over real HTTP: a zip crosses the local gateway as base64 both ways."""

from __future__ import annotations

import io
import json
import zipfile

import httpx

from tests.e2e.conftest import auth

GRAPH = {
    "name": "e2e-package",
    "description": "over HTTP",
    "nodes": [
        {
            "name": "only",
            "model_name": "e2e-model",
            "mcp_servers": ["tools"],
            "input_nodes": ["start"],
            "output_nodes": ["end"],
        }
    ],
}
SERVERS = {"tools": {"transportType": "streamable_http", "url": "https://api.example.com/mcp"}}
MODELS = [{"name": "e2e-model", "base_url": "https://api.example.com/v1", "api_key": "", "model": "m"}]


def package(graph: dict) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("config.json", json.dumps(graph))
        archive.writestr("readme.md", "# over HTTP\n")
        archive.writestr("attachment/mcp.json", json.dumps({"mcpServers": SERVERS}))
        archive.writestr("attachment/model.json", json.dumps({"models": MODELS}))
    return buffer.getvalue()


def test_import_a_zip_raw_and_as_a_form_file_and_download_the_export(cloud):
    user = auth("mag-package-alice")
    with httpx.Client(base_url=cloud.http, timeout=30) as http:
        response = http.post(
            "/api/mag/graphs/import", headers={**user, "content-type": "application/zip"}, content=package(GRAPH)
        )
        assert response.status_code == 201, response.text
        assert response.json()["added_servers"] == ["tools"] and response.json()["needs_api_key"] == ["e2e-model"]
        response = http.post(
            "/api/mag/graphs/import",
            headers=user,
            files={"file": ("g.zip", package({**GRAPH, "name": "e2e-form"}), "application/zip")},
        )
        assert response.status_code == 201, response.text
        assert response.json()["skipped_servers"] == ["tools"]
        response = http.get("/api/mag/graphs/e2e-package/export", headers=user)
        assert response.status_code == 200 and response.headers["content-type"] == "application/zip"
        with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
            assert json.loads(archive.read("config.json"))["nodes"][0]["name"] == "only"
            assert json.loads(archive.read("attachment/mcp.json")) == {
                "mcpServers": {
                    "tools": {
                        **SERVERS["tools"],
                        "command": None,
                        "args": [],
                        "env": {},
                        "timeout": 60.0,
                        "disabled": False,
                        "autoApprove": [],
                    }
                }
            }
        assert [g["name"] for g in http.get("/api/mag/graphs", headers=user).json()] == ["e2e-form", "e2e-package"]
