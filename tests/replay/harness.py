"""What the replay recorder and the replay tests share: snapshots of the tables the
orchestrator reads and writes, loading them back into a fresh moto account, and the
deterministic normalization that makes a recorded step comparable with a replayed one.

Only the stable boundary is used: boto3 on the tables (layout: stratus.db.executions_table's
docstring), never the execution modules themselves.
"""

from __future__ import annotations

import json
import os
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "replay"
EXECUTIONS_TABLE = "ExecutionsTable"
# The other tables a step reads (the graph version, the user's balance and ledger, MAG model
# configs): recorded whole, they are tiny in a recording.
WORLD_TABLES = ("UsersTable", "GraphsTable", "StoreTable")

_DESERIALIZER = TypeDeserializer()
_SERIALIZER = TypeSerializer()

# Fields that hold wall-clock values: masked (their presence and null-ness still count).
TIME_KEYS = frozenset(
    {"add_time", "queue_time", "start_time", "end_time", "created_at", "started_at", "ended_at", "updated_at", "at"}
)
DURATION_KEYS = frozenset({"duration", "walltime", "cputime"})
_ISO_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?")
TIME_MASK = "<time>"


def _dynamodb() -> Any:
    return boto3.client("dynamodb", region_name=os.environ.get("AWS_REGION", "us-east-1"))


def _s3() -> Any:
    return boto3.client("s3", region_name=os.environ.get("AWS_REGION", "us-east-1"))


def to_plain(value: Any) -> Any:
    """A DynamoDB value as JSON: a Decimal keeps its written form (7 stays 7, 7.0 stays 7.0)."""
    if isinstance(value, Decimal):
        text = str(value)
        return int(text) if re.fullmatch(r"-?\d+", text) else float(text)
    if isinstance(value, dict):
        return {k: to_plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_plain(v) for v in value]
    if isinstance(value, set):
        raise TypeError("sets are not recorded (no item uses one)")
    return value


def to_dynamo(value: Any) -> Any:
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        return Decimal(str(value))
    if isinstance(value, dict):
        return {k: to_dynamo(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_dynamo(v) for v in value]
    return value


def _decode(item: dict[str, Any]) -> dict[str, Any]:
    return to_plain({k: _DESERIALIZER.deserialize(v) for k, v in item.items()})


def _encode(item: dict[str, Any]) -> dict[str, Any]:
    return {k: _SERIALIZER.serialize(to_dynamo(v)) for k, v in item.items()}


def partition(graph_exec_id: str) -> list[dict[str, Any]]:
    """Every item of the execution's partition, `GEXEC#<id>`, sorted by SK."""
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {
        "TableName": EXECUTIONS_TABLE,
        "KeyConditionExpression": "PK = :pk",
        "ExpressionAttributeValues": {":pk": {"S": f"GEXEC#{graph_exec_id}"}},
        "ConsistentRead": True,
    }
    while True:
        page = _dynamodb().query(**kwargs)
        items.extend(_decode(i) for i in page["Items"])
        if "LastEvaluatedKey" not in page:
            break
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    return sorted(items, key=lambda i: i["SK"])


def table_items(table: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"TableName": table, "ConsistentRead": True}
    while True:
        page = _dynamodb().scan(**kwargs)
        items.extend(_decode(i) for i in page["Items"])
        if "LastEvaluatedKey" not in page:
            break
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    return sorted(items, key=lambda i: (str(i.get("PK")), str(i.get("SK"))))


def world() -> dict[str, list[dict[str, Any]]]:
    return {table: table_items(table) for table in WORLD_TABLES}


def value_objects() -> dict[str, str]:
    """The values bucket (values over ~64 KB); recordings are kept small, so it stays empty."""
    bucket = os.environ["VALUES_BUCKET"]
    listed = _s3().list_objects_v2(Bucket=bucket).get("Contents", [])
    return {o["Key"]: _s3().get_object(Bucket=bucket, Key=o["Key"])["Body"].read().decode() for o in listed}


def load(step: dict[str, Any]) -> None:
    """Put a recorded step's "before" state into the (fresh, empty) moto account."""
    client = _dynamodb()
    for table, items in step["world_before"].items():
        for item in items:
            client.put_item(TableName=table, Item=_encode(item))
    for item in step["partition_before"]:
        client.put_item(TableName=EXECUTIONS_TABLE, Item=_encode(item))
    for key, body in step.get("values_before", {}).items():
        _s3().put_object(Bucket=os.environ["VALUES_BUCKET"], Key=key, Body=body.encode())


# --- normalization -----------------------------------------------------------------------


def node_exec_ids(items: list[dict[str, Any]], *extra: Any) -> list[str]:
    """The node-execution ids in a partition, in creation order (`seq`), then any others
    (a batch, RUN# claims) in order of first appearance."""
    nodes = sorted((i for i in items if str(i["SK"]).startswith("NODE#")), key=lambda i: int(i.get("seq", 0)))
    seqs = [int(n.get("seq", 0)) for n in nodes]
    assert len(set(seqs)) == len(seqs), f"node executions share a seq, their order is not defined: {seqs}"
    ordered = [n["node_exec_id"] for n in nodes]
    for item in [*items, *extra]:
        for found in _strings_with_key(item, "node_exec_id"):
            if found not in ordered:
                ordered.append(found)
        for sk in _strings_with_key(item, "SK"):
            if sk.startswith("RUN#") and sk[4:] not in ordered:
                ordered.append(sk[4:])
    return ordered


def _strings_with_key(value: Any, key: str) -> list[str]:
    if isinstance(value, dict):
        found = [v for k, v in value.items() if k == key and isinstance(v, str)]
        for v in value.values():
            found += _strings_with_key(v, key)
        return found
    if isinstance(value, list):
        return [s for v in value for s in _strings_with_key(v, key)]
    return []


def normalize(value: Any, ids: list[str]) -> Any:
    """Node-execution ids become n1, n2, … (in the given order), wall-clock values `<time>`."""
    mapping = {node_exec_id: f"n{index}" for index, node_exec_id in enumerate(ids, 1)}
    pattern = re.compile("|".join(re.escape(i) for i in sorted(mapping, key=len, reverse=True))) if mapping else None

    def text(s: str) -> str:
        s = pattern.sub(lambda m: mapping[m.group(0)], s) if pattern else s
        return _ISO_TIME.sub(TIME_MASK, s)

    def walk(v: Any, key: str | None = None) -> Any:
        if key in TIME_KEYS and v is not None:
            return TIME_MASK
        if key in DURATION_KEYS and isinstance(v, (int, float)) and not isinstance(v, bool):
            return "<duration>"
        if isinstance(v, dict):
            return {text(k): walk(x, k) for k, x in v.items()}
        if isinstance(v, list):
            return [walk(x) for x in v]
        if isinstance(v, str):
            return text(v)
        return v

    return walk(value)


def normalized_step(partition_after: list[dict[str, Any]], returned: Any) -> dict[str, Any]:
    """A step's outcome in comparable form: its return value and its partition after."""
    ids = node_exec_ids(partition_after, returned)
    items = normalize(partition_after, ids)
    return {"returned": normalize(returned, ids), "partition_after": sorted(items, key=lambda i: i["SK"])}


def read_case(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def cases() -> list[str]:
    return sorted(p.stem for p in FIXTURES.glob("*.json"))
