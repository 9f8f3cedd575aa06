"""Stored graph versions as executions read them: immutable, so cached per container."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from stratus.db.graphs_table import get_version_item
from stratus.errors import NotFound
from stratus.graphs.models import Graph


@lru_cache(maxsize=32)
def version_item(graph_id: str, version: int) -> dict[str, Any]:
    """A stored graph version's item."""
    item = get_version_item(graph_id, version)
    if not item:
        raise NotFound(f"Graph {graph_id} version {version} not found.")
    return item


@lru_cache(maxsize=32)
def graph_version(graph_id: str, version: int) -> Graph:
    """A stored graph version as the engine's Graph."""
    item = version_item(graph_id, version)
    body = json.loads(item["body"])
    return Graph(id=graph_id, version=version, name=item.get("name", ""), nodes=body["nodes"], links=body["links"])
