"""The functional tier shares one moto account for the whole run.

Building an account (mock_aws, the template's tables, buckets and KMS keys, fresh boto3
clients) costs about a second; the tier has hundreds of tests. So the account, its resources
and the clients are made once, and after each test `SharedAccount.clear` removes what the test
wrote: every DynamoDB item, every S3 object, schedules, SSM parameters, state machines the test
created, and resources that are not the template's. Tests stay independent; the resources stay.

A test that needs a truly fresh account asks for `fresh_aws` instead of `aws`: the shared
account is closed for it (and made again, once, by the next test that uses `aws`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from unittest import mock

import pytest

from localcloud.provision import create_buckets, create_kms_keys, create_tables
from localcloud.stack import Stack
from tests.conftest import moto_account

_DEFAULT_SCHEDULE_GROUP = "default"


class SharedAccount:
    """One moto account with the template's resources, opened on first use."""

    def __init__(self, stack: Stack):
        self.stack = stack
        self._mock: Any = None
        self._keys: dict[str, list[str]] = {}  # table name -> its key attribute names
        self._buckets: set[str] = set()
        self.extras: dict[str, Any] = {}  # what fixtures made once in this account (see `once`)

    @property
    def is_open(self) -> bool:
        return self._mock is not None

    def open(self) -> None:
        if self._mock is not None:
            return
        from moto import mock_aws

        from stratus.aws import client

        client.cache_clear()  # clients made outside this account must not be reused in it
        self._mock = mock_aws()
        self._mock.start()
        dynamodb, s3 = client("dynamodb"), client("s3")
        create_tables(self.stack, dynamodb)
        create_buckets(self.stack, s3)
        create_kms_keys(self.stack, client("kms"))
        self._keys = {
            name: [k["AttributeName"] for k in dynamodb.describe_table(TableName=name)["Table"]["KeySchema"]]
            for name in dynamodb.list_tables()["TableNames"]
        }
        self._buckets = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
        self.extras = {}

    def close(self) -> None:
        if self._mock is None:
            return
        from stratus.aws import client

        self._mock.stop()
        self._mock = None
        self.extras = {}
        client.cache_clear()

    def once(self, name: str, make: Any) -> Any:
        """`make()` the first time in this account, the same answer afterwards."""
        if name not in self.extras:
            self.extras[name] = make()
        return self.extras[name]

    def clear(self) -> None:
        """Back to the account as `open` left it (plus what `once` made)."""
        from moto.core.config import default_user_config

        from stratus.aws import client
        from stratus.store import cache as store_cache

        store_cache.invalidate()
        # The plain Step Functions backend, whatever the test set for the ASL interpreter.
        with mock.patch.dict(default_user_config, {"stepfunctions": {"execute_state_machine": False}}):
            self._clear_dynamodb(client("dynamodb"))
            self._clear_s3(client("s3"))
            self._clear_scheduler(client("scheduler"))
            self._clear_ssm(client("ssm"))
            self._clear_state_machines(client("stepfunctions"))

    def _clear_dynamodb(self, dynamodb: Any) -> None:
        for name in dynamodb.list_tables()["TableNames"]:
            keys = self._keys.get(name)
            if keys is None:  # a table the test made
                dynamodb.delete_table(TableName=name)
                continue
            projection = ", ".join(f"#k{i}" for i in range(len(keys)))
            names = {f"#k{i}": key for i, key in enumerate(keys)}
            kwargs: dict[str, Any] = {"TableName": name, "ProjectionExpression": projection}
            kwargs["ExpressionAttributeNames"] = names
            while True:
                page = dynamodb.scan(**kwargs)
                items = page["Items"]
                for start in range(0, len(items), 25):
                    requests = [{"DeleteRequest": {"Key": item}} for item in items[start : start + 25]]
                    while requests:
                        unprocessed = dynamodb.batch_write_item(RequestItems={name: requests})["UnprocessedItems"]
                        requests = unprocessed.get(name, [])
                if "LastEvaluatedKey" not in page:
                    break
                kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def _clear_s3(self, s3: Any) -> None:
        for bucket in [b["Name"] for b in s3.list_buckets().get("Buckets", [])]:
            for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
                objects = [
                    {"Key": v["Key"], "VersionId": v["VersionId"]}
                    for v in page.get("Versions", []) + page.get("DeleteMarkers", [])
                ]
                if objects:
                    s3.delete_objects(Bucket=bucket, Delete={"Objects": objects, "Quiet": True})
            if bucket not in self._buckets:
                s3.delete_bucket(Bucket=bucket)

    def _clear_scheduler(self, scheduler: Any) -> None:
        groups = [g["Name"] for g in scheduler.list_schedule_groups().get("ScheduleGroups", [])]
        for group in groups:
            for schedule in scheduler.list_schedules(GroupName=group).get("Schedules", []):
                scheduler.delete_schedule(Name=schedule["Name"], GroupName=group)
            if group != _DEFAULT_SCHEDULE_GROUP:
                scheduler.delete_schedule_group(Name=group)

    def _clear_ssm(self, ssm: Any) -> None:
        names = [p["Name"] for p in ssm.describe_parameters().get("Parameters", [])]
        for start in range(0, len(names), 10):
            ssm.delete_parameters(Names=names[start : start + 10])

    def _clear_state_machines(self, sfn: Any) -> None:
        for machine in sfn.list_state_machines().get("stateMachines", []):
            sfn.delete_state_machine(stateMachineArn=machine["stateMachineArn"])


@pytest.fixture(scope="package")
def shared_account(stack: Stack) -> Iterator[SharedAccount]:
    account = SharedAccount(stack)
    yield account
    account.close()  # before any later tier: the e2e tier talks to a real local cloud


@pytest.fixture()
def aws(shared_account: SharedAccount) -> Iterator[SharedAccount]:
    """The shared moto account with the template's resources, emptied after the test."""
    shared_account.open()
    try:
        yield shared_account
    finally:
        shared_account.clear()


@pytest.fixture()
def fresh_aws(shared_account: SharedAccount, stack: Stack) -> Iterator[None]:
    """A moto account of the test's own (the slow way): for tests that must not share one."""
    shared_account.close()
    with moto_account(stack):
        yield


@pytest.fixture()
def api(aws, _api):
    _api.runner.invocations.clear()  # the warm containers are shared; their counts are per test
    return _api


# Integration blocks through the product (tests/functional/integration_runs.py), for every module.
from tests.functional.integration_runs import integrations_api  # noqa: E402, F401
from tests.functional.test_state_machine import sfn_api  # noqa: E402, F401
