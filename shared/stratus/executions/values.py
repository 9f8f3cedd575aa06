"""Node values too large for an item live in the values bucket, referenced as {"$s3": key}.

Step Functions payloads never carry values at all (only ids); DynamoDB items carry values up
to INLINE_LIMIT bytes each, so no item nears DynamoDB's 400 KB.
"""

from __future__ import annotations

import json
from typing import Any

from stratus.aws import client
from stratus.config import ValuesBucketSettings, get_settings

INLINE_LIMIT = 64 * 1024
REF = "$s3"


def _bucket() -> str:
    return get_settings(ValuesBucketSettings).values_bucket


def store(value: Any, key: str) -> Any:
    """The value itself when small, else a reference to a copy in the bucket."""
    if len(json.dumps(value, allow_nan=True, default=str).encode()) <= INLINE_LIMIT:
        return value
    return _put(value, key)


def resolve(value: Any) -> Any:
    if isinstance(value, dict) and len(value) == 1 and REF in value:
        body = client("s3").get_object(Bucket=_bucket(), Key=value[REF])["Body"].read()
        return json.loads(body)
    return value


def store_map(data: dict[str, Any], prefix: str) -> dict[str, Any]:
    return {pin: store(value, f"{prefix}/{pin}.json") for pin, value in data.items()}


def store_fitting(data: dict[str, Any], prefix: str, budget: int = INLINE_LIMIT) -> dict[str, Any]:
    """Like store_map, and the largest values too until the inline rest is within `budget`
    bytes (an execution's inputs: many values just under INLINE_LIMIT must still fit one item)."""
    sizes = {pin: len(json.dumps(value, allow_nan=True, default=str).encode()) for pin, value in data.items()}
    stored, total = dict(data), sum(sizes.values())
    for pin in sorted(sizes, key=sizes.__getitem__, reverse=True):
        if total <= budget:
            break
        stored[pin] = _put(data[pin], f"{prefix}/{pin}.json")
        total -= sizes[pin]
    return stored


def _put(value: Any, key: str) -> dict[str, str]:
    body = json.dumps(value, allow_nan=True, default=str).encode()
    client("s3").put_object(Bucket=_bucket(), Key=key, Body=body, ContentType="application/json")
    return {REF: key}


def store_outputs(data: dict[str, list[Any]], prefix: str) -> dict[str, list[Any]]:
    return {
        name: [store(v, f"{prefix}/out/{name}/{i}.json") for i, v in enumerate(values)] for name, values in data.items()
    }


def resolve_map(data: dict[str, Any]) -> dict[str, Any]:
    return {pin: resolve(value) for pin, value in data.items()}


def resolve_outputs(data: dict[str, list[Any]]) -> dict[str, list[Any]]:
    return {name: [resolve(v) for v in values] for name, values in data.items()}
