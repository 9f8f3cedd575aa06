"""The local cloud: moto server + provisioning from template.yaml + in-process Lambdas +
HTTP/WebSocket gateways + event sources + snapshots."""

from __future__ import annotations

import io
import json
import logging
import math
import os
import re
import threading
import time
import urllib.request
import zipfile
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from localcloud import discovery, local_keys, moto_fidelity, provision, settings, snapshot
from localcloud.event_sources import (
    MAX_BATCH_RETRIES,
    RateSchedule,
    StepFunctionsStatusWatcher,
    StreamPoller,
    sources_for,
)
from localcloud.lambda_runner import REPO_ROOT, LambdaRunner
from localcloud.scheduler import LocalScheduler
from localcloud.settings import jwt_secret, state_dir
from localcloud.stack import ACCOUNT_ID, REGION, Stack

log = logging.getLogger("localcloud")
ROLE_NAME = "stratus-local-lambda"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT_ID}:role/{ROLE_NAME}"
_EXECUTE_API = re.compile(r"^https://[^./]+\.execute-api\.[^/]+/(?P<stage>[^/]+)$")


class LocalCloud:
    def __init__(
        self,
        template: Path | None = None,
        http_port: int = 3000,
        ws_port: int = 3001,
        state: Path | None = None,
        gateways: bool = True,
        autosave_seconds: float = 5.0,
        faults: dict[str, dict[str, Any]] | None = None,
    ):
        self.template = Path(template or REPO_ROOT / "template.yaml")
        self.requested_http_port = http_port
        self.requested_ws_port = ws_port
        self.state_dir = Path(state or state_dir())
        self.gateways = gateways
        self.autosave_seconds = autosave_seconds
        # Fault injection for tests: {"FunctionName": {"throttle": N, "timeout": seconds}}.
        self.faults = faults if faults is not None else json.loads(os.environ.get("STRATUS_FAULTS") or "{}")
        self.stop_event = threading.Event()
        self.moto = None
        self.http = None
        self.ws = None
        self.endpoint = ""
        self.ready_seconds = 0.0
        self._threads: list[threading.Thread] = []
        self._save_lock = threading.Lock()
        self._session: Any = None
        self._clients: dict[str, Any] = {}
        self.mcp_server: Any = None  # the demo MCP server (localcloud.mcp_server), if started
        self.model_server: Any = None  # localcloud.fake_openai, for each provider without STRATUS_<P>_BASE_URL
        self.replicate_server: Any = None  # localcloud.fake_replicate (image blocks), unless STRATUS_REPLICATE_BASE_URL
        self.service_fakes: Any = (
            None  # localcloud.fakes: every integration block's service, unless STRATUS_REAL_SERVICES=1
        )

    # --- start / stop ---------------------------------------------------------------
    def start(self) -> LocalCloud:
        started = time.monotonic()
        self._start_demo_mcp_server()
        self._start_moto()
        self.stack = Stack(self.template)
        functions = self.stack.functions()
        http_port = self.requested_http_port
        if self.gateways:
            from localcloud.http_gateway import HttpGateway

            # The HTTP gateway is bound first: the management endpoint lives on its port.
            self.http = HttpGateway(None, self.stack.http_routes(), http_port)  # type: ignore[arg-type]
            http_port = self.http.port
        model_environment = {**self._start_model_server(), **self._start_replicate_server()}
        service_environment = self._start_service_fakes()
        egress_allowed = ",".join(self._loopback_fakes() + settings.egress_allow_list())
        for spec in functions.values():
            spec.environment = {k: self._local_value(v, http_port) for k, v in spec.environment.items()}
            if "EGRESS_ALLOW_LIST" in spec.environment:  # exactly the fakes: never moto or the gateways
                spec.environment["EGRESS_ALLOW_LIST"] = egress_allowed
            if "OPENAI_BASE_URL" in spec.environment:  # the functions that run AI blocks
                spec.environment.update(model_environment)
            if "PLATFORM_KEYS_PARAM_PREFIX" in spec.environment:  # the function that runs integration blocks
                spec.environment.update(service_environment)
            if "timeout" in self.faults.get(spec.logical_id, {}):
                spec.timeout = float(self.faults[spec.logical_id]["timeout"])  # type: ignore[assignment]
        self.runner = LambdaRunner(functions, self._base_environment())
        self._route_lambda_to_runner()
        self._provision()
        self.restored = snapshot.load(self.state_dir, self.client("dynamodb"), self.client("s3"))
        if self.gateways:
            from localcloud.ws_gateway import WebSocketGateway

            self.http.runner = self.runner
            apis = self.stack.websocket_apis()
            if apis:
                self.ws = WebSocketGateway(self.runner, apis[0], self.requested_ws_port)
                self.ws.start()
                self.http.management = self.ws.manage
            self.http.start()
        self._start_event_sources()
        self.resumed = self._resume_unfinished_executions()
        if self.autosave_seconds:
            self._spawn(self._autosave, "autosave")
        self.ready_seconds = time.monotonic() - started
        if self.gateways:
            discovery.write(
                self.state_dir, {"http": self.http_url, "ws": self.ws_url, "aws": self.endpoint, "mcp": self.mcp_url}
            )
        return self

    def stop(self) -> None:
        self.stop_event.set()
        if self.ws:
            self.ws.stop()
        if self.http:
            self.http.stop()
        if self.mcp_server:
            self.mcp_server.stop()
        if self.model_server:
            self.model_server.stop()
        if self.replicate_server:
            self.replicate_server.stop()
        if self.service_fakes:
            self.service_fakes.stop()
        for thread in self._threads:
            thread.join(5)
        self.save()
        if self.gateways:
            discovery.clear(self.state_dir)
        if self.moto:
            self.moto.stop()

    def save(self) -> Path:
        with self._save_lock:
            return snapshot.save(
                self.state_dir,
                self.client("dynamodb"),
                self.client("s3"),
                list(self.stack.tables()),
                self.stack.buckets(),
            )

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.http.port}" if self.http else ""

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.ws.port}" if self.ws else ""

    @property
    def mcp_url(self) -> str:
        return self.mcp_server.streamable_http_url if self.mcp_server else ""

    def ready_line(self) -> str:
        line = f"Stratus local cloud ready: {self.http_url} {self.ws_url}"
        if self.mcp_server:  # after the two urls the e2e harness reads
            line += f" | demo MCP server: {self.mcp_url} (SSE: {self.mcp_server.sse_url})"
        if self.model_server:
            line += f" | loopback model server: {self.model_server.url}"
        if self.service_fakes and self.service_fakes.services:
            line += f" | loopback services: {self.service_fakes.describe()}"
        return line

    def client(self, service: str) -> Any:
        """A client of the local endpoint, one per service (one botocore session is costly)."""
        if service not in self._clients:
            import boto3

            if self._session is None:
                self._session = boto3.session.Session(
                    region_name=REGION, aws_access_key_id="local", aws_secret_access_key="local"
                )
            self._clients[service] = self._session.client(service, endpoint_url=self.endpoint)
        return self._clients[service]

    # --- pieces -----------------------------------------------------------------------
    def _start_demo_mcp_server(self) -> None:
        """The deterministic demo MCP server (streamable HTTP + SSE) on loopback, for MCP blocks and
        agent nodes; STRATUS_DEMO_MCP=0 leaves it out. Lazy: the port listens now, the server is built
        on the first connection (no start-up cost). Its urls are in the environment for in-process
        code and in the discovery file."""
        if os.environ.get("STRATUS_DEMO_MCP", "1") == "0":
            return
        from localcloud.mcp_server import start_mcp_server

        self.mcp_server = start_mcp_server(lazy=True)
        os.environ["STRATUS_DEMO_MCP_URL"] = self.mcp_server.streamable_http_url
        os.environ["STRATUS_DEMO_MCP_SSE_URL"] = self.mcp_server.sse_url

    def _start_model_server(self) -> dict[str, str]:
        """Every LLM provider's endpoint (`<P>_BASE_URL`, `<P>_API_KEY`): the deterministic
        loopback server (offline by default; Anthropic's Messages API at its root, the others'
        OpenAI-compatible API at /v1), or STRATUS_<P>_BASE_URL for a real one. Only the
        endpoints and the keys change locally."""
        from stratus.blocks.ai.providers import ANTHROPIC, LLM_PROVIDERS

        environment: dict[str, str] = {}
        for provider in LLM_PROVIDERS:
            base_url = settings.model_base_url(provider)
            if base_url is None:
                if self.model_server is None:
                    from localcloud.fake_openai import FakeOpenAI

                    self.model_server = FakeOpenAI().start()
                base_url = self.model_server.root_url if provider == ANTHROPIC else self.model_server.url
            environment[f"{provider.upper()}_BASE_URL"] = base_url
            environment[f"{provider.upper()}_API_KEY"] = settings.model_api_key(provider)
        return environment

    def _start_replicate_server(self) -> dict[str, str]:
        """Replicate's API for the image blocks: the loopback fake, or STRATUS_REPLICATE_BASE_URL
        (with STRATUS_REPLICATE_API_KEY) for the real one."""
        base_url = os.environ.get("STRATUS_REPLICATE_BASE_URL")
        if not base_url:
            from localcloud.fake_replicate import FakeReplicate

            self.replicate_server = FakeReplicate().start()
            base_url = self.replicate_server.url
        return {
            "REPLICATE_BASE_URL": base_url,
            "REPLICATE_API_KEY": os.environ.get("STRATUS_REPLICATE_API_KEY") or settings.LOCAL_MODEL_KEY,
        }

    def _start_service_fakes(self) -> dict[str, str]:
        """The outside services of the integration blocks (localcloud.fakes: Jina, Google, …),
        each deterministic on loopback; their `<ENDPOINT>_BASE_URL`s. STRATUS_REAL_SERVICES=1
        leaves them out (the blocks then call the public endpoints, with your credentials)."""
        if os.environ.get("STRATUS_REAL_SERVICES") == "1":
            return {}
        from localcloud.fakes import start_fakes

        self.service_fakes = start_fakes()
        return self.service_fakes.environment()

    def _loopback_fakes(self) -> list[str]:
        """host:port of each outside-service fake this cloud started, for EGRESS_ALLOW_LIST."""
        servers = [
            self.mcp_server.streamable_http_url if self.mcp_server else "",
            self.model_server.url if self.model_server else "",
            self.replicate_server.url if self.replicate_server else "",
        ]
        fakes = self.service_fakes.netlocs() if self.service_fakes else []
        return [urlsplit(url).netloc for url in servers if url] + fakes

    def _start_moto(self) -> None:
        moto_fidelity.apply()
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        from moto.server import ThreadedMotoServer

        self.moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self.moto.start()
        port = self.moto.get_host_and_port()[1]
        self.endpoint = f"http://127.0.0.1:{port}"
        # moto's ASL interpreter sends its Lambda calls to localhost:$MOTO_PORT.
        os.environ["MOTO_PORT"] = str(port)
        request = urllib.request.Request(
            f"{self.endpoint}/moto-api/config",
            method="POST",
            data=json.dumps({"stepfunctions": {"execute_state_machine": True}}).encode(),
            headers={"Content-Type": "application/json"},
        )
        urllib.request.urlopen(request, timeout=10).read()

    def _base_environment(self) -> dict[str, str]:
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_DEFAULT_REGION": REGION,
            "AWS_REGION": REGION,
            "POWERTOOLS_TRACE_DISABLED": "true",  # no X-Ray daemon on a laptop
            "POWERTOOLS_METRICS_NAMESPACE": "StratusLocal",
            # A credential, so it comes from the environment: functions prefer it over the
            # SSM parameter the template names (moto's SSM alone would add a second to start-up).
            "JWT_VERIFY_KEY": jwt_secret(),
        }

    def _local_value(self, value: str, http_port: int) -> str:
        """Only endpoints change locally: the WebSocket management API lives on the gateway."""
        found = _EXECUTE_API.match(value)
        if found:
            return f"http://127.0.0.1:{http_port}/@ws/{found['stage']}"
        return value

    def _route_lambda_to_runner(self) -> None:
        route_lambda_to(self.runner, self.faults)

    def _provision(self) -> None:
        provision.create_tables(self.stack, self.client("dynamodb"))
        provision.create_buckets(self.stack, self.client("s3"))
        provision.create_schedule_groups(self.stack, self.client("scheduler"))
        local_keys.restore(self.state_dir)  # before the aliases are looked up: same ids, same material
        provision.create_kms_keys(self.stack, self.client("kms"))
        local_keys.save(self.state_dir, self.stack.kms_aliases())
        register_functions(self.stack, self.runner, self.client)

    def _start_event_sources(self) -> None:
        dynamodb, streams = self.client("dynamodb"), self.client("dynamodbstreams")
        rules: list[tuple[dict[str, Any], str]] = []
        for spec in self.runner.functions.values():
            for kind, props in sources_for(spec):
                if kind == "DynamoDB":
                    table = str(props["Stream"]).split(":table/")[1].split("/")[0]
                    poller = StreamPoller(
                        self.runner,
                        spec.logical_id,
                        table,
                        int(props.get("BatchSize", 100)),
                        dynamodb,
                        streams,
                        self.stop_event,
                        retries=int(props.get("MaximumRetryAttempts", MAX_BATCH_RETRIES)),
                        bisect=bool(props.get("BisectBatchOnFunctionError", False)),
                    )
                    self._threads.append(poller)
                    poller.start()
                elif kind in ("EventBridgeRule", "CloudWatchEvent"):
                    rules.append((props.get("Pattern", {}), spec.logical_id))
                elif kind in ("ScheduleV2", "Schedule"):
                    schedule = RateSchedule(
                        self.runner,
                        spec.logical_id,
                        props["ScheduleExpression"],
                        props.get("Input", {}),
                        self.stop_event,
                    )
                    self._threads.append(schedule)
                    schedule.start()
        if rules:
            sfn = self.client("stepfunctions")

            def machine_arns() -> list[str]:
                return [m["stateMachineArn"] for m in sfn.list_state_machines()["stateMachines"]]

            watcher = StepFunctionsStatusWatcher(self.runner, rules, machine_arns, sfn, self.stop_event)
            self._threads.append(watcher)
            watcher.start()
        # EventBridge Scheduler schedules the functions create (moto stores them, never fires them).
        self.scheduler = LocalScheduler(self.runner, self.client("scheduler"), self.stop_event, self.state_dir)
        self.scheduler.restore()
        self._threads.append(self.scheduler)
        self.scheduler.start()

    def _resume_unfinished_executions(self) -> dict[str, str]:
        """Executions the last run left QUEUED or RUNNING lost their state machine with moto:
        each starts its state machine again (Start resumes from the stored nodes), or, when
        that fails, is finalized FAILED with the reason. A full Scan: dev tooling only."""
        from stratus.db.executions_table import META_SK

        orchestrator = self.runner.functions.get("OrchestratorFunction")
        environment = orchestrator.environment if orchestrator else {}
        table, machine_arn = (
            environment.get(name) or os.environ.get(name)
            for name in ("EXECUTIONS_TABLE", "GRAPH_EXECUTION_STATE_MACHINE_ARN")
        )
        if not table or not machine_arn:  # another template (the event-source fixture)
            return {}
        dynamodb, sfn = self.client("dynamodb"), self.client("stepfunctions")
        unfinished: list[str] = []
        kwargs: dict[str, Any] = {
            "TableName": table,
            "FilterExpression": "SK = :meta AND #s IN (:queued, :running)",
            "ExpressionAttributeNames": {"#s": "status"},
            "ExpressionAttributeValues": {
                ":meta": {"S": META_SK},
                ":queued": {"S": "QUEUED"},
                ":running": {"S": "RUNNING"},
            },
        }
        while True:
            page = dynamodb.scan(**kwargs)
            unfinished += [item["id"]["S"] for item in page.get("Items", []) if "id" in item]
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        outcome: dict[str, str] = {}
        for graph_exec_id in unfinished:
            payload = json.dumps({"graph_exec_id": graph_exec_id})
            try:
                try:
                    sfn.start_execution(stateMachineArn=machine_arn, name=graph_exec_id, input=payload)
                except sfn.exceptions.ExecutionAlreadyExists:  # the orchestrator reads name[:36]
                    sfn.start_execution(
                        stateMachineArn=machine_arn, name=f"{graph_exec_id}-resumed-{int(time.time())}", input=payload
                    )
                outcome[graph_exec_id] = "resumed"
            except Exception as exc:  # noqa: BLE001 - never left RUNNING: finalized with the reason
                reason = f"The local cloud restarted and could not resume this execution: {exc}"
                self.runner.invoke(
                    "OrchestratorFunction",
                    {"step": "finalize", "graph_exec_id": graph_exec_id, "error": {"Cause": reason}},
                )
                outcome[graph_exec_id] = "failed"
        if outcome:
            log.warning("resumed %d unfinished execution(s) after a restart", len(outcome))
        return outcome

    def _spawn(self, target: Any, name: str) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        self._threads.append(thread)
        thread.start()

    def _autosave(self) -> None:
        while not self.stop_event.wait(self.autosave_seconds):
            try:
                self.save()
            except Exception:
                log.exception("autosave failed")


def route_lambda_to(runner: LambdaRunner, faults: dict[str, dict[str, Any]] | None = None) -> None:
    """Every moto Lambda invocation (API, Step Functions tasks) runs the handler in-process.
    `faults` may throttle a function's first N invocations with a 429 TooManyRequestsException."""
    from moto.awslambda.models import LambdaFunction
    from moto.core.exceptions import JsonRESTError

    class Throttled(JsonRESTError):
        code = 429

        def __init__(self) -> None:
            super().__init__("TooManyRequestsException", "Rate Exceeded.")

    throttles = {name: int(fault.get("throttle", 0)) for name, fault in (faults or {}).items()}
    throttle_lock = threading.Lock()

    def invoke_in_process(function: Any, event: str | None = None) -> tuple[str, bool, str]:
        with throttle_lock:
            if throttles.get(function.function_name, 0) > 0:
                throttles[function.function_name] -= 1
                raise Throttled()
        payload = json.loads(event) if isinstance(event, (str, bytes)) else (event or {})
        result = runner.invoke(function.function_name, payload)
        logs = (
            f"START RequestId: {result.request_id}\nEND RequestId: {result.request_id}\n"
            f"REPORT RequestId: {result.request_id}\tDuration: {result.duration_ms:.2f} ms\n"
        )
        return json.dumps(result.payload), result.errored, logs

    LambdaFunction._invoke_lambda = invoke_in_process


def register_functions(stack: Stack, runner: LambdaRunner, client: Any) -> None:
    """Create the template's functions and state machines in moto (Lambda API + ASL)."""
    iam, lambda_client, sfn = client("iam"), client("lambda"), client("stepfunctions")
    try:
        iam.create_role(
            RoleName=ROLE_NAME,
            AssumeRolePolicyDocument=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Action": "sts:AssumeRole",
                            "Principal": {"Service": ["lambda.amazonaws.com", "states.amazonaws.com"]},
                        }
                    ],
                }
            ),
        )
    except iam.exceptions.EntityAlreadyExistsException:
        pass
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("README.txt", "Runs in-process in the Stratus local cloud.")
    for spec in runner.functions.values():
        lambda_client.create_function(
            FunctionName=spec.logical_id,
            Runtime="python3.12",
            Role=ROLE_ARN,
            Handler=spec.handler,
            Code={"ZipFile": code.getvalue()},
            Timeout=max(1, math.ceil(spec.timeout)),
            MemorySize=spec.memory,
            Environment={"Variables": spec.environment},
        )
    for name, machine in stack.state_machines().items():
        sfn.create_state_machine(name=name, definition=machine["definition"], roleArn=ROLE_ARN, type=machine["type"])
