"""AutoGPT's type conversion of a pin value to the type a schema field declares.

Graph links carry whatever the upstream block yielded; before validation the sink converts
each input whose value is not already of the field's type (AutoGPT's `validate_exec`):
a number to a string (JSON text), a string to a number (through float; 0 when it is no
number), a list to a number (its length), a JSON string to a list or dict, a scalar to a
one-element list, "true"/"1" to True and any other string to False, and so on, through
unions (first member first), generic containers (their items too) and `str` subclasses.
The table of cases is in tests/unit/test_typeconv.py.
"""

from __future__ import annotations

import json
import types
import typing
from typing import Any

_SUPPORTED = (list, dict, tuple, str, set, int, float, bool)


class ConversionError(ValueError):
    """A value that cannot become the target type at all (AutoGPT's ConversionError)."""


def _subclass_of(origin: Any, target: type) -> bool:
    return origin is target or (isinstance(origin, type) and issubclass(origin, target))


def _as_list(value: Any) -> list[Any]:
    if isinstance(value, (list, tuple, set)):
        return list(value)
    if isinstance(value, dict):
        return list(value.items())
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("[") and text.endswith("]"):
            try:
                parsed = json.loads(text)
            except json.JSONDecodeError:
                return [text]
            return parsed if isinstance(parsed, list) else [parsed]
        return [text]
    return [value]


def _as_dict(value: Any) -> dict[Any, Any]:
    if isinstance(value, dict):
        return value
    if isinstance(value, str):
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError:
            return {"value": value}
        return parsed if isinstance(parsed, dict) else {"value": parsed}
    if isinstance(value, (list, tuple)):
        return dict(enumerate(value))
    return {"value": value}


def _as_tuple(value: Any) -> tuple[Any, ...]:
    if isinstance(value, tuple):
        return value
    if isinstance(value, (str, list, set)):
        return tuple(value)
    if isinstance(value, dict):
        return tuple(value.items())
    return (value,)


def _as_set(value: Any) -> set[Any]:
    if isinstance(value, set):
        return value
    if isinstance(value, (str, list, tuple)):
        return set(value)
    if isinstance(value, dict):
        return set(value.items())
    return {value}


def _as_str(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _as_number(value: Any, kind: type, strict: bool) -> Any:
    if isinstance(value, (list, dict, tuple, set)):
        if strict:
            raise ValueError(f"{type(value).__name__} is not a number")
        return kind(len(value))
    if isinstance(value, kind):
        return value
    try:
        return kind(float(value))
    except (TypeError, ValueError):
        if strict:
            raise ValueError(f"{value!r} is not a number") from None
        return kind(0)


def _as_bool(value: Any, strict: bool) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        if strict and value.lower() not in ("true", "1", "false", "0"):
            raise ValueError(f"{value!r} is not a boolean")
        return value.lower() in ("true", "1")
    return bool(value)


def _items(value: Any, origin: Any, args: tuple[Any, ...], strict: bool) -> Any:
    """A container already of `origin`: its items converted to the argument types."""
    if origin is list:
        return [_convert(v, args[0], strict) for v in value]
    if origin is tuple:
        if len(args) == 1:
            return tuple(_convert(v, args[0], strict) for v in value)
        return tuple(_convert(v, t, strict) for v, t in zip(value, args))
    if origin is dict:
        key_type, value_type = args
        return {_convert(k, key_type, strict): _convert(v, value_type, strict) for k, v in value.items()}
    if origin is set:
        return {_convert(v, args[0], strict) for v in value}
    return value


def _convert(value: Any, target: Any, strict: bool) -> Any:
    origin, args = typing.get_origin(target), typing.get_args(target)
    if origin in (typing.Union, types.UnionType):
        if value is None:
            return None
        for member in (a for a in args if a is not type(None)):
            try:
                return _convert(value, member, strict)  # the first member that converts wins
            except (TypeError, ValueError):
                continue
        return value
    if origin is None:
        origin = target
    if not any(_subclass_of(origin, kind) for kind in _SUPPORTED):
        return value  # Any, Literal, enums, models, dates …: left to the schema's validation
    if isinstance(value, origin):
        return _items(value, origin, args, strict) if args else value
    if _subclass_of(origin, list):
        items = _as_list(value)
        if args:
            items = [_convert(v, args[0], strict) for v in items]
        return items if origin is list else origin(items)
    if _subclass_of(origin, dict):
        mapping = _as_dict(value)
        if args:
            key_type, value_type = args
            mapping = {_convert(k, key_type, strict): _convert(v, value_type, strict) for k, v in mapping.items()}
        return mapping if origin is dict else origin(mapping)
    if _subclass_of(origin, tuple):
        values = _as_tuple(value)
        if args:
            if len(args) == 1:
                values = tuple(_convert(v, args[0], strict) for v in values)
            else:
                values = tuple(_convert(v, t, strict) for v, t in zip(values, args))
        return values if origin is tuple else origin(values)
    if _subclass_of(origin, str):
        text = _as_str(value)
        return text if origin is str else origin(text)
    if _subclass_of(origin, set):
        members = _as_set(value)
        return {_convert(v, args[0], strict) for v in members} if args else members
    if _subclass_of(origin, bool):
        return _as_bool(value, strict)
    if _subclass_of(origin, int):
        return _as_number(value, int, strict)
    if _subclass_of(origin, float):
        return _as_number(value, float, strict)
    return value


def convert(value: Any, target: Any, strict: bool = False) -> Any:
    """`value` as `target` (a type or annotation). ConversionError when it cannot be (a value
    a `str` subclass such as an enum refuses); unsupported targets leave the value as it is.

    `strict` (a graph's own inputs, from the API: a bad value is the caller's 422, not a
    silent 0): where AutoGPT substitutes a value that says nothing of the input (a number
    from text that is none or from a container's length, False from any other text), raise."""
    try:
        return _convert(value, target, strict)
    except Exception as exc:
        raise ConversionError(f"Failed to convert {value!r} to {target}") from exc


def convert_to_annotation(value: Any, annotation: Any, strict: bool = False) -> Any:
    """A node input as AutoGPT's validate_exec prepares it: None, and values whose type is
    exactly the field's, are left alone; anything else goes through `convert`."""
    if value is None or type(value) is annotation:
        return value
    return convert(value, annotation, strict)
