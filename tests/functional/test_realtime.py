"""Subscriptions and the execution notifier on moto: real ExecutionsTable stream records, the
WebSocket handlers, and API Gateway's management endpoint faked on loopback."""

from __future__ import annotations

import json
import math
import os
from typing import Any

import pytest

from localcloud.apigw import websocket_event
from stratus.aws import client
from stratus.db.dynamo import Table
from stratus.db.executions_table import executions_table, meta_key, node_key, static_key
from stratus.realtime import connections, notifier, subscriptions
from tests.conftest import token

EXEC, GRAPH = "e1", "g1"


def _invoke(api, function: str, event: dict) -> Any:
    result = api.runner.invoke(function, event)
    assert not result.errored, result.payload
    return result.payload


def _connect(api, management, connection_id: str, user: str) -> None:
    management.live.add(connection_id)
    event = websocket_event("CONNECT", "$connect", connection_id, query={"token": token(user)})
    assert _invoke(api, "WsConnectFunction", event)["statusCode"] == 200


def _send(api, connection_id: str, method: str, data: Any = None) -> None:
    body = json.dumps({"method": method, **({"data": data} if data is not None else {})})
    event = websocket_event("MESSAGE", method, connection_id, body=body)
    assert _invoke(api, "WsMessagesFunction", event)["statusCode"] == 200


class Stream:
    """Reads the ExecutionsTable stream like the Lambda event source does."""

    def __init__(self):
        # botocore derives an account endpoint (<account>.streams-ddb…) from the ARN; moto only
        # serves the regional one.
        streams = client("dynamodbstreams", endpoint_url="https://streams.dynamodb.us-east-1.amazonaws.com")
        arn = client("dynamodb").describe_table(TableName="ExecutionsTable")["Table"]["LatestStreamArn"]
        shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
        self.streams = streams
        self.iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="LATEST")[
            "ShardIterator"
        ]

    def records(self) -> list[dict]:
        response = self.streams.get_records(ShardIterator=self.iterator)
        self.iterator = response["NextShardIterator"]
        return response["Records"]


@pytest.fixture()
def stream(aws) -> Stream:
    return Stream()


def _notify(api, records: list[dict]) -> dict:
    assert records, "the writes should have produced stream records"
    return _invoke(api, "NotifierFunction", {"Records": records})


def _meta(status: str, **extra: Any) -> dict:
    return {
        **meta_key(EXEC),
        "kind": "graph",
        "id": EXEC,
        "user_id": "alice",
        "graph_id": GRAPH,
        "graph_version": 3,
        "status": status,
        "inputs": {"x": 1},
        "outputs": {},
        "stats": {"cost": 0, "duration": 0.0, "node_exec_count": 0, "node_error_count": 0},
        "created_at": "2026-01-01T00:00:00+00:00",
        **extra,
    }


def _node(status: str, **extra: Any) -> dict:
    return {
        **node_key(EXEC, "n1"),
        "kind": "node",
        "node_exec_id": "n1",
        "graph_exec_id": EXEC,
        "user_id": "alice",
        "node_id": "calc",
        "block_id": "b1",
        "status": status,
        "seq": 1,
        "input_data": {"a": 1},
        "output_data": {},
        "add_time": "2026-01-01T00:00:01+00:00",
        **extra,
    }


# Subscriptions ---------------------------------------------------------------------------


def test_subscribe_and_unsubscribe_are_acknowledged_with_the_channel(api, management):
    _connect(api, management, "c1", "alice")
    _send(api, "c1", "subscribe_graph_execution", {"graph_exec_id": EXEC})
    _send(api, "c1", "subscribe_graph_executions", {"graph_id": GRAPH})
    _send(api, "c1", "unsubscribe", {"graph_exec_id": EXEC})
    assert management.messages("c1") == [
        {"method": "subscribe_graph_execution", "success": True, "channel": "alice|graph_exec#e1"},
        {"method": "subscribe_graph_executions", "success": True, "channel": "alice|graph#g1|executions"},
        {"method": "unsubscribe", "success": True, "channel": "alice|graph_exec#e1"},
    ]
    assert subscriptions.subscribers("alice|graph_exec#e1") == []
    assert subscriptions.subscribers("alice|graph#g1|executions") == ["c1"]
    raw = Table(
        os.environ.get("CONNECTIONS_TABLE", "ConnectionsTable")
    )  # the stored layout, as docs/data-model.md shows it
    stored = raw.get({"PK": "SUB#alice|graph#g1|executions", "SK": "CONN#c1"})
    assert stored["GSI1PK"] == "CONN#c1" and stored["GSI1SK"] == "SUB#alice|graph#g1|executions"
    assert stored["expires_at"] == connections.get("c1")["expires_at"]


def test_unsubscribe_also_leaves_a_graphs_channel(api, management):
    _connect(api, management, "c1", "alice")
    _send(api, "c1", "subscribe_graph_executions", {"graph_id": GRAPH})
    _send(api, "c1", "unsubscribe", {"graph_id": GRAPH})
    assert management.messages("c1")[1] == {
        "method": "unsubscribe",
        "success": True,
        "channel": "alice|graph#g1|executions",
    }
    assert subscriptions.channels_of("c1") == []


def test_heartbeat_still_answers_pong(api, management):
    _connect(api, management, "c1", "alice")
    _send(api, "c1", "heartbeat")
    assert management.messages("c1") == [{"method": "heartbeat", "data": "pong", "success": True}]


@pytest.mark.parametrize(
    "method, data, field",
    [
        ("subscribe_graph_execution", None, "graph_exec_id"),
        ("subscribe_graph_execution", {"graph_id": GRAPH}, "graph_exec_id"),
        ("subscribe_graph_execution", {"graph_exec_id": 7}, "graph_exec_id"),
        ("subscribe_graph_execution", {"graph_exec_id": "e1|x"}, "graph_exec_id"),
        ("subscribe_graph_executions", {"graph_id": "x#y"}, "graph_id"),
        ("subscribe_graph_executions", {"graph_id": ""}, "graph_id"),
        ("unsubscribe", "e1", "graph_exec_id"),
    ],
)
def test_bad_subscription_data_is_refused_clearly(api, management, method, data, field):
    _connect(api, management, "c1", "alice")
    _send(api, "c1", method, data)
    [reply] = management.messages("c1")
    assert reply["method"] == method and reply["success"] is False
    assert f'"{field}"' in reply["error"] and "channel" not in reply
    assert subscriptions.channels_of("c1") == []


def test_unknown_connection_gets_an_error(api, management):
    management.live.add("ghost")
    _send(api, "ghost", "subscribe_graph_execution", {"graph_exec_id": EXEC})
    assert management.messages("ghost") == [
        {
            "method": "subscribe_graph_execution",
            "success": False,
            "error": "Unknown connection: reconnect with ?token=<JWT>.",
        }
    ]
    assert subscriptions.subscribers("alice|graph_exec#e1") == []


def test_a_crafted_id_cannot_reach_another_users_channel(api, management):
    _connect(api, management, "mallory", "mallory")
    _send(api, "mallory", "subscribe_graph_execution", {"graph_exec_id": "x|alice|graph_exec#e1"})
    _send(api, "mallory", "subscribe_graph_execution", {"graph_exec_id": EXEC})
    replies = management.messages("mallory")
    assert replies[0]["success"] is False
    assert replies[1]["channel"] == "mallory|graph_exec#e1"
    assert subscriptions.channels_of("mallory") == ["mallory|graph_exec#e1"]


def test_disconnect_removes_the_subscriptions(api, management):
    _connect(api, management, "c1", "alice")
    _send(api, "c1", "subscribe_graph_execution", {"graph_exec_id": EXEC})
    _send(api, "c1", "subscribe_graph_executions", {"graph_id": GRAPH})
    _invoke(api, "WsDisconnectFunction", websocket_event("DISCONNECT", "$disconnect", "c1"))
    assert connections.get("c1") is None
    assert subscriptions.channels_of("c1") == []
    assert subscriptions.subscribers("alice|graph_exec#e1") == []


# Notifier --------------------------------------------------------------------------------


def test_execution_events_fan_out_to_both_channels_in_stream_order(api, management, stream):
    _connect(api, management, "watch-exec", "alice")
    _send(api, "watch-exec", "subscribe_graph_execution", {"graph_exec_id": EXEC})
    _connect(api, management, "watch-graph", "alice")
    _send(api, "watch-graph", "subscribe_graph_executions", {"graph_id": GRAPH})
    _connect(api, management, "both", "alice")
    _send(api, "both", "subscribe_graph_execution", {"graph_exec_id": EXEC})
    _send(api, "both", "subscribe_graph_executions", {"graph_id": GRAPH})
    management.posted.clear()

    table = executions_table()
    table.put(_meta("QUEUED"))
    table.put(_node("RUNNING", start_time="2026-01-01T00:00:02+00:00"))
    table.update(
        node_key(EXEC, "n1"),
        "SET #s = :s, output_data = :o, end_time = :t",
        names={"#s": "status"},
        values={":s": "COMPLETED", ":o": {"result": [2]}, ":t": "2026-01-01T00:00:03+00:00"},
    )
    table.put(
        _meta(
            "COMPLETED",
            outputs={"result": [2]},
            started_at="2026-01-01T00:00:01+00:00",
            ended_at="2026-01-01T00:00:03+00:00",
            stats={"cost": 3, "duration": 2.5, "node_exec_count": 1, "node_error_count": 0},
        )
    )
    summary = _notify(api, stream.records())

    exec_channel, graph_channel = "alice|graph_exec#e1", "alice|graph#g1|executions"
    watch_exec = management.messages("watch-exec")
    assert [(m["method"], m["channel"], m["data"]["status"]) for m in watch_exec] == [
        ("graph_execution_event", exec_channel, "QUEUED"),
        ("node_execution_event", exec_channel, "RUNNING"),
        ("node_execution_event", exec_channel, "COMPLETED"),
        ("graph_execution_event", exec_channel, "COMPLETED"),
    ]
    assert [(m["channel"], m["data"]["status"]) for m in management.messages("watch-graph")] == [
        (graph_channel, "QUEUED"),
        (graph_channel, "COMPLETED"),
    ]
    assert [(m["channel"], m["data"]["status"]) for m in management.messages("both")] == [
        (exec_channel, "QUEUED"),
        (graph_channel, "QUEUED"),
        (exec_channel, "RUNNING"),
        (exec_channel, "COMPLETED"),
        (exec_channel, "COMPLETED"),
        (graph_channel, "COMPLETED"),
    ]
    assert summary == {"events": 6, "sent": 12, "gone": 0, "failed": 0}

    assert watch_exec[3]["data"] == {
        "event_type": "graph_execution_update",
        "id": EXEC,
        "user_id": "alice",
        "graph_id": GRAPH,
        "graph_version": 3,
        "status": "COMPLETED",
        "inputs": {"x": 1},
        "outputs": {"result": [2]},
        "started_at": "2026-01-01T00:00:01+00:00",
        "ended_at": "2026-01-01T00:00:03+00:00",
        "stats": {
            "cost": 3,
            "duration": 2.5,
            "node_exec_count": 1,
            "node_error_count": 0,
            "error": None,
            "input_token_count": 0,
            "output_token_count": 0,
            "llm_call_count": 0,
        },
    }
    assert watch_exec[2]["data"] == {
        "event_type": "node_execution_update",
        "graph_exec_id": EXEC,
        "node_exec_id": "n1",
        "node_id": "calc",
        "block_id": "b1",
        "status": "COMPLETED",
        "input_data": {"a": 1},
        "output_data": {"result": [2]},
        "add_time": "2026-01-01T00:00:01+00:00",
        "queue_time": None,
        "start_time": "2026-01-01T00:00:02+00:00",
        "end_time": "2026-01-01T00:00:03+00:00",
        "stats": None,
    }
    assert isinstance(watch_exec[3]["data"]["graph_version"], int)


def test_another_users_subscriber_never_receives_an_event(api, management, stream):
    _connect(api, management, "bob-1", "bob")
    _send(api, "bob-1", "subscribe_graph_execution", {"graph_exec_id": EXEC})
    _send(api, "bob-1", "subscribe_graph_executions", {"graph_id": GRAPH})
    _connect(api, management, "alice-1", "alice")
    _send(api, "alice-1", "subscribe_graph_execution", {"graph_exec_id": EXEC})
    management.posted.clear()

    executions_table().put(_meta("RUNNING"))
    executions_table().put(_node("COMPLETED", output_data={"secret": ["alice's"]}))
    _notify(api, stream.records())
    assert management.messages("bob-1") == []
    assert len(management.messages("alice-1")) == 2


def test_a_gone_connection_is_forgotten_with_its_subscriptions(api, management, stream):
    _connect(api, management, "gone", "alice")
    _send(api, "gone", "subscribe_graph_execution", {"graph_exec_id": EXEC})
    _send(api, "gone", "subscribe_graph_executions", {"graph_id": GRAPH})
    _connect(api, management, "live", "alice")
    _send(api, "live", "subscribe_graph_execution", {"graph_exec_id": EXEC})
    management.live.discard("gone")
    management.posted.clear()

    executions_table().put(_meta("RUNNING"))
    executions_table().put(_node("RUNNING"))
    summary = _notify(api, stream.records())
    assert summary["gone"] == 1 and summary["sent"] == 2
    assert connections.get("gone") is None
    assert subscriptions.channels_of("gone") == []
    assert subscriptions.subscribers("alice|graph_exec#e1") == ["live"]
    assert subscriptions.subscribers("alice|graph#g1|executions") == []
    assert [m["method"] for m in management.messages("live")] == ["graph_execution_event", "node_execution_event"]


def test_a_write_that_changes_nothing_visible_sends_nothing(api, management, stream):
    table = executions_table()
    table.put(_meta("RUNNING"))
    table.put(_node("RUNNING"))
    stream.records()
    _connect(api, management, "c1", "alice")
    _send(api, "c1", "subscribe_graph_execution", {"graph_exec_id": EXEC})
    management.posted.clear()

    table.update(meta_key(EXEC), "SET stats.cost = :c, request_hashes = :h", values={":c": 5, ":h": {"inputs": "x"}})
    table.update(node_key(EXEC, "n1"), "SET routed = :f", values={":f": False})
    table.put({**static_key(EXEC, "calc", "a"), "node_id": "calc", "pin": "a", "value": 1})
    table.delete(node_key(EXEC, "n1"))
    records = stream.records()
    assert {r["eventName"] for r in records} == {"MODIFY", "INSERT", "REMOVE"}
    assert _notify(api, records) == {"events": 0, "sent": 0, "gone": 0, "failed": 0}
    assert management.messages("c1") == []


def test_infinity_survives_to_the_client(api, management, stream):
    _connect(api, management, "c1", "alice")
    _send(api, "c1", "subscribe_graph_execution", {"graph_exec_id": EXEC})
    management.posted.clear()
    executions_table().put(_node("COMPLETED", output_data={"result": [math.inf, -math.inf, 1.5]}))
    _notify(api, stream.records())
    [(_, raw)] = management.posted
    assert '"result":[Infinity,-Infinity,1.5]' in raw
    assert management.messages("c1")[0]["data"]["output_data"]["result"][0] == math.inf


def test_stored_values_are_resolved_unless_too_large_for_a_message(api, management, stream, monkeypatch):
    monkeypatch.setenv("VALUES_BUCKET", "test-values")
    client("s3").create_bucket(Bucket="test-values")
    client("s3").put_object(Bucket="test-values", Key="big.json", Body=json.dumps({"text": "x" * 1000}).encode())
    _connect(api, management, "c1", "alice")
    _send(api, "c1", "subscribe_graph_execution", {"graph_exec_id": EXEC})
    management.posted.clear()

    executions_table().put(
        _node("COMPLETED", input_data={"a": {"$s3": "big.json"}}, output_data={"result": [{"$s3": "big.json"}]})
    )
    _notify(api, stream.records())
    data = management.messages("c1")[0]["data"]
    assert data["input_data"] == {"a": {"text": "x" * 1000}}
    assert data["output_data"] == {"result": [{"text": "x" * 1000}]}

    monkeypatch.setattr(notifier, "MAX_MESSAGE_BYTES", 1500)
    executions_table().update(node_key(EXEC, "n1"), "SET #s = :s", names={"#s": "status"}, values={":s": "FAILED"})
    _notify(api, stream.records())
    data = management.messages("c1")[1]["data"]
    assert data["status"] == "FAILED" and data["output_data"] == {"result": [{"$s3": "big.json"}]}


def test_graph_inputs_stored_by_reference_reach_the_client_as_values(api, management, stream, monkeypatch):
    from stratus.executions import values

    monkeypatch.setenv("VALUES_BUCKET", "test-values")
    client("s3").create_bucket(Bucket="test-values")
    big = "i" * (values.INLINE_LIMIT + 1)
    stored = values.store_fitting({"text": big, "x": 1}, f"{EXEC}/inputs")  # as the launcher stores them
    assert set(stored["text"]) == {"$s3"} and stored["x"] == 1
    _connect(api, management, "c1", "alice")
    _send(api, "c1", "subscribe_graph_execution", {"graph_exec_id": EXEC})
    management.posted.clear()
    monkeypatch.setattr(notifier, "MAX_MESSAGE_BYTES", 2 * values.INLINE_LIMIT)
    executions_table().put(_meta("QUEUED", inputs=stored))
    _notify(api, stream.records())
    [message] = management.messages("c1")
    assert message["method"] == "graph_execution_event" and message["data"]["inputs"] == {"text": big, "x": 1}
