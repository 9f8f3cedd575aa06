"""localcloud.moto_fidelity's fast path for DynamoDB attribute values writes exactly what moto's
own serializer writes, for every attribute type (binary values are left to the serializer)."""

from __future__ import annotations

import base64
import json

import pytest

from localcloud import moto_fidelity

ITEM = {
    "PK": {"S": "GEXEC#1"},
    "text": {"S": ""},
    "number": {"N": "-1.5e3"},
    "yes": {"BOOL": True},
    "no": {"BOOL": False},
    "nothing": {"NULL": True},
    "strings": {"SS": ["a", "b"]},
    "numbers": {"NS": ["1", "2.5"]},
    "list": {"L": [{"S": f"item-{i}"} for i in range(50)] + [{"L": []}, {"M": {}}, {"N": "0"}]},
    "map": {"M": {"": {"S": "empty key"}, "nested": {"M": {"deep": {"L": [{"BOOL": False}, {"NULL": True}]}}}}},
    "blob": {"B": base64.b64encode(b"\x00\xffbytes").decode()},
    "blobs": {"BS": [base64.b64encode(b"x").decode()]},
    "list_with_blob": {"L": [{"S": "a"}, {"B": base64.b64encode(b"y").decode()}]},
}


def serialized_get_item(item: dict) -> dict:
    from moto.core.responses import ActionResult, get_serializer_class
    from moto.core.serialize import XFormedAttributePicker
    from moto.core.utils import get_service_model

    service = get_service_model("dynamodb")
    serializer = get_serializer_class("dynamodb", service.protocol)(
        operation_model=service.operation_model("GetItem"), value_picker=XFormedAttributePicker()
    )
    return json.loads(serializer.serialize(ActionResult({"Item": item}).result)["body"])


def test_the_fast_path_writes_what_the_serializer_writes(monkeypatch):
    moto_fidelity.apply()
    fast = serialized_get_item(ITEM)
    monkeypatch.setattr(moto_fidelity, "plain_attribute_value", lambda value: None)
    assert fast == serialized_get_item(ITEM)
    assert fast["Item"]["map"]["M"][""] == {"S": "empty key"}  # the empty key kept in place


@pytest.mark.parametrize("name", ["blob", "blobs", "list_with_blob"])
def test_binary_values_are_left_to_the_serializer(name):
    assert moto_fidelity.plain_attribute_value(ITEM[name]) is None


def test_plain_values_are_taken_as_they_are():
    for name in ("text", "number", "yes", "nothing", "strings", "list", "map"):
        assert moto_fidelity.plain_attribute_value(ITEM[name]) == ITEM[name]
    assert moto_fidelity.plain_attribute_value({"N": 1}) is None  # not the wire form: the serializer decides


def test_plain_json_of_an_item_is_what_moto_made_of_it():
    from moto.dynamodb.models.dynamo_type import DynamoType, Item

    moto_fidelity.apply()
    original = DynamoType.to_regular_json.moto_original
    for name, value in ITEM.items():
        converted = DynamoType(value).to_regular_json()
        assert converted == original(DynamoType(value)), name
    item = Item(DynamoType(ITEM["PK"]), None, ITEM)
    attributes = item.to_json()["Attributes"]
    attributes["list"]["L"].append({"S": "changed"})  # a copy: the stored item stays as it was
    assert item.to_json()["Attributes"]["list"] == ITEM["list"]


def test_a_transaction_that_fails_while_writing_puts_back_what_it_changed():
    import boto3
    from botocore.exceptions import ClientError
    from moto import mock_aws

    moto_fidelity.apply()
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        dynamodb.create_table(
            TableName="t",
            KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "PK", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        for key in ("put", "update", "bad"):
            dynamodb.put_item(TableName="t", Item={"PK": {"S": key}, "list": {"L": [{"S": "old"}]}})
        with pytest.raises(ClientError) as raised:
            dynamodb.transact_write_items(
                TransactItems=[
                    {"Put": {"TableName": "t", "Item": {"PK": {"S": "put"}, "list": {"L": []}}}},
                    {
                        "Update": {
                            "TableName": "t",
                            "Key": {"PK": {"S": "update"}},
                            "UpdateExpression": "SET #l = :new",
                            "ExpressionAttributeNames": {"#l": "list"},
                            "ExpressionAttributeValues": {":new": {"L": []}},
                        }
                    },
                    {"Put": {"TableName": "t", "Item": {"PK": {"S": "new"}}}},
                    # Fails when applied, after every condition passed: the rest is rolled back.
                    {
                        "Update": {
                            "TableName": "t",
                            "Key": {"PK": {"S": "bad"}},
                            "UpdateExpression": "SET #x = #x + :v",  # no x to add to
                            "ExpressionAttributeNames": {"#x": "x"},
                            "ExpressionAttributeValues": {":v": {"N": "1"}},
                        }
                    },
                ]
            )
        assert "does not exist" in str(raised.value)  # the write's own error, not a refused transaction
        for key in ("put", "update"):
            assert dynamodb.get_item(TableName="t", Key={"PK": {"S": key}})["Item"]["list"] == {"L": [{"S": "old"}]}
        assert "Item" not in dynamodb.get_item(TableName="t", Key={"PK": {"S": "new"}})
