"""Graphs and blocks through the local cloud over real HTTP."""

from __future__ import annotations

import json

import httpx

from tests.e2e.conftest import ROOT, auth

CALC = "b1ab9b19-67a6-406d-abf5-2dba76d00c79"


def test_import_every_example_and_read_it_back(cloud):
    with httpx.Client(base_url=cloud.http, timeout=30) as http:
        http.post("/api/auth/user", headers=auth("graph-alice"))
        created = []
        for name in json.loads((ROOT / "examples" / "inputs.json").read_text()):
            exported = json.loads((ROOT / "examples" / name).read_text())
            response = http.post(
                "/api/graphs", headers=auth("graph-alice"), json={"graph": exported, "source": "upload"}
            )
            assert response.status_code == 200, response.text
            graph = response.json()
            assert graph["name"] == exported["name"] and len(graph["nodes"]) == len(exported["nodes"])
            created.append(graph["id"])
        listed = http.get("/api/graphs", headers=auth("graph-alice")).json()
        assert sorted(g["id"] for g in listed) == sorted(created)
        assert http.get(f"/api/graphs/{created[0]}", headers=auth("graph-bob")).status_code == 404


def test_blocks_over_http(cloud):
    with httpx.Client(base_url=cloud.http, timeout=30) as http:
        http.post("/api/auth/user", headers=auth("block-carol"))
        blocks = http.get("/api/blocks", headers=auth("block-carol")).json()
        assert len(blocks) >= 35
        response = http.post(
            f"/api/blocks/{CALC}/execute", headers=auth("block-carol"), json={"operation": "Power", "a": 2, "b": 10}
        )
        assert response.status_code == 200 and response.json() == {"result": [1024]}
        # Non-finite results survive the JSON response (Python's json reads Infinity back).
        response = http.post(
            f"/api/blocks/{CALC}/execute", headers=auth("block-carol"), json={"operation": "Divide", "a": 1, "b": 0}
        )
        assert json.loads(response.text) == {"result": [float("inf")]}
