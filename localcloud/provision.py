"""Create the template's resources in moto: tables (GSIs, LSIs, TTL, streams) and buckets.
Works against an in-process mock or the local moto server alike."""

from __future__ import annotations

from typing import Any

from localcloud.stack import Stack

_TABLE_FIELDS = ("AttributeDefinitions", "KeySchema", "GlobalSecondaryIndexes",
                 "LocalSecondaryIndexes", "StreamSpecification", "BillingMode")


def create_tables(stack: Stack, dynamodb: Any) -> None:
    existing = set(dynamodb.list_tables()["TableNames"])
    for name, props in stack.tables().items():
        if name in existing:
            continue
        kwargs = {k: props[k] for k in _TABLE_FIELDS if k in props}
        kwargs.setdefault("BillingMode", "PAY_PER_REQUEST")
        if "StreamSpecification" in kwargs:
            kwargs["StreamSpecification"] = {"StreamEnabled": True, **kwargs["StreamSpecification"]}
        dynamodb.create_table(TableName=name, **kwargs)
        ttl = props.get("TimeToLiveSpecification")
        if ttl and ttl.get("Enabled"):
            dynamodb.update_time_to_live(TableName=name, TimeToLiveSpecification=ttl)


def create_buckets(stack: Stack, s3: Any) -> None:
    existing = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
    for name in stack.buckets():
        if name not in existing:
            s3.create_bucket(Bucket=name)
