"""Durability for the local cloud: tables and buckets to one JSON file, and back."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import Any

SNAPSHOT_FILE = "snapshot.json"


def save(state_dir: Path, dynamodb: Any, s3: Any, tables: list[str], buckets: list[str]) -> Path:
    """Write every item and object. Dev tooling: a full Scan is fine here, never on a request path."""
    data: dict[str, Any] = {"tables": {}, "buckets": {}}
    for table in tables:
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"TableName": table}
        while True:
            page = dynamodb.scan(**kwargs)
            items.extend(page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        data["tables"][table] = items
    for bucket in buckets:
        objects = {}
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for entry in page.get("Contents", []):
                body = s3.get_object(Bucket=bucket, Key=entry["Key"])["Body"].read()
                objects[entry["Key"]] = base64.b64encode(body).decode()
        data["buckets"][bucket] = objects
    state_dir.mkdir(parents=True, exist_ok=True)
    target = state_dir / SNAPSHOT_FILE
    temporary = target.with_suffix(".tmp")
    temporary.write_text(json.dumps(data))
    os.replace(temporary, target)  # atomic: a crash never leaves half a snapshot
    return target


def load(state_dir: Path, dynamodb: Any, s3: Any) -> dict[str, int]:
    """Restore a snapshot into already-provisioned tables and buckets. Returns counts."""
    source = state_dir / SNAPSHOT_FILE
    if not source.exists():
        return {}
    data = json.loads(source.read_text())
    existing_tables = set(dynamodb.list_tables()["TableNames"])
    counts = {}
    for table, items in data.get("tables", {}).items():
        if table not in existing_tables:
            continue  # a table removed from the template stays out
        for start in range(0, len(items), 25):
            batch = [{"PutRequest": {"Item": item}} for item in items[start:start + 25]]
            pending: dict[str, Any] = {table: batch}
            while pending:
                pending = dynamodb.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
        counts[table] = len(items)
    existing_buckets = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
    for bucket, objects in data.get("buckets", {}).items():
        if bucket not in existing_buckets:
            continue
        for key, body in objects.items():
            s3.put_object(Bucket=bucket, Key=key, Body=base64.b64decode(body))
        counts[bucket] = len(objects)
    return counts
