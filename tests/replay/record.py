"""Record the orchestrator's steps of real graph executions, for the replay tests.

Run by hand from the repository root, after a change that is MEANT to change what the engine
schedules or writes (then review the diff of the recordings like code):

    .venv/bin/python -m tests.replay.record            # every case
    .venv/bin/python -m tests.replay.record loop mag_handoff

Each case runs a real graph through the real path, in-process on moto: the user and the graph
through the HTTP API's handlers, the execute route, then the real graph-execution ASL on moto's
Step Functions interpreter (as tests/functional/test_state_machine.py runs it), its Lambda tasks
routed to the template's handlers. Every invocation of OrchestratorFunction with a state-machine
payload (Start / Advance / Finalize) is recorded to tests/fixtures/replay/<case>.json:

* `event`: the payload the ASL sent (exactly; e.g. an Advance carries the Map's results),
* `world_before`: every item of UsersTable, GraphsTable and StoreTable (the graph version, the
  user's balance and ledger, MAG model configs) and `values_before` (values bucket objects),
* `partition_before` / `partition_after`: every item of the ExecutionsTable partition
  `GEXEC#<id>`,
* `returned`: what the step returned (the next batch for the Map, done, history, ...).

Cases: `loop` (AutoGPT's StepThroughItems loop: a Lambda-run body and a condition per item),
`fanout` (one output linked to five Lambda-run nodes: one batch of five), `failed_lambda` (a
block Lambda that errors: the ASL's Catch turns it into a FAILED result for Advance),
`mag_handoff` (a MAG graph whose critic hands off to the writer, on the fake OpenAI server).

Values stay far below 64 KB, so the values bucket stays empty (the recorder checks it).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from tests.conftest import (  # sets the test environment, applies moto fidelity
    ROOT,
    Api,
    allowed_egress,
    serve_echo,
    wait_for_state_machine,
)
from tests.replay import harness

STATE_MACHINE_ARN = "arn:aws:states:us-east-1:123456789012:stateMachine:stratus-graph-execution"
WEB = "6595ae1f-b924-42cb-9a41-551a0611c4b4"
OUT = "363ae599-353e-4804-937e-b2ee3cef3da4"
CALC = "b1ab9b19-67a6-406d-abf5-2dba76d00c79"
CONDITION = "715696a0-e1da-45c8-b209-c2fa9c3b0be6"
FIND = "0e50422c-6dee-4145-83d6-3a5a392f65de"
INPUT = "c0a8e994-ebf1-4a9c-a4d8-89d09c86741b"
STEP_THROUGH = "f66a3543-28d3-4ab5-8945-9b336371e2ce"
USER = "alice"
# What Lambda reports for a handler that ran out of time: the Map's Catch passes its Cause on.
TIMEOUT_ERROR = {"errorMessage": "Task timed out after 60.00 seconds", "errorType": "Sandbox.Timedout"}


def link(source: str, source_name: str, sink: str, sink_name: str) -> dict[str, str]:
    return {"source_id": source, "source_name": source_name, "sink_id": sink, "sink_name": sink_name}


def loop_graph(echo: str) -> dict[str, Any]:
    """AutoGPT's loop (graphs are acyclic): StepThroughItems runs the body once per item;
    the body is a Lambda-run call, then a condition per item: `items -> step -> call (echo)
    -> pick -> check (>= 2) -> big | small`."""
    return {
        "name": "replay loop",
        "nodes": [
            {"id": "items", "block_id": INPUT, "input_default": {"name": "items", "title": "Items"}},
            {"id": "step", "block_id": STEP_THROUGH, "input_default": {}},
            {"id": "call", "block_id": WEB, "input_default": {"url": f"{echo}/loop", "method": "POST"}},
            {"id": "pick", "block_id": FIND, "input_default": {"key": "echo"}},
            {"id": "check", "block_id": CONDITION, "input_default": {"operator": ">=", "value2": 2}},
            {"id": "big", "block_id": OUT, "input_default": {"name": "big"}},
            {"id": "small", "block_id": OUT, "input_default": {"name": "small"}},
        ],
        "links": [
            link("items", "result", "step", "items"),
            link("step", "item", "call", "body"),
            link("call", "response", "pick", "input"),
            link("pick", "output", "check", "value1"),
            link("check", "yes_output", "big", "value"),
            link("check", "no_output", "small", "value"),
        ],
    }


def fanout_graph(echo: str) -> dict[str, Any]:
    workers = [f"w{i}" for i in range(1, 6)]
    return {
        "name": "replay fan-out",
        "nodes": [
            {"id": "in", "block_id": INPUT, "input_default": {"name": "payload", "title": "Payload"}},
            *({"id": w, "block_id": WEB, "input_default": {"url": f"{echo}/{w}"}} for w in workers),
            {"id": "out", "block_id": OUT, "input_default": {"name": "responses"}},
        ],
        "links": [
            *(link("in", "result", w, "body") for w in workers),
            *(link(w, "response", "out", "value") for w in workers),
        ],
    }


def failed_lambda_graph(echo: str) -> dict[str, Any]:
    """Two Lambda-run nodes in one batch: `bad`'s Lambda errors, `good` answers; `calc` is inline."""
    return {
        "name": "replay failed lambda",
        "nodes": [
            {"id": "bad", "block_id": WEB, "input_default": {"url": f"{echo}/fail"}},
            {"id": "good", "block_id": WEB, "input_default": {"url": f"{echo}/ok", "body": {"n": 1}}},
            {"id": "calc", "block_id": CALC, "input_default": {"operation": "Add", "a": 1, "b": 2}},
            {"id": "out", "block_id": OUT, "input_default": {"name": "results"}},
        ],
        "links": [
            link("bad", "response", "out", "value"),
            link("good", "response", "out", "value"),
            link("calc", "result", "out", "value"),
        ],
    }


MAG_HANDOFF = {
    "name": "replay_handoff",
    "description": "A writer and a critic who sends the draft back once.",
    "nodes": [
        {
            "name": "writer",
            "model_name": "fake",
            "input_nodes": ["start"],
            "output_nodes": ["critic"],
            "user_prompt": "Write about {{start}}. Feedback: {{critic}}",
        },
        {
            "name": "critic",
            "model_name": "fake",
            "input_nodes": ["writer"],
            "output_nodes": ["writer", "end"],
            "handoffs": 1,
            "system_prompt": "You review drafts.",
            "user_prompt": "Review: {{writer}}\nHANDOFF writer",
        },
    ],
    "end_template": "{{writer:all}}",
}


@contextmanager
def cloud() -> Iterator[Api]:
    """A fresh moto account running the real ASL, Lambda tasks routed in-process."""
    import os

    from moto import mock_aws
    from moto.awslambda.models import LambdaFunction

    from localcloud.cloud import register_functions, route_lambda_to
    from localcloud.provision import create_buckets, create_kms_keys, create_tables
    from localcloud.stack import Stack
    from stratus.aws import client

    os.environ["GRAPH_EXECUTION_STATE_MACHINE_ARN"] = STATE_MACHINE_ARN
    original = LambdaFunction._invoke_lambda
    client.cache_clear()
    try:
        with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
            stack = Stack(ROOT / "template.yaml")
            create_tables(stack, client("dynamodb"))
            create_buckets(stack, client("s3"))
            create_kms_keys(stack, client("kms"))
            api = Api(stack)
            route_lambda_to(api.runner)
            register_functions(stack, api.runner, client)
            yield api
    finally:
        LambdaFunction._invoke_lambda = original
        client.cache_clear()


def wait(graph_exec_id: str) -> dict[str, Any]:
    return wait_for_state_machine(STATE_MACHINE_ARN, graph_exec_id, timeout=60)


def record_steps(api: Api, fail_block: Callable[[dict[str, Any]], bool] | None = None) -> list[dict[str, Any]]:
    """Wrap the runner: every orchestrator step is recorded; a block Lambda invocation for
    which `fail_block(event)` is true errors like a timed-out Lambda (the handler never runs)."""
    from localcloud.lambda_runner import InvocationResult

    steps: list[dict[str, Any]] = []
    invoke = api.runner.invoke

    def recording_invoke(name_or_arn: str, event: Any) -> Any:
        name = name_or_arn.split(":function:")[-1]
        if name == "OrchestratorFunction" and isinstance(event, dict) and "step" in event:
            graph_exec_id = event["graph_exec_id"]
            before = {
                "world_before": harness.world(),
                "values_before": harness.value_objects(),
                "partition_before": harness.partition(graph_exec_id),
            }
            result = invoke(name_or_arn, event)
            assert not result.errored, result.payload
            steps.append(
                {
                    "step": event["step"],
                    "event": event,
                    **before,
                    "returned": result.payload,
                    "partition_after": harness.partition(graph_exec_id),
                }
            )
            return result
        if name.startswith("Block") and fail_block and fail_block(event):
            return InvocationResult(dict(TIMEOUT_ERROR), True, 0.0, "recorded-fault")
        return invoke(name_or_arn, event)

    api.runner.invoke = recording_invoke  # type: ignore[method-assign]
    return steps


def run_graph(api: Api, graph: dict[str, Any], inputs: dict[str, Any], **kwargs: Any) -> tuple[str, list[dict]]:
    api.request("POST", "/api/auth/user", user=USER)
    status, created = api.request("POST", "/api/graphs", user=USER, json_body={"graph": graph})
    assert status == 200, created
    steps = record_steps(api, **kwargs)
    status, execution = api.request(
        "POST", f"/api/graphs/{created['id']}/execute/{created['version']}", user=USER, json_body={"inputs": inputs}
    )
    assert status == 200, execution
    return execution["id"], steps


def calls_url(graph_exec_id: str, node_exec_id: str, suffix: str) -> bool:
    """Whether the node execution's stored run input calls a url ending in `suffix` (the graphs
    API gives nodes new ids, so a node is recognised by its input)."""
    item = next(i for i in harness.partition(graph_exec_id) if i["SK"] == f"NODE#{node_exec_id}")
    return str((item.get("run_input") or item.get("input_data") or {}).get("url", "")).endswith(suffix)


def record_dataflow(case: str, graph: Callable[[str], dict[str, Any]], inputs: dict[str, Any], fail: str = "") -> dict:
    with serve_echo() as echo, cloud() as api:

        def fail_block(event: dict[str, Any]) -> bool:
            return bool(fail) and calls_url(event["graph_exec_id"], event["node_exec_id"], fail)

        graph_exec_id, steps = run_graph(api, graph(echo), inputs, fail_block=fail_block)
        described = wait(graph_exec_id)
        return finish(case, graph_exec_id, described, steps)


def record_mag(case: str) -> dict:
    from localcloud.fake_openai import FakeOpenAI

    server = FakeOpenAI().start()
    try:
        with allowed_egress(server.url), cloud() as api:
            api.request("POST", "/api/auth/user", user=USER)
            model = {"name": "fake", "base_url": server.url, "api_key": "sk-test", "model": "fake-model"}
            status, body = api.request("POST", "/api/mag/models", user=USER, json_body=model)
            assert status == 201, body
            status, body = api.request("POST", "/api/mag/graphs", user=USER, json_body=MAG_HANDOFF)
            assert status == 201, body
            steps = record_steps(api)
            status, started = api.request(
                "POST", f"/api/mag/graphs/{MAG_HANDOFF['name']}/run", user=USER, json_body={"input_text": "clouds"}
            )
            assert status == 200, started
            described = wait(started["id"])
            return finish(case, started["id"], described, steps)
    finally:
        server.stop()


def finish(case: str, graph_exec_id: str, described: dict[str, Any], steps: list[dict]) -> dict:
    assert described["status"] == "SUCCEEDED", described
    assert all(not s["values_before"] for s in steps), "a value went to S3: keep the recording small"
    return {"case": case, "graph_exec_id": graph_exec_id, "steps": steps}


CASES: dict[str, Callable[[], dict]] = {
    "loop": lambda: record_dataflow("loop", loop_graph, {"items": [1, 2, 3]}),
    "fanout": lambda: record_dataflow("fanout", fanout_graph, {"payload": {"job": "fan"}}),
    "failed_lambda": lambda: record_dataflow("failed_lambda", failed_lambda_graph, {}, fail="/fail"),
    "mag_handoff": lambda: record_mag("mag_handoff"),
}


def main(names: list[str]) -> None:
    harness.FIXTURES.mkdir(parents=True, exist_ok=True)
    for name in names or list(CASES):
        recording = CASES[name]()
        path = harness.FIXTURES / f"{name}.json"
        path.write_text(json.dumps(recording, indent=1, sort_keys=True) + "\n")
        print(f"{path.relative_to(ROOT)}: {len(recording['steps'])} steps")


if __name__ == "__main__":
    main(sys.argv[1:])
