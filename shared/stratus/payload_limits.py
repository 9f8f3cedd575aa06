"""Structural limits on user-supplied JSON, checked before anything is stored.

Execution inputs, node `input_default`/`metadata`, block inputs, credentials and every other
free-form dict pass through `check_structure` first. It walks the value iteratively, so a
value nested too deep is refused with a 4xx instead of reaching recursive code (pydantic,
the DynamoDB serializer) that would raise RecursionError.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from stratus.errors import StratusError, Unprocessable

MAX_DEPTH = 32  # DynamoDB's nesting limit for maps and lists
MAX_KEY_LENGTH = 255  # characters of one map key
# `{"$s3": key}` marks a value stored in the values bucket; a user's own "$s3" key would be
# read as such a reference.
RESERVED_KEYS = frozenset({"$s3"})
# Lambda's synchronous invoke payload is 6 MB, and it holds the whole API Gateway event with
# the body JSON-escaped in it; 5 MB of body leaves room for both (HTTP API itself allows 10 MB).
MAX_REQUEST_BYTES = 5_000_000


class PayloadTooLarge(StratusError):
    status_code = 413


def request_too_large(length: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"Request body is {length} bytes; the limit is {MAX_REQUEST_BYTES} bytes.")


def check_structure(value: Any, field: str) -> None:
    """Raise Unprocessable naming the path (`inputs.a.b`) of the first value nested deeper
    than MAX_DEPTH levels or of an empty, over-long or reserved map key. `value` itself is
    level 1 when it is a map or a list."""
    stack: list[tuple[Any, str, int]] = [(value, field, 1)]
    while stack:
        node, path, depth = stack.pop()
        items: Iterable[tuple[Any, Any]]  # (key, child) of a map, ("[i]", child) of a list
        if isinstance(node, dict):
            items = node.items()
        elif isinstance(node, (list, tuple)):
            items = ((f"[{i}]", child) for i, child in enumerate(node))
        else:
            continue
        if depth > MAX_DEPTH:
            raise Unprocessable(f"{path}: nesting deeper than {MAX_DEPTH} levels.")
        for key, child in items:
            if isinstance(node, dict):
                _check_key(key, path)
                child_path = f"{path}.{key}"
            else:
                child_path = f"{path}{key}"
            if isinstance(child, (dict, list, tuple)):
                stack.append((child, child_path, depth + 1))


def _check_key(key: Any, path: str) -> None:
    if not isinstance(key, str):
        raise Unprocessable(f"{path}: map keys must be strings, not {type(key).__name__}.")
    if key == "":
        raise Unprocessable(f"{path}: empty map key.")
    if len(key) > MAX_KEY_LENGTH:
        raise Unprocessable(f"{path}: map key {key[:40]!r}… is {len(key)} characters; the limit is {MAX_KEY_LENGTH}.")
    if key in RESERVED_KEYS:
        raise Unprocessable(f"{path}: map key {key!r} is reserved.")
