"""Create the template's resources in moto: tables (GSIs, LSIs, TTL, streams), buckets and KMS keys.
Works against an in-process mock or the local moto server alike."""

from __future__ import annotations

from typing import Any

from localcloud.stack import Stack

_TABLE_FIELDS = (
    "AttributeDefinitions",
    "KeySchema",
    "GlobalSecondaryIndexes",
    "LocalSecondaryIndexes",
    "StreamSpecification",
    "BillingMode",
)


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


def create_schedule_groups(stack: Stack, scheduler: Any) -> None:
    """The template's EventBridge Scheduler groups (moto has only `default`)."""
    existing = {
        g["Name"]
        for page in scheduler.get_paginator("list_schedule_groups").paginate()
        for g in page.get("ScheduleGroups", [])
    }
    for child in stack.all_stacks():
        for logical_id in child.of_type("AWS::Scheduler::ScheduleGroup"):
            name = child.physical_name(logical_id)
            if name not in existing:  # moto's create replaces a group (and drops its schedules)
                scheduler.create_schedule_group(Name=name)


def create_kms_keys(stack: Stack, kms: Any) -> None:
    """One symmetric key per AWS::KMS::Key, reachable by its local name `alias/<LogicalId>`."""
    existing = {
        alias["AliasName"] for page in kms.get_paginator("list_aliases").paginate() for alias in page.get("Aliases", [])
    }
    for alias in stack.kms_aliases():
        if alias not in existing:
            key = kms.create_key(
                Description=f"Stratus local {alias}", KeySpec="SYMMETRIC_DEFAULT", KeyUsage="ENCRYPT_DECRYPT"
            )
            kms.create_alias(AliasName=alias, TargetKeyId=key["KeyMetadata"]["KeyId"])
