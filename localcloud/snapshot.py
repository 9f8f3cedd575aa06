"""Durability for the local cloud: tables and buckets to one JSON file, and back."""

from __future__ import annotations

import base64
import json
import logging
import os
from pathlib import Path
from typing import Any

log = logging.getLogger("localcloud.snapshot")
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
    with open(temporary, "w") as out:
        json.dump(data, out)
        out.flush()
        os.fsync(out.fileno())  # on disk before it replaces the last good snapshot
    os.replace(temporary, target)  # atomic: a crash never leaves half a snapshot
    _fsync_dir(state_dir)
    return target


def _fsync_dir(path: Path) -> None:
    try:
        descriptor = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)  # the rename itself survives a crash
    except OSError:
        pass
    finally:
        os.close(descriptor)


def load(state_dir: Path, dynamodb: Any, s3: Any) -> dict[str, int]:
    """Restore a snapshot into already-provisioned tables and buckets. Returns counts.
    An item or object that cannot be restored is logged with its table (bucket) and key, and
    the rest still loads; an unreadable snapshot file is logged and set aside."""
    source = state_dir / SNAPSHOT_FILE
    if not source.exists():
        return {}
    try:
        data = json.loads(source.read_text())
    except (OSError, ValueError) as exc:
        kept = source.with_suffix(".unreadable")
        os.replace(source, kept)
        log.error("snapshot %s cannot be read (%s); kept as %s, starting empty", source, exc, kept)
        return {}
    existing_tables = set(dynamodb.list_tables()["TableNames"])
    counts = {}
    for table, items in data.get("tables", {}).items():
        if table not in existing_tables:
            continue  # a table removed from the template stays out
        counts[table] = 0
        for start in range(0, len(items), 25):
            chunk = items[start : start + 25]
            try:
                _write_batch(dynamodb, table, chunk)
                counts[table] += len(chunk)
            except Exception:  # noqa: BLE001 - find the items at fault, one by one
                for item in chunk:
                    try:
                        dynamodb.put_item(TableName=table, Item=item)
                        counts[table] += 1
                    except Exception as exc:  # noqa: BLE001
                        log.error("snapshot: item %s of table %s not restored: %s", _key_of(item), table, exc)
    existing_buckets = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
    for bucket, objects in data.get("buckets", {}).items():
        if bucket not in existing_buckets:
            continue
        counts[bucket] = 0
        for key, body in objects.items():
            try:
                s3.put_object(Bucket=bucket, Key=key, Body=base64.b64decode(body))
                counts[bucket] += 1
            except Exception as exc:  # noqa: BLE001
                log.error("snapshot: object %s of bucket %s not restored: %s", key, bucket, exc)
    return counts


def _write_batch(dynamodb: Any, table: str, items: list[dict[str, Any]]) -> None:
    pending: dict[str, Any] = {table: [{"PutRequest": {"Item": item}} for item in items]}
    while pending:
        pending = dynamodb.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}


def _key_of(item: Any) -> str:
    if not isinstance(item, dict):
        return repr(item)[:200]
    return json.dumps({k: item[k] for k in ("PK", "SK", "id") if k in item} or item, default=str)[:200]
