"""ExecutionsTable layout (stream on): one partition per graph execution.

- `GEXEC#<id> / META`: the graph execution (status, inputs, outputs, stats); GSIs by user
  (`GSI1PK = USER#<user>`) and by graph (`GSI2PK = GRAPH#<graph>#USER#<user>`), newest first
  by `created_at`.
- `GEXEC#<id> / NODE#<node_exec_id>`: one node execution (status, input_data, output_data).
- `GEXEC#<id> / STATIC#<node_id>#<pin>`: the latest value of a static link.
- `GEXEC#<id> / RUN#<node_exec_id>`: who got a prepaid node's reservation: its block Lambda
  (STARTED, it runs and settles) or the finalizer (RELEASED, refunded: it never ran).
- `SHARE#<token> / SHARE`: a public share of an execution.
- `IDEM#<user>#<sha256 of the key> / IDEM`: an Idempotency-Key's request and first result
  (stratus.executions.idempotency), expiring by the `expires_at` TTL.
Values over ~64 KB are stored in the values bucket and referenced as {"$s3": key}.
"""

from __future__ import annotations

import os
from functools import lru_cache

from stratus.db.dynamo import Table

BY_USER_INDEX = "ByUser"
BY_GRAPH_INDEX = "ByGraph"
META_SK = "META"
NODE_PREFIX = "NODE#"
STATIC_PREFIX = "STATIC#"


@lru_cache(maxsize=1)
def executions_table() -> Table:
    return Table(os.environ.get("EXECUTIONS_TABLE", "ExecutionsTable"))


def execution_pk(graph_exec_id: str) -> str:
    return f"GEXEC#{graph_exec_id}"


def meta_key(graph_exec_id: str) -> dict[str, str]:
    return {"PK": execution_pk(graph_exec_id), "SK": META_SK}


def node_key(graph_exec_id: str, node_exec_id: str) -> dict[str, str]:
    return {"PK": execution_pk(graph_exec_id), "SK": f"{NODE_PREFIX}{node_exec_id}"}


def static_key(graph_exec_id: str, node_id: str, pin: str) -> dict[str, str]:
    return {"PK": execution_pk(graph_exec_id), "SK": f"{STATIC_PREFIX}{node_id}#{pin}"}


def run_claim_key(graph_exec_id: str, node_exec_id: str) -> dict[str, str]:
    return {"PK": execution_pk(graph_exec_id), "SK": f"RUN#{node_exec_id}"}


def share_key(token: str) -> dict[str, str]:
    return {"PK": f"SHARE#{token}", "SK": "SHARE"}


def user_index_keys(user_id: str, created_at: str, graph_id: str) -> dict[str, str]:
    return {
        "GSI1PK": f"USER#{user_id}",
        "GSI1SK": created_at,
        "GSI2PK": f"GRAPH#{graph_id}#USER#{user_id}",
        "GSI2SK": created_at,
    }


def idempotency_key(user_id: str, key_digest: str) -> dict[str, str]:
    """One user's Idempotency-Key (its digest: any header value fits a key)."""
    return {"PK": f"IDEM#{user_id}#{key_digest}", "SK": "IDEM"}
