"""AutoGPT's dynamic pins: `_$_` list index, `_#_` dict key, `_@_` object attribute.

Input side: flattened pins (`values_#_name`, `items_$_0`) are merged back into the base pin.
Output side: a link from `result_$_1` takes element 1 of the `result` output, or nothing.

Tool pins (AutoGPT's SmartDecisionMaker): the other way round. The block yields
`tools_^_{sink node id}_~_{sink pin}` and its links leave from `tools` (or, in older exports,
`tools_^_{tool name}_~_{field}`): a yield goes over the link into that node and pin only, and a
tool argument of None is not delivered (AutoGPT's executor drops a None that a selector picked).
"""

from __future__ import annotations

import re
from typing import Any

LIST_SPLIT = "_$_"
DICT_SPLIT = "_#_"
_SPLIT = re.compile(r"(_\$_|_#_|_@_)")
_MISSING = object()
TOOLS_PIN = "tools"
TOOL_PREFIX = "tools_^_"
TOOL_FIELD_SPLIT = "_~_"


def is_tool_pin(pin: str) -> bool:
    """`tools` or `tools_^_…`: a link leaving a SmartDecisionMaker's tools pin."""
    return pin == TOOLS_PIN or pin.startswith(TOOL_PREFIX)


def tool_output_pin(sink_node_id: str, sink_pin: str) -> str:
    """The pin a SmartDecisionMaker yields a tool argument on: routed to that node's pin."""
    return f"{TOOL_PREFIX}{sink_node_id}{TOOL_FIELD_SPLIT}{sink_pin}"


def base_name(pin: str) -> str:
    """`values_#_a_$_0` → `values`; a tool pin (`tools_^_…`) → `tools`."""
    if is_tool_pin(pin):
        return TOOLS_PIN
    return _SPLIT.split(pin, maxsplit=1)[0]


def is_dynamic(pin: str) -> bool:
    return bool(_SPLIT.search(pin))


def _path(pin: str) -> tuple[str, list[tuple[str, str]]]:
    parts = _SPLIT.split(pin)
    return parts[0], [(parts[i], parts[i + 1]) for i in range(1, len(parts) - 1, 2)]


def merge_execution_input(data: dict[str, Any]) -> dict[str, Any]:
    """Rebuild nested values from dynamic pins. Lists are padded with None; a non-integer
    list index raises ValueError."""
    merged: dict[str, Any] = {k: v for k, v in data.items() if not is_dynamic(k)}
    for pin in sorted((k for k in data if is_dynamic(k)), key=_pin_sort_key):
        name, steps = _path(pin)
        container = merged.get(name)
        merged[name] = _assign(container, steps, data[pin], pin)
    return merged


def _pin_sort_key(pin: str) -> tuple[str, list[tuple[str, str]]]:
    # List indexes sort numerically (zero-padded), so items_$_10 comes after items_$_2.
    name, steps = _path(pin)
    return name, [(sep, key.zfill(12) if sep == LIST_SPLIT else key) for sep, key in steps]


def _assign(container: Any, steps: list[tuple[str, str]], value: Any, pin: str) -> Any:
    separator, key = steps[0]
    rest = steps[1:]
    if separator == LIST_SPLIT:
        if not key.isdigit():
            raise ValueError(f"Pin {pin!r}: list index {key!r} is not an integer")
        index = int(key)
        items = list(container) if isinstance(container, list) else []
        while len(items) <= index:
            items.append(None)
        items[index] = _assign(items[index], rest, value, pin) if rest else value
        return items
    if separator == DICT_SPLIT:
        mapping = dict(container) if isinstance(container, dict) else {}
        mapping[key] = _assign(mapping.get(key), rest, value, pin) if rest else value
        return mapping
    # Object attribute: represented as a dict of attributes (values travel as JSON).
    attributes = dict(container) if isinstance(container, dict) else {}
    attributes[key] = _assign(attributes.get(key), rest, value, pin) if rest else value
    return attributes


def parse_execution_output(
    output_name: str, value: Any, source_pin: str, sink_id: str | None = None, sink_pin: str | None = None
) -> Any:
    """The value a link from `source_pin` (into `sink_id`.`sink_pin`) carries for one yield
    `(output_name, value)`, or `_MISSING` when the link does not fire (another pin, a path that
    is absent, a tool argument for another node or pin, or a None tool argument)."""
    if is_tool_pin(source_pin) and output_name.startswith(TOOL_PREFIX) and TOOL_FIELD_SPLIT in output_name:
        target_node, target_pin = output_name[len(TOOL_PREFIX) :].split(TOOL_FIELD_SPLIT, 1)
        if target_node == sink_id and target_pin == sink_pin and value is not None:
            return value
        return _MISSING
    name, steps = _path(source_pin)
    if name != output_name:
        return _MISSING
    current = value
    for separator, key in steps:
        if separator == LIST_SPLIT:
            if not isinstance(current, (list, tuple)) or not key.lstrip("-").isdigit():
                return _MISSING
            index = int(key)
            if not -len(current) <= index < len(current):
                return _MISSING
            current = current[index]
        elif separator == DICT_SPLIT:
            if not isinstance(current, dict) or key not in current:
                return _MISSING
            current = current[key]
        else:
            if isinstance(current, dict) and key in current:
                current = current[key]
            elif hasattr(current, key):
                current = getattr(current, key)
            else:
                return _MISSING
    return current


def fires(value: Any) -> bool:
    return value is not _MISSING
