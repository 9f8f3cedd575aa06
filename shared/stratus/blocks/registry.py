"""Every block by id, built once per container, and the Lambda group that runs each one."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from functools import lru_cache

from stratus.blocks.sdk import Block
from stratus.config import (
    BlockAiFunctionSettings,
    BlockCoreFunctionSettings,
    BlockIntegrationsFunctionSettings,
    get_settings,
)

# Packages holding block modules, one per Lambda group.
GROUP_PACKAGES = {
    "core": "stratus.blocks.core",
    "ai": "stratus.blocks.ai",
    "integrations": "stratus.blocks.integrations",
}


@lru_cache(maxsize=1)
def all_blocks() -> dict[str, Block]:
    blocks: dict[str, Block] = {}
    for package_name in GROUP_PACKAGES.values():
        package = importlib.import_module(package_name)
        for module_info in pkgutil.iter_modules(package.__path__):
            module = importlib.import_module(f"{package_name}.{module_info.name}")
            for _, cls in inspect.getmembers(module, inspect.isclass):
                if (
                    issubclass(cls, Block)
                    and cls is not Block
                    and cls.__module__ == module.__name__
                    and getattr(cls, "id", None)
                ):
                    if cls.id in blocks:
                        raise RuntimeError(f"Duplicate block id {cls.id}: {cls.__name__} and {blocks[cls.id].name}")
                    blocks[cls.id] = cls()
    return blocks


def get_block(block_id: str) -> Block | None:
    return all_blocks().get(block_id)


def block_function_arn(group: str) -> str:
    """The Lambda that runs a group's blocks (its ARN from the template's environment)."""
    if group == "core":
        return get_settings(BlockCoreFunctionSettings).block_function_core_arn
    if group == "ai":
        return get_settings(BlockAiFunctionSettings).block_function_ai_arn
    if group == "integrations":
        return get_settings(BlockIntegrationsFunctionSettings).block_function_integrations_arn
    raise KeyError(f"No block Lambda for the group {group!r}")
