"""AutoGPT-style conversion of a pin value to the type a schema field declares.

Graph links carry whatever the upstream block yielded; the sink converts it (a number to
a string, a JSON string to a list, a scalar to a one-element list, …) before validation.
"""

from __future__ import annotations

import json
import types
import typing
from typing import Any


def _to_str(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(value)
    return str(value)


def _to_list(value: Any) -> list[Any]:
    if isinstance(value, list):
        return value
    if isinstance(value, (tuple, set)):
        return list(value)
    if isinstance(value, dict):
        return list(value.items())
    if isinstance(value, str):
        try:
            parsed = json.loads(value)
            if isinstance(parsed, list):
                return parsed
        except json.JSONDecodeError:
            pass
    return [value]


def _to_dict(value: Any) -> dict[Any, Any]:
    if isinstance(value, dict):
        return value
    if isinstance(value, str):
        try:
            parsed = json.loads(value)
            if isinstance(parsed, dict):
                return parsed
        except json.JSONDecodeError:
            pass
    if isinstance(value, list):
        return {index: item for index, item in enumerate(value)}
    return {"value": value}


def _to_number(value: Any, target: type) -> Any:
    if isinstance(value, bool):
        return target(value)
    if isinstance(value, (int, float)):
        return target(value) if target is float or float(value).is_integer() else value
    if isinstance(value, str):
        text = value.strip()
        try:
            return int(text) if target is int else float(text)
        except ValueError:
            try:
                number = float(text)
                return int(number) if target is int and number.is_integer() else number
            except ValueError:
                return value
    return value


def _to_bool(value: Any) -> Any:
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in ("true", "yes", "1", "on"):
            return True
        if lowered in ("false", "no", "0", "off", ""):
            return False
    if isinstance(value, (int, float)):
        return bool(value)
    return value


def convert(value: Any, target: Any) -> Any:
    """Convert `value` to `target` (a plain type); unknown targets leave the value as is."""
    if value is None:
        return None
    if target is str:
        return _to_str(value)
    if target is bool:
        return _to_bool(value)
    if target in (int, float):
        return _to_number(value, target)
    if target is list:
        return _to_list(value)
    if target is dict:
        return _to_dict(value)
    return value


def convert_to_annotation(value: Any, annotation: Any) -> Any:
    """Apply `convert` for the simple annotations (str, int, list[str], dict[str, Any], Optional…)."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        arguments = [a for a in typing.get_args(annotation) if a is not type(None)]
        if any(_matches(value, a) for a in arguments) or len(arguments) != 1:
            return value
        return convert_to_annotation(value, arguments[0])
    if origin in (list, dict):
        return convert(value, origin)
    if annotation in (str, int, float, bool, list, dict):
        return convert(value, annotation)
    return value


def _matches(value: Any, annotation: Any) -> bool:
    base = typing.get_origin(annotation) or annotation
    return isinstance(base, type) and isinstance(value, base)
