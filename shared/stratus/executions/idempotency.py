"""Idempotency-Key semantics of the execute routes, like Powertools' idempotency utility, on
ExecutionsTable (its `expires_at` TTL) instead of a table of its own.

A key belongs to one user and names one request: its route (a graph execution or a block
execution) and a hash of each part of the request. The same key with the same request replays
the first result; anything else is a 422 naming what differs.

* Block execution: `begin` claims the key (conditional Put, status IN_PROGRESS), the caller runs
  the block once, `complete` stores its outputs (compressed) for replay; a failed run `abandon`s
  the claim so a retry runs again. A concurrent request with the same key while the first is
  running gets a 409 (Powertools' IdempotencyAlreadyInProgressError); a claim older than
  IN_PROGRESS_SECONDS is from a request that died and may be taken over.
* Graph execution: `check` before anything else (a bound key returns its execution id), `bind`
  just before the execution record is written. The execution id is derived from the key, so
  concurrent identical requests still make one execution.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
import zlib
from dataclasses import dataclass
from typing import Any

from stratus.db import executions_table as table
from stratus.errors import Conflict, Unprocessable

BLOCK_EXECUTION = "block execution"
GRAPH_EXECUTION = "graph execution"
TTL_SECONDS = 24 * 3600  # how long a block execution's result is replayed (as Stripe keeps keys)
IN_PROGRESS_SECONDS = 120  # beyond GraphsFunction's 30 s timeout: an older claim's request is gone
MAX_RESULT_BYTES = 300_000  # a stored result must fit the 400 KB item
IN_PROGRESS, COMPLETED = "IN_PROGRESS", "COMPLETED"


def request_hashes(parts: dict[str, Any]) -> dict[str, str]:
    """A SHA-256 of each part of a request (canonical JSON), so a mismatch can be named."""
    return {
        name: hashlib.sha256(json.dumps(value, sort_keys=True, default=str, separators=(",", ":")).encode()).hexdigest()
        for name, value in parts.items()
    }


def _mismatch(key: str, item: dict[str, Any], route: str, hashes: dict[str, str]) -> None:
    """422 when the key was used for another request."""
    if item.get("route") != route:
        raise Unprocessable(
            f"Idempotency-Key {key!r} was already used for a {item.get('route')}, "
            f"not a {route}; use a new key for a new request."
        )
    stored = item.get("request_hashes") or {}
    differs = sorted(name for name in set(stored) | set(hashes) if stored.get(name) != hashes.get(name))
    if differs:
        raise Unprocessable(
            f"Idempotency-Key {key!r} was already used for a {route} with another "
            f"{', '.join(differs)}; use a new key for a new request."
        )


def _live(item: dict[str, Any] | None, now: float) -> dict[str, Any] | None:
    """The item unless its TTL passed (DynamoDB deletes expired items only eventually)."""
    return item if item and int(item.get("expires_at") or now + 1) > now else None


# --- block executions ---------------------------------------------------------------------
@dataclass
class Claim:
    user_id: str
    key: str
    claim_id: str
    replay: dict[str, Any] | None = None  # the first result, when this request is a retry
    replay_unavailable: bool = False


def begin(user_id: str, key: str, route: str, parts: dict[str, Any]) -> Claim:
    """Claim the key for one run, or find the first result. Raises 422 (another request) or
    409 (the first request with this key is still running)."""
    hashes, now = request_hashes(parts), time.time()
    claim = Claim(user_id, key, str(uuid.uuid4()))
    item = {
        "kind": "idempotency",
        "user_id": user_id,
        "route": route,
        "request_hashes": hashes,
        "status": IN_PROGRESS,
        "claim_id": claim.claim_id,
        "in_progress_until": int(now + IN_PROGRESS_SECONDS),
        "expires_at": int(now + TTL_SECONDS),
    }
    if table.claim_idempotency_key(user_id, key, item, int(now), IN_PROGRESS):
        return claim
    existing = _live(table.get_idempotency_item(user_id, key), now)
    if existing is None:  # it expired or was abandoned in between: claim again
        return begin(user_id, key, route, parts)
    _mismatch(key, existing, route, hashes)
    if existing["status"] == IN_PROGRESS:
        raise Conflict(f"A request with Idempotency-Key {key!r} is in progress; retry it once it has finished.")
    stored = existing.get("result")
    if stored is None:
        return Claim(user_id, key, existing["claim_id"], replay_unavailable=True)
    raw = stored.value if hasattr(stored, "value") else stored
    return Claim(user_id, key, existing["claim_id"], replay=json.loads(zlib.decompress(raw)))


def complete(claim: Claim, result: dict[str, Any]) -> None:
    """Store the run's result for replay (too large a result is not replayed: a retry gets a 409).
    A claim taken over after it timed out keeps the newer run's result."""
    packed = zlib.compress(json.dumps(result, allow_nan=True, default=str).encode())
    kept = packed if len(packed) <= MAX_RESULT_BYTES else None
    table.complete_idempotency_key(claim.user_id, claim.key, claim.claim_id, COMPLETED, kept)


def abandon(claim: Claim) -> None:
    """The run failed: free the key so a retry runs again."""
    table.release_idempotency_key(claim.user_id, claim.key, claim.claim_id)


def replay_unavailable(key: str) -> Conflict:
    return Conflict(
        f"The request with Idempotency-Key {key!r} already ran; its result was too large to keep "
        "for replay and it is not run again."
    )


# --- graph executions ---------------------------------------------------------------------
def check(user_id: str, key: str, parts: dict[str, Any]) -> str | None:
    """The execution id a key is bound to for this same request; 422 for another request."""
    item = _live(table.get_idempotency_item(user_id, key), time.time())
    if item is None:
        return None
    _mismatch(key, item, GRAPH_EXECUTION, request_hashes(parts))
    return item.get("graph_exec_id")


def bind(user_id: str, key: str, parts: dict[str, Any], graph_exec_id: str) -> None:
    """Bind the key to this request and execution (a concurrent other request with it: 422)."""
    hashes, now = request_hashes(parts), time.time()
    item = {
        "kind": "idempotency",
        "user_id": user_id,
        "route": GRAPH_EXECUTION,
        "request_hashes": hashes,
        "status": COMPLETED,
        "graph_exec_id": graph_exec_id,
        "expires_at": int(now + TTL_SECONDS),
    }
    if not table.bind_idempotency_key(user_id, key, item, int(now)):
        _mismatch(key, table.get_idempotency_item(user_id, key) or item, GRAPH_EXECUTION, hashes)


def graph_request(
    graph_id: str, version: int | None, inputs: dict[str, Any], credentials_inputs: Any, preset_id: str | None
) -> dict[str, Any]:
    """The parts of a graph execute request a key is bound to."""
    return {
        "graph": graph_id,
        "version": version,
        "inputs": inputs,
        "credentials_inputs": credentials_inputs or {},
        "preset": preset_id,
    }


def check_execution(key: str, meta_item: dict[str, Any], parts: dict[str, Any]) -> None:
    """422 when the execution a key names was started by another request (the key's own record
    may have expired; the execution keeps the request's hashes)."""
    if meta_item.get("request_hashes"):
        _mismatch(
            key,
            {"route": GRAPH_EXECUTION, "request_hashes": meta_item["request_hashes"]},
            GRAPH_EXECUTION,
            request_hashes(parts),
        )
