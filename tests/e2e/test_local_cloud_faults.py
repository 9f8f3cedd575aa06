"""Every execution ends in a final status: a block that raises, one that times out and one
that is throttled, on the local cloud with fault injection (STRATUS_FAULTS)."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.e2e.conftest import CloudProcess, auth, node_items, run_to_end

CALC = "b1ab9b19-67a6-406d-abf5-2dba76d00c79"
OUT = "363ae599-353e-4804-937e-b2ee3cef3da4"
WEB = "6595ae1f-b924-42cb-9a41-551a0611c4b4"
TIMER = "d67a9c52-5e4e-11e2-bcfd-0800200c9a71"


@pytest.fixture(scope="module")
def faulty_cloud(tmp_path_factory, echo_server):
    faults = {"BlockCoreFunction": {"throttle": 2, "timeout": 2}}
    # The echo server is this test's outside service: allowed like the cloud's own fakes.
    extra_env = {"STRATUS_FAULTS": json.dumps(faults), "STRATUS_EGRESS_ALLOW_LIST": echo_server.removeprefix("http://")}
    process = CloudProcess(tmp_path_factory.mktemp("faulty"), extra_env=extra_env)
    process.start()
    yield process
    process.stop()


def _graph(name: str, first: dict, output: str = "value") -> dict:
    return {
        "name": name,
        "nodes": [first, {"id": "out", "block_id": OUT, "input_default": {"name": "out"}}],
        "links": [{"source_id": first["id"], "source_name": output, "sink_id": "out", "sink_name": "value"}],
    }


def test_throttled_block_lambda_is_retried_and_completes(faulty_cloud, echo_server):
    with httpx.Client(base_url=faulty_cloud.http, timeout=30) as http:
        http.post("/api/auth/user", headers=auth("faults"))
        graph = _graph(
            "throttled", {"id": "web", "block_id": WEB, "input_default": {"url": f"{echo_server}/ok"}}, "response"
        )
        meta = run_to_end(faulty_cloud, http, "faults", graph, {}, timeout=90)
    assert meta["status"] == "COMPLETED" and meta["outputs"] == {"out": [{"path": "/ok", "echo": None}]}


def test_timed_out_block_fails_its_node_and_the_graph_ends(faulty_cloud):
    with httpx.Client(base_url=faulty_cloud.http, timeout=30) as http:
        http.post("/api/auth/user", headers=auth("faults"))
        timer = {"id": "timer", "block_id": TIMER, "input_default": {"seconds": 5, "input_message": "late"}}
        meta = run_to_end(faulty_cloud, http, "faults", _graph("slow", timer, "output_message"), {}, timeout=90)
    assert meta["status"] == "COMPLETED"
    assert meta["stats"]["node_error_count"] == 1
    timer_node = next(n for n in node_items(faulty_cloud, meta["id"]) if n["block_id"] == TIMER)
    assert timer_node["status"] == "FAILED" and "timed out" in json.dumps(timer_node["output_data"]).lower()


def test_raising_block_fails_its_node_and_routes_the_error(faulty_cloud):
    with httpx.Client(base_url=faulty_cloud.http, timeout=30) as http:
        http.post("/api/auth/user", headers=auth("faults"))
        calc = {"id": "calc", "block_id": CALC, "input_default": {"operation": "Modulo of nothing", "a": 1, "b": 1}}
        meta = run_to_end(faulty_cloud, http, "faults", _graph("raises", calc, "error"), {})
    assert meta["status"] == "COMPLETED" and len(meta["outputs"]["out"]) == 1
    assert meta["stats"]["node_error_count"] == 1
