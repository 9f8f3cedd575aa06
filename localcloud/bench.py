"""`make bench`: the figures the issues ask for, measured on this machine.

- cold start: import+init of every function in a fresh interpreter (median of N), next to a
  bare FastAPI+Mangum hello (HTTP functions, target ≤ 1.3×) and a bare Powertools handler
  with one DynamoDB client (other functions, target ≤ 1.2×);
- the local cloud: time to ready (median of 3 starts);
- the HTTP gateway: added latency over calling the handler directly (median of 200);
- executions (localcloud.bench_executions): core-node chains of 100 and 1,000 nodes and a
  1,000-iteration accumulator loop through the real ASL on moto: time, state transitions per
  node, projected cost.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from localcloud.bench_executions import accumulator_line, chain_line, first_node_event_ms, run_accumulator, run_chain
from localcloud.lambda_runner import LAYER_DIR, REPO_ROOT
from localcloud.stack import Stack

RUNS = int(os.environ.get("BENCH_RUNS", "7"))

_MEASURE = textwrap.dedent("""
    import importlib.util, os, sys, time
    started = time.perf_counter()
    spec = importlib.util.spec_from_file_location("bench_function", sys.argv[1])
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    getattr(module, sys.argv[2])
    print((time.perf_counter() - started) * 1000)
""")

_FASTAPI_HELLO = textwrap.dedent("""
    from fastapi import FastAPI
    from mangum import Mangum

    app = FastAPI()

    @app.get("/hello")
    def hello():
        return {"hello": "world"}

    handler = Mangum(app, lifespan="off")
""")

_POWERTOOLS_HELLO = textwrap.dedent("""
    import boto3
    from aws_lambda_powertools import Logger, Metrics, Tracer

    logger, metrics, tracer = Logger(), Metrics(), Tracer()
    dynamodb = boto3.client("dynamodb")

    @logger.inject_lambda_context
    @metrics.log_metrics
    def handler(event, context):
        return {"ok": True}
""")


def _environment(extra: dict[str, str]) -> dict[str, str]:
    env = {
        **os.environ,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "PYTHONPATH": str(LAYER_DIR),
        **extra,
    }
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def cold_start_ms(module_file: Path, handler: str, env: dict[str, str]) -> float:
    output = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(module_file), handler],
        env=_environment(env),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return float(output.strip().splitlines()[-1])


def cold_starts() -> list[tuple[str, float, float, float]]:
    """(function, ms, baseline ms, target ratio) for every function in the template."""
    stack = Stack(REPO_ROOT / "template.yaml")
    http_functions = {function for _, _, function in stack.http_routes()}
    with tempfile.TemporaryDirectory() as scratch:
        fastapi_file = Path(scratch) / "fastapi_hello.py"
        fastapi_file.write_text(_FASTAPI_HELLO)
        powertools_file = Path(scratch) / "powertools_hello.py"
        powertools_file.write_text(_POWERTOOLS_HELLO)
        subjects = {
            "baseline: FastAPI+Mangum hello": (fastapi_file, "handler", {}),
            "baseline: Powertools + DynamoDB client": (powertools_file, "handler", {}),
        }
        functions = stack.functions()
        for name, spec in sorted(functions.items()):
            subjects[name] = (spec.module_file, spec.handler_name, spec.environment)
        # Rounds interleave every subject, so load drifting over the run hits all of them alike.
        samples: dict[str, list[float]] = {name: [] for name in subjects}
        for _ in range(RUNS):
            for name, (module_file, handler, env) in subjects.items():
                samples[name].append(cold_start_ms(module_file, handler, env))
    medians = {name: statistics.median(values) for name, values in samples.items()}
    http_baseline = medians["baseline: FastAPI+Mangum hello"]
    other_baseline = medians["baseline: Powertools + DynamoDB client"]
    rows = [(name, medians[name], medians[name], 1.0) for name in list(subjects)[:2]]
    for name in sorted(functions):
        is_http = name in http_functions
        rows.append((name, medians[name], http_baseline if is_http else other_baseline, 1.3 if is_http else 1.2))
    return rows


def cloud_ready_seconds(starts: int = 3) -> list[float]:
    """Seconds from `python -m localcloud` to its ready line (what `make local` users wait)."""
    samples = []
    for _ in range(starts):
        with tempfile.TemporaryDirectory() as state:
            started = time.monotonic()
            process = subprocess.Popen(
                [sys.executable, "-m", "localcloud", "--http-port", "0", "--ws-port", "0", "--state-dir", state],
                cwd=REPO_ROOT,
                stdout=subprocess.PIPE,
                text=True,
            )
            for line in process.stdout:  # type: ignore[union-attr]
                if line.startswith("Stratus local cloud ready"):
                    samples.append(time.monotonic() - started)
                    break
            process.terminate()
            process.communicate(timeout=60)  # drain stdout: a full pipe would block its shutdown
    return samples


def gateway_overhead_ms(requests: int = 200) -> tuple[float, float, dict[str, list[str]], list[dict], list[float]]:
    """On one local cloud: median ms of GET /api/credits through the gateway and of the same
    event called directly, the DynamoDB requests behind graph reads, and execution figures."""
    import httpx

    from localcloud.apigw import http_event
    from localcloud.cloud import LocalCloud
    from localcloud.settings import jwt_secret

    with tempfile.TemporaryDirectory() as state:
        cloud = LocalCloud(http_port=0, ws_port=0, state=Path(state), autosave_seconds=0).start()
        sys.stdout = open(os.devnull, "w")  # EMF/log lines of the functions
        try:
            from stratus.auth.jwt_tokens import issue_token

            headers = {"authorization": f"Bearer {issue_token(jwt_secret(), 'bench-user')}"}
            with httpx.Client(base_url=cloud.http_url) as http:
                http.post("/api/auth/user", headers=headers)
                counts = graph_request_counts(cloud, http, headers)
                via_gateway = []
                for _ in range(requests):
                    started = time.perf_counter()
                    assert http.get("/api/credits", headers=headers).status_code == 200
                    via_gateway.append((time.perf_counter() - started) * 1000)
            direct = []
            for _ in range(requests):
                event = http_event("GET", "/api/credits", "GET /api/credits", headers)
                started = time.perf_counter()
                result = cloud.runner.invoke("UsersFunction", event)
                direct.append((time.perf_counter() - started) * 1000)
                assert result.payload["statusCode"] == 200
            with httpx.Client(base_url=cloud.http_url, timeout=600) as http:
                execution_rows = [run_chain(cloud, http, headers, nodes) for nodes in (100, 1000)]
                first_event = first_node_event_ms(cloud, http, headers, headers["authorization"].split()[1])
                # Last: the stream poller and the notifier take a while to drain its records.
                execution_rows.append(run_accumulator(cloud, http, headers, 1000))
        finally:
            sys.stdout.close()
            sys.stdout = sys.__stdout__
            cloud.stop()
    return statistics.median(via_gateway), statistics.median(direct), counts, execution_rows, first_event


_BLOCKS_COLD_WARM = textwrap.dedent("""
    import importlib.util, json, sys, time
    sys.path.insert(0, sys.argv[2])
    from localcloud.apigw import http_event
    from stratus.auth.jwt_tokens import issue_token
    spec = importlib.util.spec_from_file_location("graphs_app", sys.argv[1])
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    event = http_event("GET", "/api/blocks", "GET /api/blocks",
                       {"authorization": "Bearer " + issue_token("bench-secret-0123456789abcdef0123456789", "u")})

    class Context:
        function_name, memory_limit_in_mb, aws_request_id = "GraphsFunction", 512, "bench"
        invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:GraphsFunction"

    timings = []
    for _ in range(6):
        started = time.perf_counter()
        response = module.handler(event, Context())
        timings.append((time.perf_counter() - started) * 1000)
        assert response["statusCode"] == 200, response
    print(json.dumps(timings))
""")


def blocks_api_ms() -> tuple[float, float]:
    """GET /api/blocks in a fresh container: the first (cold, builds the cache) and warm median."""
    spec = Stack(REPO_ROOT / "template.yaml").functions()["GraphsFunction"]
    env = {
        **spec.environment,
        "JWT_VERIFY_KEY": "bench-secret-0123456789abcdef0123456789",
        "PYTHONPATH": f"{LAYER_DIR}:{REPO_ROOT}",
    }
    output = subprocess.run(
        [sys.executable, "-c", _BLOCKS_COLD_WARM, str(spec.module_file), str(REPO_ROOT)],
        env=_environment(env),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    timings = json.loads(output.strip().splitlines()[-1])
    return timings[0], statistics.median(timings[1:])


def graph_request_counts(cloud: object, http: object, headers: dict[str, str]) -> dict[str, list[str]]:
    """DynamoDB operations behind GET a graph and list graphs, counted at the client."""
    from stratus.aws import client

    graph = json.loads((REPO_ROOT / "examples" / "calculator.json").read_text())
    graph_id = http.post("/api/graphs", headers=headers, json={"graph": graph}).json()["id"]  # type: ignore[attr-defined]
    calls: list[str] = []

    def count(event_name: str, **kwargs: object) -> None:
        calls.append(event_name.split(".")[-1])

    events = client("dynamodb").meta.events
    events.register("before-call.dynamodb", count)
    counts = {}
    try:
        for label, path in (("GET /api/graphs/{id}", f"/api/graphs/{graph_id}"), ("GET /api/graphs", "/api/graphs")):
            calls.clear()
            http.get(path, headers=headers)  # type: ignore[attr-defined]
            counts[label] = list(calls)
    finally:
        events.unregister("before-call.dynamodb", count)
    return counts


def main() -> int:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    table = Table(title=f"Cold start: import+init, median of {RUNS} fresh interpreters")
    for column in ("function", "ms", "× baseline", "target", "ok"):
        table.add_column(column)
    for name, ms, baseline, target in cold_starts():
        ratio = ms / baseline
        table.add_row(name, f"{ms:.0f}", f"{ratio:.2f}", f"≤ {target:.1f}×", "✓" if ratio <= target else "✗")
    console.print(table)
    ready = cloud_ready_seconds()
    console.print(
        f"Local cloud ready: median {statistics.median(ready):.2f} s "
        f"(runs: {', '.join(f'{s:.2f}' for s in ready)}; target ≤ 3 s)"
    )
    gateway, direct, counts, execution_rows, first_event = gateway_overhead_ms()
    console.print(
        f"HTTP gateway: median {gateway:.2f} ms per request vs {direct:.2f} ms calling the handler "
        f"directly → {gateway - direct:.2f} ms added (target ≤ 5 ms, median of 200)"
    )
    for label, calls in counts.items():
        console.print(f"{label}: DynamoDB requests {calls} ({len(calls)})")
    for row in execution_rows:
        console.print(accumulator_line(row) if "iterations" in row else chain_line(row))
    console.print(
        f"First node event after POST execute: median {statistics.median(first_event):.0f} ms "
        f"(runs: {', '.join(f'{v:.0f}' for v in first_event)}; target ≤ 300 ms)"
    )
    cold, warm = blocks_api_ms()
    console.print(
        f"GET /api/blocks in a new container: first {cold:.1f} ms (builds the cached definitions), "
        f"then {warm:.2f} ms warm (median)"
    )
    print(
        json.dumps(
            {
                "ready_s": statistics.median(ready),
                "gateway_ms": gateway,
                "direct_ms": direct,
                "blocks_cold_ms": cold,
                "blocks_warm_ms": warm,
            }
        )
    )
    from localcloud.bench_store import main as store_search_figures  # last: it patches moto for bulk loads

    store_search_figures()
    return 0


if __name__ == "__main__":
    sys.exit(main())
