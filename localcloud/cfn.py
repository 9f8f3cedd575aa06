"""Read CloudFormation/SAM templates (short-form tags) and resolve the intrinsics we use."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml


class _Loader(yaml.SafeLoader):
    pass


def _tag_constructor(loader: yaml.Loader, tag_suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = "Ref" if tag_suffix == "Ref" else f"Fn::{tag_suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if tag_suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


_Loader.add_multi_constructor("!", _tag_constructor)


def load_template(path: str | Path) -> dict[str, Any]:
    with open(path, encoding="utf-8") as handle:
        return yaml.load(handle, Loader=_Loader)  # noqa: S506 - SafeLoader subclass


class Resolver:
    """Resolves Ref / Sub / GetAtt / Join / If-less intrinsics against local values."""

    def __init__(
        self,
        parameters: dict[str, Any],
        refs: dict[str, Any],
        attributes: Callable[[str, str], Any],
        pseudo: dict[str, Any],
    ):
        self.parameters = parameters
        self.refs = refs
        self.attributes = attributes
        self.pseudo = pseudo

    def ref(self, name: str) -> Any:
        if name in self.pseudo:
            return self.pseudo[name]
        if name in self.parameters:
            return self.parameters[name]
        if name in self.refs:
            return self.refs[name]
        raise KeyError(f"Unresolvable Ref {name!r}")

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, arg),) = value.items()
            if key == "Ref":
                return self.ref(arg)
            if key == "Fn::GetAtt":
                logical_id, attribute = arg if isinstance(arg, list) else arg.split(".", 1)
                return self.attributes(logical_id, attribute)
            if key == "Fn::Sub":
                return self._sub(arg)
            if key == "Fn::Join":
                separator, parts = arg
                return separator.join(str(p) for p in self.resolve(parts))
            if key == "Fn::Select":
                index, items = arg
                return self.resolve(items)[int(index)]
            if key == "Fn::If":
                raise KeyError("Conditions are not supported by the local cloud")
        return {k: self.resolve(v) for k, v in value.items()}

    def _sub(self, arg: Any) -> str:
        if isinstance(arg, list):
            template, extra = arg[0], {k: self.resolve(v) for k, v in arg[1].items()}
        else:
            template, extra = arg, {}

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in extra:
                return str(extra[name])
            if "." in name:
                logical_id, attribute = name.split(".", 1)
                return str(self.attributes(logical_id, attribute))
            return str(self.ref(name))

        return re.sub(r"\$\{([^}!]+)\}", replace, template)
