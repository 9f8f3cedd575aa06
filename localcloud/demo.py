"""`make demo`: the main job, end to end on the embedded local cloud.

Starts the local cloud on free loopback ports, signs in a demo user over HTTP, walks the
user, credits and API-key flows, and proves live delivery over the WebSocket. It grows with
each feature: graphs and executions join it as they land. The AutoGPT exports in examples/
include an LLM-only agent: it runs offline against the local cloud's loopback model server
and shows its token usage and cost. Then the agent-graph features: an AutoGPT agent that runs
the Calculator as a sub-agent (AgentExecutorBlock), and a MAG graph (examples/mag/) whose agent
nodes call the demo MCP server's tools and hand work back to each other.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import tempfile
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table

from localcloud import settings
from localcloud.cloud import LocalCloud
from localcloud.lambda_runner import REPO_ROOT
from localcloud.sample_events import CALCULATOR_BLOCK_ID
from localcloud.settings import jwt_secret

# Function logs and EMF metrics go to stdout in Lambda (CloudWatch); the demo keeps the
# terminal for itself and writes them to <state dir>/functions.log.
console = Console(file=sys.__stdout__)
DEMO_USER = "demo-user"
EXAMPLES = REPO_ROOT / "examples"
NOTE_BLOCK_ID = "cc10ff7b-7753-4ff2-9af6-9399b1a7eddc"
SUBAGENT_EXAMPLE = "calculator_subagent.json"  # bundles calculator.json as its sub-graph
SUBAGENT_INPUTS = {"x": 4, "y": 5}
MAG_EXAMPLE = EXAMPLES / "mag" / "fact_check.json"
# The MAG example's model and MCP server names, registered by the demo before the import.
MAG_MODEL, MAG_MCP_SERVER = "loopback", "demo"
FINISHED = {"COMPLETED", "FAILED", "TERMINATED"}
FINAL = FINISHED


def _token(user_id: str, admin: bool = False) -> str:
    from stratus.auth.jwt_tokens import issue_token

    return issue_token(jwt_secret(), user_id, email=f"{user_id}@example.com", admin=admin)


def _check(response: httpx.Response) -> dict:
    if response.status_code >= 400:
        raise SystemExit(
            f"{response.request.method} {response.request.url.path} → {response.status_code}: {response.text}"
        )
    return response.json()


async def _websocket_round_trip(ws_url: str, token: str) -> dict:
    from websockets.asyncio.client import connect

    async with connect(f"{ws_url}?token={token}") as socket:
        await socket.send(json.dumps({"method": "heartbeat"}))
        return json.loads(await asyncio.wait_for(socket.recv(), 10))


def _graph_flows(http: httpx.Client, headers: dict[str, str]) -> list[dict]:
    """Upload every AutoGPT agent in examples/, list them, and run a block on its own."""
    graphs = Table(title="Sample agents uploaded (AutoGPT JSON from examples/)")
    for column in ("agent", "graph id", "version", "nodes", "inputs", "outputs"):
        graphs.add_column(column)
    uploaded = []
    sample_inputs = json.loads((EXAMPLES / "inputs.json").read_text())
    for name, inputs in sample_inputs.items():
        graph = _check(
            http.post(
                "/api/graphs",
                headers=headers,
                json={"graph": json.loads((EXAMPLES / name).read_text()), "source": "upload"},
            )
        )
        uploaded.append({"graph": graph, "inputs": inputs})
        graphs.add_row(
            graph["name"],
            graph["id"][:8] + "…",
            str(graph["version"]),
            str(len(graph["nodes"])),
            ", ".join(graph["input_schema"]["properties"]),
            ", ".join(graph["output_schema"]["properties"]),
        )
    console.print(graphs)
    listed = _check(http.get("/api/graphs", headers=headers))
    console.print(
        f"GET /api/graphs → {len(listed)} graphs; GET /api/blocks → "
        f"{len(_check(http.get('/api/blocks', headers=headers)))} blocks"
    )
    result = _check(
        http.post(
            f"/api/blocks/{CALCULATOR_BLOCK_ID}/execute",
            headers=headers,
            json={"operation": "Multiply", "a": 6, "b": 7},
        )
    )
    console.print(f"CalculatorBlock 6 × 7 via POST /api/blocks/…/execute → {result}")
    return uploaded


def _store_flow(http: httpx.Client, headers: dict[str, str], admin_headers: dict[str, str], graph: dict) -> None:
    """Publish an agent, approve it as an admin, find it by search, and add it to a library."""
    _check(
        http.post(
            "/api/store/profile",
            headers=headers,
            json={"name": "Demo Creator", "username": "demo-creator", "description": "Sample agents"},
        )
    )
    submission = _check(
        http.post(
            "/api/store/submissions",
            headers=headers,
            json={
                "agent_id": graph["id"],
                "agent_version": graph["version"],
                "slug": "calculator",
                "name": graph["name"],
                "sub_heading": "Adds and scales numbers",
                "description": graph["description"],
                "categories": ["math"],
            },
        )
    )
    _check(
        http.post(
            f"/api/store/admin/submissions/{submission['store_listing_version_id']}/review",
            headers=admin_headers,
            json={"is_approved": True, "comments": "Approved by the demo", "internal_comments": ""},
        )
    )
    found = _check(http.get("/api/store/agents", params={"search_query": "scales numbers"}, headers=headers))
    console.print(
        f"Store: published and approved '{graph['name']}'; search 'scales numbers' → "
        f"{[agent['agent_name'] for agent in found['agents']]}"
    )
    shopper = {"Authorization": f"Bearer {_token('demo-shopper')}"}
    _check(http.post("/api/auth/user", headers=shopper))
    entry = _check(
        http.post(
            "/api/library/agents",
            headers=shopper,
            json={"store_listing_version_id": submission["store_listing_version_id"]},
        )
    )
    console.print(f"Library of demo-shopper now holds '{entry['name']}' (graph {entry['graph_id'][:8]}…)")


async def _reply(socket: Any, method: str) -> dict:
    """The next message answering `method` (events of earlier runs may still be in flight)."""
    while True:
        message = json.loads(await asyncio.wait_for(socket.recv(), 10))
        if message.get("method") == method:
            return message


async def _run_with_progress(
    ws_url: str, token: str, http_url: str, headers: dict[str, str], uploaded: list[dict]
) -> None:
    """Execute each agent over HTTP and follow it node by node over the WebSocket."""
    from rich.progress import BarColumn, Progress, TextColumn
    from websockets.asyncio.client import connect

    async with connect(f"{ws_url}?token={token}") as socket, httpx.AsyncClient(base_url=http_url, timeout=60) as http:
        for entry in uploaded:
            graph, inputs = entry["graph"], entry["inputs"]
            await socket.send(json.dumps({"method": "subscribe_graph_executions", "data": {"graph_id": graph["id"]}}))
            ack = await _reply(socket, "subscribe_graph_executions")
            if not ack.get("success"):
                raise SystemExit(f"subscribe failed: {ack}")
            runnable = [n for n in graph["nodes"] if n["block_id"] != NOTE_BLOCK_ID]
            execution = _check(
                await http.post(
                    f"/api/graphs/{graph['id']}/execute/{graph['version']}", headers=headers, json={"inputs": inputs}
                )
            )
            await socket.send(
                json.dumps({"method": "subscribe_graph_execution", "data": {"graph_exec_id": execution["id"]}})
            )
            with Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                TextColumn("{task.completed}/{task.total}"),
                console=console,
            ) as progress:
                task = progress.add_task(f"{graph['name']} {inputs}", total=len(runnable))
                done_nodes: set[str] = set()
                while True:
                    message = json.loads(await asyncio.wait_for(socket.recv(), 60))
                    data = message.get("data") or {}
                    if message.get("method") == "node_execution_event" and data.get("status") in FINISHED:
                        done_nodes.add(data["node_id"])
                        progress.update(task, completed=len(done_nodes))
                    if (
                        message.get("method") == "graph_execution_event"
                        and data.get("id") == execution["id"]
                        and data.get("status") in FINAL
                    ):
                        break
            console.print(f"  → {data['status']}: outputs {data.get('outputs')}")
            _print_stats(data.get("stats") or {})
            if data["status"] != "COMPLETED":
                raise SystemExit(f"{graph['name']} ended {data['status']}")


def _print_stats(stats: dict) -> None:
    if stats.get("llm_call_count"):  # an AI agent: what the model calls used and cost
        console.print(
            f"    {stats['llm_call_count']} model calls, {stats['input_token_count']} input + "
            f"{stats['output_token_count']} output tokens, cost {stats.get('cost', 0)} credits"
        )


def _subagent_flow(http: httpx.Client, headers: dict[str, str]) -> dict:
    """Upload an AutoGPT export that bundles its sub-agent: the upload creates the Calculator in
    its `sub_graphs` too and points the AgentExecutor node at it."""
    graph = _check(
        http.post(
            "/api/graphs",
            headers=headers,
            json={"graph": json.loads((EXAMPLES / SUBAGENT_EXAMPLE).read_text()), "source": "upload"},
        )
    )
    child = graph["sub_graphs"][0]
    console.print(
        f"Sub-agent: uploaded '{graph['name']}' ({graph['id'][:8]}…) with its bundled sub-graph "
        f"'{child['name']}' ({child['id'][:8]}…), which its AgentExecutor node runs as a child execution"
    )
    return graph


async def _mag_flow(ws_url: str, token: str, http_url: str, headers: dict[str, str], cloud: LocalCloud) -> None:
    """Register a model and the demo MCP server, import the MAG example and follow its run."""
    from websockets.asyncio.client import connect

    from stratus.executions.ids import idempotent_execution_id

    base_url = cloud.model_server.url if cloud.model_server else settings.openai_base_url()
    async with connect(f"{ws_url}?token={token}") as socket, httpx.AsyncClient(base_url=http_url, timeout=60) as http:
        _check(
            await http.post(
                "/api/mag/models",
                headers=headers,
                json={
                    "name": MAG_MODEL,
                    "base_url": base_url,
                    "api_key": settings.openai_api_key(),
                    "model": "gpt-4o-mini",
                },
            )
        )
        _check(
            await http.put(
                "/api/mag/mcp",
                headers=headers,
                json={
                    "mcpServers": {
                        MAG_MCP_SERVER: {"url": cloud.mcp_url, "transportType": "streamable_http", "timeout": 30}
                    }
                },
            )
        )
        imported = _check(await http.post("/api/mag/graphs/import", headers=headers, content=MAG_EXAMPLE.read_bytes()))
        console.print(
            f"MAG: model '{MAG_MODEL}' ({base_url}) and MCP server '{MAG_MCP_SERVER}' ({cloud.mcp_url}) "
            f"registered; imported examples/mag/{MAG_EXAMPLE.name} as graph {imported['graph_id'][:8]}…"
        )
        # The id an Idempotency-Key names is known before the run starts: subscribe first.
        key = "demo-mag-run"
        graph_exec_id = idempotent_execution_id(DEMO_USER, key)
        await socket.send(json.dumps({"method": "subscribe_graph_execution", "data": {"graph_exec_id": graph_exec_id}}))
        ack = await _reply(socket, "subscribe_graph_execution")
        if not ack.get("success"):
            raise SystemExit(f"subscribe failed: {ack}")
        question = "What is Stratus?"
        _check(
            await http.post(
                f"/api/graphs/{imported['graph_id']}/execute/{imported['version']}",
                headers={**headers, "Idempotency-Key": key},
                json={"inputs": {"start": question}},
            )
        )
        console.print(f"  running '{imported['name']}' with start = {question!r}")
        while True:
            message = json.loads(await asyncio.wait_for(socket.recv(), 60))
            data = message.get("data") or {}
            if message.get("method") == "node_start":
                console.print(f"  node_start {data['node_name']} (level {data['level']})")
            elif message.get("method") == "node_end":
                console.print(f"  node_end   {data['node_name']} → {data['status']}")
            elif (
                message.get("method") == "graph_execution_event"
                and data.get("id") == graph_exec_id
                and data.get("status") in FINAL
            ):
                break
    outputs = data.get("outputs") or {}
    # Each output pin holds a list of values: MAG's run yields one of each.
    final_result, chain = (outputs.get("final_result") or [None])[0], (outputs.get("execution_chain") or [[]])[0]
    console.print(f"  → {data['status']}: final_result {final_result!r}")
    console.print(f"    execution_chain {' → '.join('+'.join(level) for level in chain)}")
    _print_stats(data.get("stats") or {})
    if data["status"] != "COMPLETED":
        raise SystemExit(f"{imported['name']} ended {data['status']}")


def run(state_dir: Path) -> int:
    with console.status("Starting the Stratus local cloud…"):
        cloud = LocalCloud(http_port=0, ws_port=0, state=state_dir, autosave_seconds=0).start()
    console.print(f"[bold green]{cloud.ready_line()}[/] (ready in {cloud.ready_seconds:.2f} s)")
    try:
        user_headers = {"Authorization": f"Bearer {_token(DEMO_USER)}"}
        admin_headers = {"Authorization": f"Bearer {_token('demo-admin', admin=True)}"}
        with httpx.Client(base_url=cloud.http_url, timeout=30) as http:
            user = _check(http.post("/api/auth/user", headers=user_headers))
            console.print(f"Signed in as [bold]{user['id']}[/] <{user['email']}>")
            _check(http.post("/api/auth/user/timezone", headers=user_headers, json={"timezone": "Europe/Paris"}))
            _check(
                http.post(
                    "/api/credits/admin/add_credits",
                    headers=admin_headers,
                    json={
                        "user_id": DEMO_USER,
                        "amount": 500,
                        "comments": "Demo top-up",
                        "idempotency_key": "demo-top-up",
                    },
                )
            )
            credits = _check(http.get("/api/credits", headers=user_headers))
            history = _check(http.get("/api/credits/transactions", headers=user_headers))
            ledger = Table(title=f"Credits: {credits['credits']} (cents)")
            for column in ("type", "amount", "running balance", "description"):
                ledger.add_column(column)
            for tx in history["transactions"]:
                ledger.add_row(
                    tx["transaction_type"], str(tx["amount"]), str(tx["running_balance"]), tx.get("description") or ""
                )
            console.print(ledger)
            created = _check(
                http.post("/api/api-keys", headers=user_headers, json={"name": "demo", "permissions": ["IDENTITY"]})
            )
            key = created["api_key"]
            console.print(
                f"API key [bold]{key['prefix']}…{key['postfix']}[/] created "
                f"(permissions: {', '.join(key['permissions'])})"
            )
            me = _check(http.get("/external-api/v1/me", headers={"X-API-Key": created["plain_text_key"]}))
            console.print(f"External API /me with that key → user [bold]{me['user_id']}[/], timezone {me['timezone']}")
            uploaded = _graph_flows(http, user_headers)
            subagent = _subagent_flow(http, user_headers)
        reply = asyncio.run(_websocket_round_trip(cloud.ws_url, _token(DEMO_USER)))
        console.print(f"WebSocket heartbeat → {reply}")
        if reply.get("data") != "pong":
            raise SystemExit("WebSocket heartbeat failed")
        asyncio.run(
            _run_with_progress(
                cloud.ws_url,
                _token(DEMO_USER),
                cloud.http_url,
                user_headers,
                uploaded + [{"graph": subagent, "inputs": SUBAGENT_INPUTS}],
            )
        )
        if cloud.mcp_server:  # STRATUS_DEMO_MCP=0 leaves the demo MCP server out
            asyncio.run(_mag_flow(cloud.ws_url, _token(DEMO_USER), cloud.http_url, user_headers, cloud))
        with httpx.Client(base_url=cloud.http_url, timeout=30) as http:
            _store_flow(http, user_headers, admin_headers, uploaded[0]["graph"])
        console.print("[bold green]Demo finished.[/]")
        return 0
    finally:
        cloud.stop()


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="stratus-demo-") as state_dir:
        with open(Path(state_dir) / "functions.log", "w") as function_log:
            sys.stdout = function_log
            # Python logging goes there too (before the MCP SDK's basicConfig would send it to stderr).
            logging.basicConfig(
                level=logging.WARNING, stream=function_log, format="%(asctime)s %(name)s %(levelname)s %(message)s"
            )
            try:
                return run(Path(state_dir))
            finally:
                sys.stdout = sys.__stdout__


if __name__ == "__main__":
    sys.exit(main())
