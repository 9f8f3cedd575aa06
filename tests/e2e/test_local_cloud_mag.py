"""A MAG graph through the local cloud: imported as MAG's zip package, run with a handoff loop and
an MCP tool (the cloud's demo MCP server) against a loopback model, watched on the WebSocket."""

from __future__ import annotations

import asyncio
import io
import json
import zipfile

import httpx
from websockets.asyncio.client import connect

from localcloud import discovery
from stratus.executions.ids import idempotent_execution_id
from tests.e2e.conftest import auth, e2e_token, events_until_final, wait_final

USER = "mag-erin"
FACT = "Mount Everest is 8,849 metres high."


def package(model_url: str, mcp_url: str) -> bytes:
    """MAG's export layout: the graph, its MCP servers and its model (api key blanked)."""
    config = {
        "name": "fact_check",
        "description": "A researcher with a tool and a critic who sends it back once.",
        "end_template": "Answer: {{researcher}}",
        "nodes": [
            {
                "name": "researcher",
                "model_name": "loopback",
                "mcp_servers": ["demo"],
                "input_nodes": ["start"],
                "output_nodes": ["critic"],
                "user_prompt": '{{start}}\nCALL_TOOL lookup_fact {"topic": "everest"}',
            },
            {
                "name": "critic",
                "model_name": "loopback",
                "input_nodes": ["researcher"],
                "output_nodes": ["researcher", "end"],
                "handoffs": 1,
                "user_prompt": "Check: {{researcher}}\nHANDOFF researcher",
            },
        ],
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("config.json", json.dumps(config))
        archive.writestr("readme.md", "# fact_check\n")
        archive.writestr(
            "attachment/mcp.json",
            json.dumps({"mcpServers": {"demo": {"url": mcp_url, "transportType": "streamable_http", "timeout": 30}}}),
        )
        archive.writestr(
            "attachment/model.json",
            json.dumps({"models": [{"name": "loopback", "base_url": model_url, "api_key": "", "model": "fake-model"}]}),
        )
    return buffer.getvalue()


def test_an_imported_mag_graph_runs_with_handoffs_and_mcp_tools(cloud, test_model):
    mcp_url = discovery.find(cloud.state_dir)["mcp"]
    model = test_model
    model.reset()
    with httpx.Client(base_url=cloud.http, timeout=30) as http:
        http.post("/api/auth/user", headers=auth(USER))
        imported = http.post(
            "/api/mag/graphs/import",
            headers={**auth(USER), "content-type": "application/zip"},
            content=package(model.url, mcp_url),
        )
        assert imported.status_code == 201, imported.text
        assert imported.json()["added_models"] == ["loopback"] and imported.json()["added_servers"] == ["demo"]
        graph_id = imported.json()["graph_id"]
        # The execution id an Idempotency-Key names is known before the run: subscribe first.
        graph_exec_id = idempotent_execution_id(USER, "mag-e2e-1")

        async def follow() -> list[dict]:
            async with connect(f"{cloud.ws}?token={e2e_token(USER)}") as socket:
                await socket.send(
                    json.dumps({"method": "subscribe_graph_execution", "data": {"graph_exec_id": graph_exec_id}})
                )
                assert json.loads(await asyncio.wait_for(socket.recv(), 10))["success"] is True
                started = await asyncio.to_thread(
                    http.post,
                    f"/api/graphs/{graph_id}/execute/1",
                    json={"inputs": {"start": "How high?"}},
                    headers={**auth(USER), "Idempotency-Key": "mag-e2e-1"},
                )
                assert started.status_code == 200 and started.json()["id"] == graph_exec_id, started.text
                return await events_until_final(socket)

        events = asyncio.run(follow())
        requests = list(model.requests)

    final = wait_final(cloud, graph_exec_id)
    assert final["status"] == "COMPLETED", final
    chain = [["researcher"], ["critic"], ["researcher"], ["critic"]]
    assert final["outputs"]["execution_chain"] == [chain]
    assert final["outputs"]["final_result"] == [f"Answer: Tool results: {FACT}"]
    completed = events[-1]["data"]
    assert completed["outputs"] == {"execution_chain": [chain], "final_result": [f"Answer: Tool results: {FACT}"]}

    progress = [(e["method"], e["data"]["node_name"]) for e in events if e["method"] in ("node_start", "node_end")]
    assert progress == [
        (method, name)
        for name in ("researcher", "critic", "researcher", "critic")
        for method in ("node_start", "node_end")
    ]
    starts = [e["data"] for e in events if e["method"] == "node_start"]
    assert [s["level"] for s in starts] == [0, 1, 0, 1] and all(s["graph_exec_id"] == graph_exec_id for s in starts)
    assert {e["data"]["status"] for e in events if e["method"] == "node_end"} == {"COMPLETED"}

    # The critic was offered the handoff once; the researcher called the MCP tool each time.
    offered = [[t["function"]["name"] for t in r.get("tools", [])] for r in requests]
    assert [names for names in offered if "lookup_fact" not in names] == [["transfer_to_researcher"], []]
    assert sum(1 for r in requests if r["messages"][-1]["role"] == "tool") == 2
