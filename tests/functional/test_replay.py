"""Replay tests, in the style of Temporal's: recorded orchestrator steps must do the same again.

Each recorded step (tests/fixtures/replay/<case>.json, made by tests/replay/record.py from real
executions on the real ASL) is replayed on a fresh moto account: its "before" state is loaded
(the ExecutionsTable partition, the users/graphs/store tables), OrchestratorFunction's handler
is invoked with the recorded Step Functions payload, and the step's return value (the Map's next
batch, done, history) and the partition after it must equal the recording, item by item and
attribute by attribute. Only generated values are normalized: node-execution ids become n1, n2,
… in creation order (`seq`) and wall-clock values become `<time>`.

A replay fails when the engine schedules a different batch (or in another order), writes a
different node status, input or output, or changes the items' layout. When such a change is
meant, record again (`python -m tests.replay.record`) and review the recordings' diff.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.replay import harness

ROOT = Path(__file__).resolve().parents[2]
CASES = ("loop", "fanout", "failed_lambda", "mag_handoff")
STEPS = [
    pytest.param(case, index, id=f"{case}-{index}-{step['step']}")
    for case in CASES
    for index, step in enumerate(harness.read_case(case)["steps"])
]


def test_every_recorded_case_is_replayed():
    assert sorted(CASES) == harness.cases()


@pytest.mark.parametrize("case, index", STEPS)
def test_a_recorded_step_replays_to_the_same_batch_and_partition(aws, _api, case, index):
    step = harness.read_case(case)["steps"][index]
    harness.load(step)
    assert harness.partition(step["event"]["graph_exec_id"]) == step["partition_before"]  # loaded exactly

    result = _api.runner.invoke("OrchestratorFunction", step["event"])

    assert not result.errored, result.payload
    replayed = harness.normalized_step(harness.partition(step["event"]["graph_exec_id"]), result.payload)
    recorded = harness.normalized_step(step["partition_after"], step["returned"])
    assert replayed["returned"] == recorded["returned"]
    assert [i["SK"] for i in replayed["partition_after"]] == [i["SK"] for i in recorded["partition_after"]]
    for got, want in zip(replayed["partition_after"], recorded["partition_after"], strict=True):
        assert got == want, f"{want['SK']} differs"
    assert harness.value_objects() == step["values_before"]  # nothing went to S3 either


def _asl_payloads() -> dict[str, set[str]]:
    """The keys of each orchestrator payload the state machine sends (Start, Advance, Finalize*)."""
    definition = json.loads((ROOT / "statemachines" / "graph_execution.asl.json").read_text())
    payloads: dict[str, set[str]] = {}
    for state in definition["States"].values():
        payload = state.get("Parameters", {}).get("Payload")
        if state.get("Parameters", {}).get("FunctionName") == "${OrchestratorArn}" and payload:
            keys = {key.removesuffix(".$") for key in payload}
            payloads.setdefault(payload["step"], set()).update(keys)
    return payloads


@pytest.mark.parametrize("case", CASES)
def test_the_recorded_events_are_what_the_asl_sends(case):
    payloads = _asl_payloads()
    recording = harness.read_case(case)
    kinds = [step["step"] for step in recording["steps"]]
    assert kinds[0] == "start" and kinds[-1] == "finalize" and set(kinds[1:-1]) <= {"advance"}
    for step in recording["steps"]:
        event: dict[str, Any] = step["event"]
        assert event["step"] == step["step"] and event["graph_exec_id"] == recording["graph_exec_id"]
        assert set(event) <= payloads[step["step"]], f"{case}: {sorted(event)} is not an ASL payload"
        for result in event.get("results", []):  # the Map's results: RunBlock's selector or BlockFailed
            assert set(result) in ({"node_exec_id", "status"}, {"node_exec_id", "status", "error"})
