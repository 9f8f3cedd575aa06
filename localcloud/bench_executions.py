"""Execution figures for `make bench`: state transitions per node, projected AWS cost per
1,000 core-node executions (from counted requests at list prices), and local timings."""

from __future__ import annotations

import json
import time
from collections import Counter
from typing import Any

# us-east-1 list prices (USD).
PRICE_TRANSITION = 0.025 / 1000  # Step Functions Standard
PRICE_GB_SECOND = 0.0000166667  # Lambda x86
PRICE_LAMBDA_REQUEST = 0.20 / 1_000_000
PRICE_WRITE_UNIT = 0.625 / 1_000_000  # DynamoDB on-demand
PRICE_READ_UNIT = 0.125 / 1_000_000
PRICE_WS_MESSAGE = 1.00 / 1_000_000  # API Gateway WebSocket messages

CALC = "b1ab9b19-67a6-406d-abf5-2dba76d00c79"
INPUT = "96dae2bb-97a2-41c2-bd2f-13a3b5a8ea98"
OUTPUT = "363ae599-353e-4804-937e-b2ee3cef3da4"


def chain_graph(nodes: int) -> dict[str, Any]:
    """An input, `nodes - 2` Calculators adding 1 in a chain, and an output."""
    graph_nodes = [{"id": "in", "block_id": INPUT, "input_default": {"name": "start"}}]
    links = []
    previous = "in"
    previous_pin = "result"
    for index in range(nodes - 2):
        node_id = f"c{index}"
        graph_nodes.append({"id": node_id, "block_id": CALC, "input_default": {"operation": "Add", "b": 1}})
        links.append({"source_id": previous, "source_name": previous_pin, "sink_id": node_id, "sink_name": "a"})
        previous, previous_pin = node_id, "result"
    graph_nodes.append({"id": "out", "block_id": OUTPUT, "input_default": {"name": "end"}})
    links.append({"source_id": previous, "source_name": previous_pin, "sink_id": "out", "sink_name": "value"})
    return {"name": f"chain of {nodes}", "nodes": graph_nodes, "links": links}


class DynamoCounter:
    """Request units behind the functions' DynamoDB calls, counted at their boto3 client."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.write_units = 0
        self.read_units = 0

    def __call__(self, event_name: str, params: dict[str, Any], **kwargs: Any) -> None:  # before-parameter-build
        operation = event_name.split(".")[-1]
        kwargs.pop("model", None)
        self.calls[operation] += 1
        if operation == "TransactWriteItems":
            self.write_units += 2 * len(params.get("TransactItems", []))  # transactions cost double
        elif operation in ("PutItem", "UpdateItem", "DeleteItem"):
            self.write_units += 1
        elif operation == "BatchWriteItem":
            self.write_units += sum(len(v) for v in params.get("RequestItems", {}).values())
        elif operation in ("GetItem", "Query"):
            self.read_units += 1
        elif operation == "BatchGetItem":
            self.read_units += sum(len(v.get("Keys", [])) for v in params.get("RequestItems", {}).values())


def run_chain(cloud: Any, http: Any, headers: dict[str, str], nodes: int) -> dict[str, Any]:
    from stratus.aws import client

    graph = http.post("/api/graphs", headers=headers, json={"graph": chain_graph(nodes)}).json()
    counter = DynamoCounter()
    events = client("dynamodb").meta.events
    events.register("before-parameter-build.dynamodb", counter)
    invocations_before = len(cloud.runner.invocations)
    started = time.monotonic()
    try:
        execution = http.post(
            f"/api/graphs/{graph['id']}/execute/1", headers=headers, json={"inputs": {"start": 0}}
        ).json()
        sfn = cloud.client("stepfunctions")
        arn = execution_arn(cloud, execution["id"])
        while True:
            status = sfn.describe_execution(executionArn=arn)["status"]
            if status != "RUNNING":
                break
            time.sleep(0.02)
        elapsed = time.monotonic() - started
    finally:
        events.unregister("before-parameter-build.dynamodb", counter)
    history = sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
    transitions = sum(1 for e in history if e["type"].endswith("StateEntered"))
    meta = cloud.client("dynamodb").get_item(
        TableName="ExecutionsTable", Key={"PK": {"S": f"GEXEC#{execution['id']}"}, "SK": {"S": "META"}}
    )["Item"]
    invocations = cloud.runner.invocations[invocations_before:]
    gb_seconds = sum(ms / 1000 * memory / 1024 for _, ms, memory in invocations)
    node_events = nodes * 3  # QUEUED/RUNNING/COMPLETED changes, one WebSocket message each per subscriber
    cost = (
        transitions * PRICE_TRANSITION
        + gb_seconds * PRICE_GB_SECOND
        + len(invocations) * PRICE_LAMBDA_REQUEST
        + counter.write_units * PRICE_WRITE_UNIT
        + counter.read_units * PRICE_READ_UNIT
        + node_events * PRICE_WS_MESSAGE
    )
    return {
        "nodes": nodes,
        "status": meta["status"]["S"],
        "seconds": elapsed,
        "transitions": transitions,
        "transitions_per_node": transitions / nodes,
        "lambda_invocations": len(invocations),
        "gb_seconds": gb_seconds,
        "write_units": counter.write_units,
        "read_units": counter.read_units,
        "usd_per_1000_nodes": cost / nodes * 1000,
        "dynamodb_calls": dict(counter.calls),
    }


def execution_arn(cloud: Any, graph_exec_id: str) -> str:
    machine = cloud.client("stepfunctions").list_state_machines()["stateMachines"][0]["stateMachineArn"]
    return machine.replace(":stateMachine:", ":execution:") + f":{graph_exec_id}"


def report(rows: list[dict[str, Any]]) -> str:
    return json.dumps(rows, indent=1)


def first_node_event_ms(cloud: Any, http: Any, headers: dict[str, str], token: str, runs: int = 5) -> list[float]:
    """Milliseconds from POST execute to the first node_execution_event on the WebSocket."""
    import asyncio
    import pathlib

    from websockets.asyncio.client import connect

    examples = pathlib.Path(__file__).resolve().parent.parent / "examples"
    graph = http.post(
        "/api/graphs", headers=headers, json={"graph": json.loads((examples / "calculator.json").read_text())}
    ).json()

    async def measure() -> list[float]:
        samples = []
        async with connect(f"{cloud.ws_url}?token={token}") as socket:
            await socket.send(json.dumps({"method": "subscribe_graph_executions", "data": {"graph_id": graph["id"]}}))
            while json.loads(await socket.recv()).get("method") != "subscribe_graph_executions":
                pass
            for _ in range(runs):
                started = time.monotonic()
                response = await asyncio.to_thread(
                    http.post,
                    f"/api/graphs/{graph['id']}/execute/1",
                    headers=headers,
                    json={"inputs": {"a": 1, "b": 2}},
                )
                # Node events come on the execution's channel: subscribe as AutoGPT's UI does.
                await socket.send(
                    json.dumps(
                        {"method": "subscribe_graph_execution", "data": {"graph_exec_id": response.json()["id"]}}
                    )
                )
                while True:
                    message = json.loads(await asyncio.wait_for(socket.recv(), 30))
                    if message.get("method") == "node_execution_event":
                        samples.append((time.monotonic() - started) * 1000)
                        break
                await asyncio.sleep(1.0)  # let the run finish before the next one
                while True:
                    try:
                        await asyncio.wait_for(socket.recv(), 0.3)
                    except TimeoutError:
                        break
        return samples

    return asyncio.run(measure())
