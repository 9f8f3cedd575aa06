"""StoreTable layout: store, library, presets and schedules share one table (see docs/data-model.md).

Key namespaces are owned by their modules; the approval marker is shared with graphs and
executions: `APPROVED#<graph_id> / V#<version:06d>` exists exactly while that graph
version is approved in the store.
"""

from __future__ import annotations

import os
from functools import lru_cache

from stratus.db.dynamo import Table

GSI1, GSI2, GSI3 = "GSI1", "GSI2", "GSI3"


@lru_cache(maxsize=1)
def store_table() -> Table:
    return Table(os.environ.get("STORE_TABLE", "StoreTable"))


def approved_key(graph_id: str, version: int) -> dict[str, str]:
    return {"PK": f"APPROVED#{graph_id}", "SK": f"V#{version:06d}"}
