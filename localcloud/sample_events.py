"""Write events/*.json: one or more sample events per template function.

`python -m localcloud.sample_events` regenerates them. HTTP events carry a long-lived token
signed with the local development secret, so `make invoke` works against the local cloud.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from localcloud.apigw import http_event, websocket_event
from localcloud.settings import DEFAULT_JWT_SECRET
from localcloud.stack import ACCOUNT_ID, REGION

ROOT = Path(__file__).resolve().parent.parent
EVENTS_DIR = ROOT / "events"
DEMO_USER = "demo-user"
YEAR_2100 = 4102444800
ISSUED_AT = 1767225600  # 2026-01-01
CALCULATOR_BLOCK_ID = "b1ab9b19-67a6-406d-abf5-2dba76d00c79"
SAMPLE_GRAPH_ID = "0b6a5b7e-4f4e-4a51-9d0e-5a3c1c0d2f10"
SAMPLE_GRAPH_EXEC_ID = "5e1f6c2a-8d3b-4c7e-9a10-3f2b7d4e6a01"
SAMPLE_SCHEDULE_ID = "7a2e4c1b-9d3f-4e58-b6a0-2c8f1e5d3b04"


def _shared_on_path() -> None:
    """The domain package (tokens, DynamoDB serialisation) without installing it."""
    if str(ROOT / "shared") not in sys.path:
        sys.path.insert(0, str(ROOT / "shared"))


def _token(user: str = DEMO_USER, admin: bool = False) -> str:
    """A token signed with the local development secret, valid until 2100. Fixed claims, so
    regenerating the samples changes nothing unless their content changes."""
    import jwt

    claims = {
        "sub": user,
        "aud": "authenticated",
        "iat": ISSUED_AT,
        "exp": YEAR_2100,
        "role": "admin" if admin else "authenticated",
        "email": f"{user}@example.com",
    }
    return jwt.encode(claims, DEFAULT_JWT_SECRET, algorithm="HS256")


def _http(
    method: str,
    path: str,
    route_key: str,
    body: object = None,
    query: str = "",
    admin: bool = False,
    path_parameters: dict | None = None,
) -> dict:
    headers = {
        "authorization": f"Bearer {_token(admin=admin)}",
        "content-type": "application/json",
        "host": "127.0.0.1:3000",
    }
    raw = json.dumps(body).encode() if body is not None else b""
    event = http_event(method, path, route_key, headers, query, raw, path_parameters)
    event["requestContext"]["requestId"] = "sample-request-id"
    return event


def http_samples() -> dict[str, dict]:
    """File name (without .json) → API Gateway HTTP event. Ordered: the user is created first."""
    return {
        "users_create_user": _http(
            "POST", "/api/auth/user", "ANY /api/auth/{proxy+}", path_parameters={"proxy": "user"}
        ),
        "users_get_credits": _http("GET", "/api/credits", "GET /api/credits"),
        "users_set_timezone": _http(
            "POST",
            "/api/auth/user/timezone",
            "ANY /api/auth/{proxy+}",
            {"timezone": "Europe/Paris"},
            path_parameters={"proxy": "user/timezone"},
        ),
        "users_list_transactions": _http(
            "GET",
            "/api/credits/transactions",
            "ANY /api/credits/{proxy+}",
            query="transaction_count_limit=10",
            path_parameters={"proxy": "transactions"},
        ),
        "users_create_api_key": _http(
            "POST",
            "/api/api-keys",
            "ANY /api/api-keys",
            {"name": "sample", "permissions": ["IDENTITY", "EXECUTE_GRAPH"]},
        ),
        "users_list_api_keys": _http("GET", "/api/api-keys", "ANY /api/api-keys"),
        "users_list_integration_credentials": _http(
            "GET",
            "/api/integrations/credentials",
            "ANY /api/integrations/{proxy+}",
            path_parameters={"proxy": "credentials"},
        ),
        "graphs_create_graph": _http(
            "POST",
            "/api/graphs",
            "ANY /api/graphs",
            {"graph": json.loads((ROOT / "examples" / "calculator.json").read_text()), "source": "upload"},
        ),
        "graphs_list_graphs": _http("GET", "/api/graphs", "ANY /api/graphs"),
        "graphs_list_blocks": _http("GET", "/api/blocks", "GET /api/blocks"),
        "library_list_agents": _http(
            "GET",
            "/api/library/agents",
            "ANY /api/library/{proxy+}",
            query="page=1&page_size=10",
            path_parameters={"proxy": "agents"},
        ),
        "store_list_agents": _http(
            "GET",
            "/api/store/agents",
            "ANY /api/store/{proxy+}",
            query="sorted_by=runs&page_size=10",
            path_parameters={"proxy": "agents"},
        ),
        "library_list_schedules": _http("GET", "/api/schedules", "ANY /api/schedules"),
        "graphs_execute_block": _http(
            "POST",
            f"/api/blocks/{CALCULATOR_BLOCK_ID}/execute",
            "ANY /api/blocks/{proxy+}",
            {"operation": "Add", "a": 2, "b": 40},
            path_parameters={"proxy": f"{CALCULATOR_BLOCK_ID}/execute"},
        ),
    }


def websocket_samples() -> dict[str, tuple[str, dict]]:
    """File name → (function logical id, WebSocket API event)."""
    connection_id = "c2FtcGxlLWNvbm4="
    return {
        "ws_connect": (
            "WsConnectFunction",
            websocket_event(
                "CONNECT",
                "$connect",
                connection_id,
                query={"token": _token()},
                headers={"Host": "127.0.0.1:3001"},
                stage="ws",
            ),
        ),
        "ws_heartbeat": (
            "WsMessagesFunction",
            websocket_event(
                "MESSAGE", "heartbeat", connection_id, body=json.dumps({"method": "heartbeat"}), stage="ws"
            ),
        ),
        "ws_subscribe_graph_execution": (
            "WsMessagesFunction",
            _ws_message(connection_id, "subscribe_graph_execution", {"graph_exec_id": SAMPLE_GRAPH_EXEC_ID}),
        ),
        "ws_subscribe_graph_executions": (
            "WsMessagesFunction",
            _ws_message(connection_id, "subscribe_graph_executions", {"graph_id": SAMPLE_GRAPH_ID}),
        ),
        "ws_unsubscribe": (
            "WsMessagesFunction",
            _ws_message(connection_id, "unsubscribe", {"graph_exec_id": SAMPLE_GRAPH_EXEC_ID}),
        ),
        "ws_disconnect": (
            "WsDisconnectFunction",
            websocket_event("DISCONNECT", "$disconnect", connection_id, stage="ws"),
        ),
    }


def _ws_message(connection_id: str, method: str, data: dict) -> dict:
    return websocket_event(
        "MESSAGE", method, connection_id, body=json.dumps({"method": method, "data": data}), stage="ws"
    )


def _stream_record(sequence: int, event_name: str, keys: dict, new: dict, old: dict | None = None) -> dict:
    """One ExecutionsTable stream record (NEW_AND_OLD_IMAGES), as Lambda receives it."""
    _shared_on_path()
    from stratus.db.dynamo import serialize

    change = {
        "ApproximateCreationDateTime": 1767225600 + sequence,
        "Keys": serialize(keys),
        "NewImage": serialize({**keys, **new}),
        "SequenceNumber": f"{sequence:021d}",
        "SizeBytes": 512,
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    }
    if old is not None:
        change["OldImage"] = serialize({**keys, **old})
    return {
        "eventID": f"sample-{sequence}",
        "eventName": event_name,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": REGION,
        "dynamodb": change,
        "eventSourceARN": f"arn:aws:dynamodb:{REGION}:{ACCOUNT_ID}:table/ExecutionsTable/stream/"
        "2026-01-01T00:00:00.000",
    }


def stream_samples() -> dict[str, tuple[str, dict]]:
    """File name → (function logical id, DynamoDB stream event)."""
    exec_pk = f"GEXEC#{SAMPLE_GRAPH_EXEC_ID}"
    meta = {
        "kind": "graph",
        "id": SAMPLE_GRAPH_EXEC_ID,
        "user_id": DEMO_USER,
        "graph_id": SAMPLE_GRAPH_ID,
        "graph_version": 1,
        "inputs": {"a": 2, "b": 40},
        "created_at": "2026-01-01T00:00:00+00:00",
        "started_at": "2026-01-01T00:00:01+00:00",
    }
    node_exec_id = "9c4d2e1f-0a6b-4f3c-8e7d-2b1a0c9f8e02"
    node = {
        "kind": "node",
        "node_exec_id": node_exec_id,
        "graph_exec_id": SAMPLE_GRAPH_EXEC_ID,
        "user_id": DEMO_USER,
        "node_id": "calc",
        "block_id": CALCULATOR_BLOCK_ID,
        "status": "COMPLETED",
        "seq": 1,
        "input_data": {"operation": "Add", "a": 2, "b": 40},
        "output_data": {"result": [42]},
        "add_time": "2026-01-01T00:00:01+00:00",
        "queue_time": "2026-01-01T00:00:01+00:00",
        "start_time": "2026-01-01T00:00:01+00:00",
        "end_time": "2026-01-01T00:00:02+00:00",
    }
    running = {
        **meta,
        "status": "RUNNING",
        "outputs": {},
        "stats": {"cost": 0, "duration": 0.0, "node_exec_count": 0, "node_error_count": 0},
    }
    completed = {
        **meta,
        "status": "COMPLETED",
        "outputs": {"result": [42]},
        "ended_at": "2026-01-01T00:00:02+00:00",
        "stats": {"cost": 0, "duration": 1.0, "node_exec_count": 1, "node_error_count": 0},
    }
    records = [
        _stream_record(1, "INSERT", {"PK": exec_pk, "SK": f"NODE#{node_exec_id}"}, node),
        _stream_record(2, "MODIFY", {"PK": exec_pk, "SK": "META"}, completed, old=running),
    ]
    return {"notifier_execution_events": ("NotifierFunction", {"Records": records})}


def execution_samples() -> dict[str, tuple[str, dict]]:
    """The state machine's payloads (ids only) and the EventBridge finalizer's event. Against
    an execution that does not exist they are no-ops; run one first to see them work on it."""
    ids = {"graph_exec_id": SAMPLE_GRAPH_EXEC_ID}
    state_machine = "arn:aws:states:us-east-1:123456789012:stateMachine:stratus-graph-execution"
    return {
        "orchestrator_finalize": ("OrchestratorFunction", {"step": "finalize", **ids}),
        "orchestrator_execution_aborted": (
            "OrchestratorFunction",
            {
                "version": "0",
                "id": "0e1b7c2d-3f4a-4b5c-9d6e-7f8091a2b3c4",
                "detail-type": "Step Functions Execution Status Change",
                "source": "aws.states",
                "account": "123456789012",
                "time": "2026-01-01T00:00:03Z",
                "region": "us-east-1",
                "resources": [state_machine.replace(":stateMachine:", ":execution:") + f":{SAMPLE_GRAPH_EXEC_ID}"],
                "detail": {
                    "executionArn": state_machine.replace(":stateMachine:", ":execution:") + f":{SAMPLE_GRAPH_EXEC_ID}",
                    "stateMachineArn": state_machine,
                    "name": SAMPLE_GRAPH_EXEC_ID,
                    "status": "ABORTED",
                    "startDate": 1767225600000,
                    "stopDate": 1767225603000,
                },
            },
        ),
        "block_core_run_node": ("BlockCoreFunction", {**ids, "node_exec_id": "9c4d2e1f-0a6b-4f3c-8e7d-2b1a0c9f8e02"}),
        "block_ai_run_node": ("BlockAiFunction", {**ids, "node_exec_id": "9c4d2e1f-0a6b-4f3c-8e7d-2b1a0c9f8e03"}),
        "block_integrations_run_node": (
            "BlockIntegrationsFunction",
            {**ids, "node_exec_id": "9c4d2e1f-0a6b-4f3c-8e7d-2b1a0c9f8e04"},
        ),
    }


def schedule_samples() -> dict[str, tuple[str, dict]]:
    """What EventBridge Scheduler sends the ScheduledRunFunction (ids and the scheduled time).
    For a schedule that does not exist it is a no-op; create one and use its id to see a run."""
    return {
        "scheduled_run": (
            "ScheduledRunFunction",
            {"schedule_id": SAMPLE_SCHEDULE_ID, "user_id": DEMO_USER, "scheduled_time": "2026-01-01T09:00:00Z"},
        ),
    }


def all_samples(routes: list[tuple[str, str, str]]) -> dict[str, tuple[str, dict]]:
    """Every sample as file name → (function logical id, event); HTTP ones by their route."""
    from localcloud.apigw import HttpRouter

    router = HttpRouter(routes)
    samples: dict[str, tuple[str, dict]] = {}
    for name, event in http_samples().items():
        matched = router.match(event["requestContext"]["http"]["method"], event["rawPath"])
        if matched is None:
            raise ValueError(f"Sample {name} matches no route in the template")
        samples[name] = (matched[1], event)
    samples.update(websocket_samples())
    samples.update(stream_samples())
    samples.update(execution_samples())
    samples.update(schedule_samples())
    return samples


def write_all() -> list[Path]:
    EVENTS_DIR.mkdir(exist_ok=True)
    written = []
    events = {
        **http_samples(),
        **{
            name: event
            for name, (_, event) in {
                **websocket_samples(),
                **stream_samples(),
                **execution_samples(),
                **schedule_samples(),
            }.items()
        },
    }
    for name, event in events.items():
        path = EVENTS_DIR / f"{name}.json"
        path.write_text(json.dumps(event, indent=2) + "\n")
        written.append(path)
    return written


if __name__ == "__main__":
    for path in write_all():
        print(path.relative_to(ROOT))
