"""Make moto's DynamoDB behave like DynamoDB under concurrency and at size.

DynamoDB applies each write, and each transaction, atomically and isolated from reads.
moto checks conditions and writes items in plain Python, so two threads can interleave
between the check and the write; one lock around every item operation restores the
guarantee our conditional writes and transactions rely on. moto's TransactWriteItems also
deep-copies every table it touches (for rollback), which makes a transaction cost O(table
size); ours checks every condition first, then writes, and only backs up the items it
changes. Used by the local cloud and by the tests that run moto in-process.

It also spares the start-up the import of moto's EC2 models, which the ASL parser pulls in
through `moto.batch` for nothing we use, and takes two costs off every response at size:
moto's serializer walks each attribute value of an item through its shape model (a Query or
stream read of items holding long lists spent most of a long loop's local time there), and
the server looked up its own package directory on disk for every request.
"""

from __future__ import annotations

import copy
import functools
import threading
from typing import Any

_LOCK = threading.RLock()
_ITEM_OPERATIONS = (
    "put_item",
    "get_item",
    "update_item",
    "delete_item",
    "query",
    "scan",
    "execute_statement",
    "execute_transaction",
)
_applied = False


def _transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
    from moto.dynamodb.comparisons import get_filter_expression
    from moto.dynamodb.exceptions import (
        MultipleTransactionsException,
        TooManyTransactionsException,
        TransactionCanceledException,
        TransactWriteSingleOpException,
    )

    if len(transact_items) > 100:
        raise TooManyTransactionsException()
    with _LOCK:
        planned: list[tuple[str, dict[str, Any], dict[str, Any], Any]] = []
        seen: set[tuple[str, str]] = set()
        errors: list[tuple[Any, Any, Any]] = []
        for entry in transact_items:
            if len(entry) > 1:
                raise TransactWriteSingleOpException
            op_type, op = next(iter(entry.items()))
            table_name = op["TableName"]
            table = self.get_table(table_name)
            if op_type == "Put":
                attrs = op["Item"]
                key = {table.hash_key_attr: attrs[table.hash_key_attr]}
                if table.range_key_attr is not None:
                    key[table.range_key_attr] = attrs[table.range_key_attr]
            else:
                key = op["Key"]
            marker = (table_name, str(sorted(key.items())))
            if marker in seen:
                raise MultipleTransactionsException()
            seen.add(marker)
            current = self.get_item(table_name, key)
            condition = op.get("ConditionExpression")
            if condition is not None and not get_filter_expression(
                condition, op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
            ).expr(current):
                old = (
                    current.to_json()["Attributes"]
                    if (current and op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD")
                    else None
                )
                errors.append(("ConditionalCheckFailed", "The conditional request failed", old))
            else:
                errors.append((None, None, None))
            # The rollback copy: a Put or Delete replaces moto's Item object (kept as it is), an
            # Update changes it in place (copied first).
            planned.append((op_type, op, key, current if op_type != "Update" else copy.deepcopy(current)))
        if any(code is not None for code, _, _ in errors):
            raise TransactionCanceledException(errors)
        applied: list[tuple[str, dict[str, Any], Any]] = []
        try:
            for op_type, op, key, original in planned:
                if op_type == "Put":
                    self.put_item(op["TableName"], op["Item"])
                elif op_type == "Delete":
                    self.delete_item(op["TableName"], key)
                elif op_type == "Update":
                    self.update_item(
                        op["TableName"],
                        key,
                        update_expression=op["UpdateExpression"],
                        expression_attribute_names=op.get("ExpressionAttributeNames"),
                        expression_attribute_values=op.get("ExpressionAttributeValues"),
                    )
                else:
                    continue
                applied.append((op["TableName"], key, original))
        except Exception:
            for table_name, key, original in reversed(applied):
                if original is None:
                    self.delete_item(table_name, key)
                else:
                    self.put_item(table_name, original.to_json()["Attributes"])
            raise


def _light_batch_utils() -> None:
    """moto's ASL parser imports `moto.batch.utils` for one enum; importing it through the
    `moto.batch` package loads moto's EC2 models (about 1.6 s of JSON). Load the two small
    modules it needs on their own, so a state machine is created without EC2."""
    import importlib.util
    import os
    import sys

    import moto

    for name in ("exceptions", "utils"):
        qualified = f"moto.batch.{name}"
        if qualified in sys.modules:
            continue
        spec = importlib.util.spec_from_file_location(
            qualified, os.path.join(os.path.dirname(moto.__file__), "batch", f"{name}.py")
        )
        if spec is None or spec.loader is None:
            return
        module = importlib.util.module_from_spec(spec)
        sys.modules[qualified] = module
        spec.loader.exec_module(module)


def apply() -> None:
    global _applied
    if _applied:
        return
    _light_batch_utils()
    from moto.dynamodb.models import DynamoDBBackend

    for name in _ITEM_OPERATIONS:
        original = getattr(DynamoDBBackend, name)

        @functools.wraps(original)
        def locked(self, *args, __original=original, **kwargs):
            with _LOCK:
                return __original(self, *args, **kwargs)

        setattr(DynamoDBBackend, name, locked)
    DynamoDBBackend.transact_write_items = _transact_write_items
    _serialize_empty_map_keys()
    _cache_module_list()
    _plain_json_in_one_pass()
    _applied = True


def _serialize_empty_map_keys() -> None:
    """moto's JSON serializer writes a structure under a falsy key into its parent, so a map
    value under the key "" (`{"M": {"": {"S": "x"}}}`) comes back as `{"M": {"S": "x"}}`, a
    response botocore cannot parse: every Scan, Query and stream read of such an item fails."""
    from moto.core.serialize import BaseJSONSerializer

    original = BaseJSONSerializer._serialize_type_map

    def serialize_map(self: Any, serialized: Any, value: Any, shape: Any, key: str) -> None:
        attribute_values = getattr(shape.value, "name", None) == "AttributeValue"
        if not (isinstance(value, dict) and ("" in value or attribute_values)):
            return original(self, serialized, value, shape, key)
        map_obj = self.MAP_TYPE()
        self._default_serialize(serialized, map_obj, shape, key)
        for sub_key, sub_value in value.items():
            plain = plain_attribute_value(sub_value) if attribute_values else None
            if plain is not None:  # already what the serializer would write
                map_obj[sub_key] = plain
                continue
            wrapper = self.MAP_TYPE()
            self._serialize(wrapper, sub_value, shape.value, "__value__")
            map_obj[sub_key] = wrapper.get("__value__")
        return None

    BaseJSONSerializer._serialize_type_map = serialize_map


def plain_attribute_value(value: Any) -> Any:
    """An AttributeValue as moto's JSON serializer writes it, when it is built of plain JSON
    (S, N, BOOL, NULL, SS, NS, L and M of those), else None: binary values and anything else
    go through the serializer."""
    if type(value) is not dict or len(value) != 1:
        return None
    ((kind, inner),) = value.items()
    if kind in ("S", "N"):
        return value if type(inner) is str else None
    if kind in ("BOOL", "NULL"):
        return value if type(inner) is bool else None
    if kind in ("SS", "NS"):
        return {kind: list(inner)} if type(inner) is list and all(type(v) is str for v in inner) else None
    if kind == "L" and type(inner) is list:
        items = []
        for item in inner:
            plain = plain_attribute_value(item)
            if plain is None:
                return None
            items.append(plain)
        return {"L": items}
    if kind == "M" and type(inner) is dict:
        members = {}
        for name, member in inner.items():
            plain = plain_attribute_value(member)
            if plain is None:
                return None
            members[name] = plain
        return {"M": members}
    return None


def _plain_json_in_one_pass() -> None:
    """moto's DynamoType.to_regular_json deep-copies its whole value, then converts each nested
    value, which deep-copies that one's again: O(size × depth) for every stream record, Query
    and transaction backup of an item holding nested lists. The same result in one pass."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    original = DynamoType.to_regular_json

    def plain(nested: Any) -> Any:
        return nested.to_regular_json() if isinstance(nested, DynamoType) else copy.deepcopy(nested)

    def to_regular_json(self: Any) -> dict[str, Any]:
        value = self.value
        if isinstance(value, dict):
            value = {k: plain(v) for k, v in value.items()}
        elif isinstance(value, list):
            value = [plain(v) for v in value]
        else:
            return original(self)  # scalars and binary: as moto converts them
        return {self.type: value}

    to_regular_json.moto_original = original  # type: ignore[attr-defined]
    DynamoType.to_regular_json = to_regular_json


def _cache_module_list() -> None:
    """The server matched each request's host against moto's package directory listing, read
    from disk every time; the listing does not change while it runs."""
    from moto import backends

    modules = tuple(backends.list_of_moto_modules())
    backends.list_of_moto_modules = lambda: modules  # type: ignore[assignment]
