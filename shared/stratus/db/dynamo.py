"""A thin typed layer over the low-level DynamoDB client.

Plain Python values in and out: numbers come back as int or float, never Decimal.
Only GetItem, Query and writes are offered: request paths never Scan.
"""

from __future__ import annotations

import base64
import json
import math
import random
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from functools import lru_cache
from typing import Any

from stratus.aws import client

BATCH_GET_LIMIT = 100  # keys per BatchGetItem request
TRANSACTION_LIMIT = 100  # items per TransactWriteItems request
BATCH_WRITE_LIMIT = 25  # requests per BatchWriteItem


def key_of(pk: str, sk: str) -> dict[str, str]:
    """The primary key of an item: every table here keys on PK and SK."""
    return {"PK": pk, "SK": sk}


def backoff(attempt: int, cap: float = 0.1, base: float = 0.002) -> None:
    """Full-jitter exponential backoff before retrying after a lost optimistic race."""
    time.sleep(random.uniform(0, min(cap, base * 2**attempt)))


class ConditionFailed(Exception):
    """A conditional write found the item not as expected."""


class TransactionCancelled(Exception):
    """A transaction was cancelled; `codes` has one reason per item ('None' where it was fine)."""

    def __init__(self, codes: list[str]):
        super().__init__(f"Transaction cancelled: {codes}")
        self.codes = codes


@lru_cache(maxsize=1)
def _types() -> tuple[Any, Any]:
    # Lazy: boto3's type module pulls in botocore, which the first request loads anyway.
    from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

    return TypeSerializer(), TypeDeserializer()


_NON_FINITE = "$float"  # DynamoDB numbers cannot be inf/nan; AutoGPT blocks can yield them.


def _to_dynamo_value(value: Any) -> Any:
    if isinstance(value, float):
        if not math.isfinite(value):
            return {_NON_FINITE: repr(value)}
        return Decimal(repr(value))
    if isinstance(value, dict):
        return {k: _to_dynamo_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_to_dynamo_value(v) for v in value]
    return value


def _from_dynamo_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        if len(value) == 1 and _NON_FINITE in value:
            return float(value[_NON_FINITE])
        return {k: _from_dynamo_value(v) for k, v in value.items()}
    if isinstance(value, (list, set)):
        return [_from_dynamo_value(v) for v in value]
    return value


def serialize(item: dict[str, Any]) -> dict[str, Any]:
    serializer = _types()[0]
    return {k: serializer.serialize(_to_dynamo_value(v)) for k, v in item.items() if v is not None}


def deserialize(item: dict[str, Any]) -> dict[str, Any]:
    deserializer = _types()[1]
    return {k: _from_dynamo_value(deserializer.deserialize(v)) for k, v in item.items()}


def encode_cursor(last_evaluated_key: dict[str, Any] | None) -> str | None:
    if not last_evaluated_key:
        return None
    return base64.urlsafe_b64encode(json.dumps(last_evaluated_key).encode()).decode()


def decode_cursor(cursor: str | None) -> dict[str, Any] | None:
    if not cursor:
        return None
    try:
        decoded = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, TypeError) as exc:
        raise ValueError("Invalid page cursor.") from exc
    if not isinstance(decoded, dict):
        raise ValueError("Invalid page cursor.")
    return decoded


def _cancellation_codes(error: Any) -> list[str]:
    reasons = error.response.get("CancellationReasons") or []
    if not reasons:
        # Some endpoints only put the reasons in the message: "...reasons [None, ConditionalCheckFailed]".
        message = error.response["Error"].get("Message", "")
        inside = message[message.find("[") + 1 : message.rfind("]")]
        return [part.strip() for part in inside.split(",")]
    return [reason.get("Code", "None") for reason in reasons]


class Table:
    """One DynamoDB table addressed by its name."""

    def __init__(self, name: str):
        self.name = name

    @property
    def _client(self) -> Any:
        return client("dynamodb")

    def get(self, key: dict[str, Any], consistent: bool = False) -> dict[str, Any] | None:
        response = self._client.get_item(TableName=self.name, Key=serialize(key), ConsistentRead=consistent)
        item = response.get("Item")
        return deserialize(item) if item else None

    def put(
        self, item: dict[str, Any], condition: str | None = None, names: dict | None = None, values: dict | None = None
    ) -> None:
        kwargs: dict[str, Any] = {"TableName": self.name, "Item": serialize(item)}
        _add_condition(kwargs, condition, names, values)
        with _translated_errors():
            self._client.put_item(**kwargs)

    def update(
        self,
        key: dict[str, Any],
        update: str,
        names: dict | None = None,
        values: dict | None = None,
        condition: str | None = None,
    ) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "TableName": self.name,
            "Key": serialize(key),
            "UpdateExpression": update,
            "ReturnValues": "ALL_NEW",
        }
        _add_condition(kwargs, condition, names, values)
        with _translated_errors():
            return deserialize(self._client.update_item(**kwargs)["Attributes"])

    def batch_get(self, keys: list[dict[str, Any]], consistent: bool = False) -> list[dict[str, Any]]:
        """The items of `keys` that exist, BATCH_GET_LIMIT keys a request (unprocessed keys are retried)."""
        found: list[dict[str, Any]] = []
        for start in range(0, len(keys), BATCH_GET_LIMIT):
            chunk = [serialize(k) for k in keys[start : start + BATCH_GET_LIMIT]]
            pending: dict[str, Any] = {self.name: {"Keys": chunk, "ConsistentRead": consistent}}
            while pending:
                response = self._client.batch_get_item(RequestItems=pending)
                found.extend(deserialize(item) for item in response.get("Responses", {}).get(self.name, []))
                pending = response.get("UnprocessedKeys") or {}
        return found

    def delete(self, key: dict[str, Any]) -> None:
        self._client.delete_item(TableName=self.name, Key=serialize(key))

    def query(
        self,
        key_condition: str,
        values: dict[str, Any],
        names: dict | None = None,
        index: str | None = None,
        limit: int | None = None,
        forward: bool = True,
        start_key: dict[str, Any] | None = None,
        consistent: bool = False,
        filter_expression: str | None = None,
    ) -> tuple[list[dict[str, Any]], dict | None]:
        kwargs: dict[str, Any] = {
            "TableName": self.name,
            "KeyConditionExpression": key_condition,
            "ExpressionAttributeValues": serialize(values),
            "ScanIndexForward": forward,
        }
        if names:
            kwargs["ExpressionAttributeNames"] = names
        if index:
            kwargs["IndexName"] = index
        if limit:
            kwargs["Limit"] = limit
        if start_key:
            kwargs["ExclusiveStartKey"] = serialize(start_key)
        if consistent:
            kwargs["ConsistentRead"] = True
        if filter_expression:
            kwargs["FilterExpression"] = filter_expression
        response = self._client.query(**kwargs)
        last = response.get("LastEvaluatedKey")
        return [deserialize(i) for i in response.get("Items", [])], (deserialize(last) if last else None)

    def query_all(
        self,
        key_condition: str,
        values: dict[str, Any],
        names: dict | None = None,
        index: str | None = None,
        forward: bool = True,
        consistent: bool = False,
        filter_expression: str | None = None,
    ) -> list[dict[str, Any]]:
        """Every item the query matches, all pages (for bounded item sets: one partition, one kind)."""
        items: list[dict[str, Any]] = []
        start_key = None
        while True:
            page, start_key = self.query(
                key_condition,
                values,
                names=names,
                index=index,
                forward=forward,
                start_key=start_key,
                consistent=consistent,
                filter_expression=filter_expression,
            )
            items.extend(page)
            if not start_key:
                return items

    def transact(self, operations: Iterable[dict[str, Any]]) -> None:
        """Run write operations built with `put_op`/`update_op`/`delete_op` atomically."""
        with _translated_errors():
            self._client.transact_write_items(TransactItems=list(operations))

    def transact_chunked(self, operations: list[dict[str, Any]], first: int = TRANSACTION_LIMIT) -> int:
        """Write `operations` in transactions of at most TRANSACTION_LIMIT items, in order.

        Atomic per chunk only: for writes that are idempotent on retry (each item keyed by what it
        records). `first` bounds the first chunk, so a caller can prepend its own guard item.
        Returns how many transactions were sent."""
        sent = 0
        start, size = 0, max(1, min(first, TRANSACTION_LIMIT))
        while start < len(operations):
            self.transact(operations[start : start + size])
            sent += 1
            start, size = start + size, TRANSACTION_LIMIT
        return sent

    def batch_write(self, puts: Iterable[dict[str, Any]] = (), deletes: Iterable[dict[str, Any]] = ()) -> None:
        """Unconditional puts and deletes, BATCH_WRITE_LIMIT a request, unprocessed items retried."""
        requests = [{"PutRequest": {"Item": serialize(item)}} for item in puts]
        requests += [{"DeleteRequest": {"Key": serialize(key)}} for key in deletes]
        for start in range(0, len(requests), BATCH_WRITE_LIMIT):
            pending: dict[str, Any] = {self.name: requests[start : start + BATCH_WRITE_LIMIT]}
            for attempt in range(8):
                unprocessed = self._client.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
                if not unprocessed:
                    break
                pending = unprocessed
                backoff(attempt, cap=1.0, base=0.05)

    # Builders for transaction items -------------------------------------------------
    def put_op(
        self, item: dict[str, Any], condition: str | None = None, names: dict | None = None, values: dict | None = None
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"TableName": self.name, "Item": serialize(item)}
        _add_condition(body, condition, names, values)
        return {"Put": body}

    def update_op(
        self,
        key: dict[str, Any],
        update: str,
        names: dict | None = None,
        values: dict | None = None,
        condition: str | None = None,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"TableName": self.name, "Key": serialize(key), "UpdateExpression": update}
        _add_condition(body, condition, names, values)
        return {"Update": body}

    def delete_op(
        self, key: dict[str, Any], condition: str | None = None, names: dict | None = None, values: dict | None = None
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"TableName": self.name, "Key": serialize(key)}
        _add_condition(body, condition, names, values)
        return {"Delete": body}


@contextmanager
def _translated_errors() -> Iterator[None]:
    """botocore's errors as ours, so services and repositories never import botocore."""
    from botocore.exceptions import ClientError

    try:
        yield
    except ClientError as error:
        code = error.response["Error"]["Code"]
        if code == "ConditionalCheckFailedException":
            raise ConditionFailed(error.response["Error"].get("Message", "")) from error
        if code == "TransactionCanceledException":
            raise TransactionCancelled(_cancellation_codes(error)) from error
        raise


def _add_condition(kwargs: dict[str, Any], condition: str | None, names: dict | None, values: dict | None) -> None:
    if condition:
        kwargs["ConditionExpression"] = condition
    if names:
        kwargs["ExpressionAttributeNames"] = names
    if values:
        kwargs["ExpressionAttributeValues"] = serialize(values)
