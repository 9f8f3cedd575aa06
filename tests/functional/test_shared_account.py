"""The tier's shared moto account: what one test writes, the next one does not see."""

from __future__ import annotations

from stratus.aws import client


def _leave_traces() -> None:
    client("dynamodb").put_item(TableName="UsersTable", Item={"PK": {"S": "USER#x"}, "SK": {"S": "PROFILE"}})
    client("s3").put_object(Bucket="stratus-valuesbucket", Key="left/over.json", Body=b"{}")
    client("s3").create_bucket(Bucket="a-bucket-of-the-tests-own")
    client("ssm").put_parameter(Name="/left/over", Value="x", Type="String")


def _assert_clean() -> None:
    assert client("dynamodb").scan(TableName="UsersTable")["Items"] == []
    assert client("s3").list_objects_v2(Bucket="stratus-valuesbucket").get("KeyCount") == 0
    assert "a-bucket-of-the-tests-own" not in {b["Name"] for b in client("s3").list_buckets()["Buckets"]}
    assert client("ssm").describe_parameters()["Parameters"] == []


def test_a_test_writes(aws):
    _leave_traces()


def test_the_next_test_finds_the_template_resources_empty(aws):
    _assert_clean()
    assert "UsersTable" in client("dynamodb").list_tables()["TableNames"]
    _leave_traces()


def test_a_fresh_account_opts_out(fresh_aws):
    _assert_clean()
    _leave_traces()


def test_the_shared_account_comes_back_after_a_fresh_one(aws):
    _assert_clean()
