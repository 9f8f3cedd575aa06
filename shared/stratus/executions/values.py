"""Node values too large for an item live in the values bucket, referenced as {"$s3": key}.

Step Functions payloads never carry values at all (only ids); DynamoDB items carry values up
to INLINE_LIMIT bytes each, so no item nears DynamoDB's 400 KB.
"""

from __future__ import annotations

import json
import os
from typing import Any

from stratus.aws import client

INLINE_LIMIT = 64 * 1024
REF = "$s3"


def _bucket() -> str:
    return os.environ.get("VALUES_BUCKET", "stratus-valuesbucket")


def store(value: Any, key: str) -> Any:
    """The value itself when small, else a reference to a copy in the bucket."""
    encoded = json.dumps(value, allow_nan=True, default=str)
    if len(encoded.encode()) <= INLINE_LIMIT:
        return value
    client("s3").put_object(Bucket=_bucket(), Key=key, Body=encoded.encode(), ContentType="application/json")
    return {REF: key}


def resolve(value: Any) -> Any:
    if isinstance(value, dict) and len(value) == 1 and REF in value:
        body = client("s3").get_object(Bucket=_bucket(), Key=value[REF])["Body"].read()
        return json.loads(body)
    return value


def store_map(data: dict[str, Any], prefix: str) -> dict[str, Any]:
    return {pin: store(value, f"{prefix}/{pin}.json") for pin, value in data.items()}


def store_outputs(data: dict[str, list[Any]], prefix: str) -> dict[str, list[Any]]:
    return {name: [store(v, f"{prefix}/out/{name}/{i}.json") for i, v in enumerate(values)]
            for name, values in data.items()}


def resolve_map(data: dict[str, Any]) -> dict[str, Any]:
    return {pin: resolve(value) for pin, value in data.items()}


def resolve_outputs(data: dict[str, list[Any]]) -> dict[str, list[Any]]:
    return {name: [resolve(v) for v in values] for name, values in data.items()}
