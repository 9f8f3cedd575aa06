"""An AutoGPT LLM-only export through the local cloud, offline: HTTP import and execute,
WebSocket progress, the LLM nodes in BlockAiFunction against the cloud's loopback model
server, token usage and TOKEN cost in the execution stats and the ledger."""

from __future__ import annotations

import asyncio
import json

import httpx
from websockets.asyncio.client import connect

from tests.e2e.conftest import ROOT, auth, e2e_token, events_until_final, run_to_end

TEXT_GENERATOR = "1f292d4a-41a4-4977-9684-7c8d560b9f91"


def test_an_autogpt_llm_export_runs_offline_with_token_stats_and_cost(cloud):
    user = "ai-alice"
    export = json.loads((ROOT / "examples" / "ai_blog_writer.json").read_text())
    assert all("credentials" not in node["input_default"] for node in export["nodes"])  # stripped on export
    with httpx.Client(base_url=cloud.http, timeout=30) as http:
        http.post("/api/auth/user", headers=auth(user))
        balance_before = http.get("/api/credits", headers=auth(user)).json()["credits"]
        created = http.post("/api/graphs", headers=auth(user), json={"graph": export})
        assert created.status_code == 200, created.text
        graph = created.json()
    assert list(graph["credentials_input_schema"]["properties"]) == ["openai_api_key_credentials"]

    async def follow() -> tuple[dict, list[dict]]:
        async with (
            connect(f"{cloud.ws}?token={e2e_token(user)}") as socket,
            httpx.AsyncClient(base_url=cloud.http, timeout=30) as http,
        ):
            started = await http.post(
                f"/api/graphs/{graph['id']}/execute/{graph['version']}",
                headers=auth(user),
                json={"inputs": {"topic": "serverless agents"}, "credentials_inputs": {}},
            )
            assert started.status_code == 200, started.text
            execution = started.json()
            await socket.send(
                json.dumps({"method": "subscribe_graph_execution", "data": {"graph_exec_id": execution["id"]}})
            )
            return execution, [
                m["data"]
                for m in await events_until_final(socket)
                if m.get("method") in ("node_execution_event", "graph_execution_event")
            ]

    execution, events = asyncio.run(follow())
    final = events[-1]
    assert final["status"] == "COMPLETED", final
    assert final["outputs"]["post"] == ["Echo: Write a short paragraph for a blog post about serverless agents."]
    assert final["outputs"]["summary"][0].startswith("Summary: ")
    assert set(final["outputs"]["metadata"][0]) == {"title", "tags"}
    stats = final["stats"]
    assert stats["llm_call_count"] == 4  # writer 1, summarizer 2 (chunk + final), tagger 1
    assert stats["input_token_count"] > 0 and stats["output_token_count"] > 0
    assert stats["cost"] == 3  # gpt-4o-mini: 1 credit per started 1,000 tokens, per LLM node
    writer_done = [e for e in events if e.get("block_id") == TEXT_GENERATOR and e["status"] == "COMPLETED"]
    assert writer_done and writer_done[-1]["stats"]["llm_call_count"] == 1  # node events carry their usage

    with httpx.Client(base_url=cloud.http, timeout=30) as http:
        detail = http.get(f"/api/graphs/{graph['id']}/executions/{execution['id']}", headers=auth(user)).json()
        assert detail["stats"] == {
            **detail["stats"],
            **{k: stats[k] for k in ("cost", "input_token_count", "output_token_count", "llm_call_count")},
        }
        # Prepaid: a reservation per LLM node before its run, the unused part refunded after it.
        ledger = http.get("/api/credits/transactions", headers=auth(user)).json()["transactions"]
        usage = [tx for tx in ledger if tx["transaction_type"] in ("USAGE", "REFUND")]
        assert sorted(tx["transaction_type"] for tx in usage) == ["REFUND"] * 3 + ["USAGE"] * 3
        assert sum(tx["amount"] for tx in usage) == -3
        assert http.get("/api/credits", headers=auth(user)).json()["credits"] == balance_before - 3


IMAGE_GENERATOR = "ed1ae7a0-b770-4089-b520-1f0005fad19a"
IMAGE_OUTPUT = "363ae599-353e-4804-937e-b2ee3cef3da4"


def test_an_image_generator_graph_runs_against_the_clouds_replicate_fake(cloud):
    user = "image-alice"
    graph = {
        "name": "poster",
        "nodes": [
            {
                "id": "img",
                "block_id": IMAGE_GENERATOR,
                "input_default": {"prompt": "a lighthouse", "model": "Recraft v3"},
            },
            {"id": "out", "block_id": IMAGE_OUTPUT, "input_default": {"name": "image"}},
        ],
        "links": [{"source_id": "img", "source_name": "image_url", "sink_id": "out", "sink_name": "value"}],
    }
    with httpx.Client(base_url=cloud.http, timeout=30) as http:
        http.post("/api/auth/user", headers=auth(user))
        result = run_to_end(cloud, http, user, graph, {})  # the platform key: the cloud's placeholder
    assert result["status"] == "COMPLETED", result
    (url,) = result["outputs"]["image"]
    assert url.startswith("https://replicate.delivery/fake/") and url.endswith(".webp")


AGENT_INPUT = "c0a8e994-ebf1-4a9c-a4d8-89d09c86741b"


def test_claude_openrouter_and_groq_models_run_offline_against_the_clouds_model_server(cloud):
    """Every provider is pointed at the loopback server: a Claude node goes through Anthropic's
    Messages API, the OpenRouter and Groq nodes through the OpenAI-compatible API, each on the
    platform's (placeholder) key of its provider."""
    user = "providers-alice"
    models = ["claude-sonnet-4-5-20250929", "meta-llama/llama-4-scout", "llama-3.3-70b-versatile"]
    nodes: list[dict] = [{"id": "topic", "block_id": AGENT_INPUT, "input_default": {"name": "topic"}}]
    links: list[dict] = []
    for index, model in enumerate(models):
        nodes += [
            {"id": f"w{index}", "block_id": TEXT_GENERATOR, "input_default": {"model": model, "prompt": "On {{t}}"}},
            {"id": f"o{index}", "block_id": IMAGE_OUTPUT, "input_default": {"name": f"text{index}"}},
        ]
        links += [
            {"source_id": "topic", "source_name": "result", "sink_id": f"w{index}", "sink_name": "prompt_values_#_t"},
            {"source_id": f"w{index}", "source_name": "response", "sink_id": f"o{index}", "sink_name": "value"},
        ]
    with httpx.Client(base_url=cloud.http, timeout=30) as http:
        http.post("/api/auth/user", headers=auth(user))
        result = run_to_end(cloud, http, user, {"name": "providers", "nodes": nodes, "links": links}, {"topic": "sun"})
    assert result["status"] == "COMPLETED", result
    assert [result["outputs"][f"text{i}"] for i in range(3)] == [["Echo: On sun"]] * 3
