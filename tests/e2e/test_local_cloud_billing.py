"""Prepaid LLM usage and Idempotency-Key through the local cloud's HTTP API: the blocks API on
the cloud's loopback model server, reservations and settlements in the ledger, concurrent paid
calls all charged, a retried request replayed without a second charge, another payload a 422."""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor

import httpx

from stratus.blocks.registry import get_block
from tests.e2e.conftest import auth

TEXT_GENERATOR = "1f292d4a-41a4-4977-9684-7c8d560b9f91"
PATH = f"/api/blocks/{TEXT_GENERATOR}/execute"
PROMPT = {"prompt": "Hello {{name}}", "prompt_values": {"name": "Ada"}, "model": "gpt-4o-mini"}


def _ledger(http: httpx.Client, user: str) -> list[dict]:
    found, params = [], {"transaction_count_limit": 100}
    while True:
        page = http.get("/api/credits/transactions", headers=auth(user), params=params).json()
        found += page["transactions"]
        if not page["next_cursor"]:
            return found
        params["transaction_time"] = page["next_cursor"]


def test_paid_block_calls_are_prepaid_settled_and_idempotent(cloud):
    user = "billing-alice"
    with httpx.Client(base_url=cloud.http, timeout=30) as http:
        http.post("/api/auth/user", headers=auth(user))
        balance = http.get("/api/credits", headers=auth(user)).json()["credits"]

        # A reservation the balance cannot cover is refused before the run.
        huge = {**PROMPT, "max_tokens": 10 * 1000 * balance}
        refused = http.post(PATH, headers=auth(user), json=huge)
        assert refused.status_code == 402 and "Insufficient balance" in refused.json()["detail"]

        # One call with a key: reserved, run, the unused part refunded; a retry is replayed.
        first = http.post(PATH, headers={**auth(user), "Idempotency-Key": "e2e-once"}, json=PROMPT)
        assert first.status_code == 200 and first.json()["response"] == ["Echo: Hello Ada"]
        ledger = _ledger(http, user)
        again = http.post(PATH, headers={**auth(user), "Idempotency-Key": "e2e-once"}, json=PROMPT)
        assert again.status_code == 200 and again.json() == first.json()
        assert _ledger(http, user) == ledger  # nothing charged for the replay
        other = http.post(PATH, headers={**auth(user), "Idempotency-Key": "e2e-once"}, json={**PROMPT, "prompt": "x"})
        assert other.status_code == 422 and "another input" in other.json()["detail"]

        # Concurrent paid calls, each reserving 100 credits for a 1-credit run: every run is charged.
        body = {**PROMPT, "max_tokens": 33_000}
        assert math.ceil(get_block(TEXT_GENERATOR).token_limit(body) / 1000) == 100

        def call(n: int) -> int:
            return http.post(PATH, headers=auth(user), json={**body, "sys_prompt": f"call {n}"}).status_code

        with ThreadPoolExecutor(max_workers=12) as pool:
            statuses = list(pool.map(call, range(24)))
        assert set(statuses) <= {200, 402}, statuses

        ledger = _ledger(http, user)
        settled = [tx for tx in ledger if tx["transaction_key"].endswith("#settle")]
        assert len(settled) == 1 + statuses.count(200)  # one settlement per run, the keyed one included
        assert not [tx for tx in ledger if (tx["metadata"] or {}).get("uncharged")]
        runs = [tx for tx in ledger if tx["transaction_type"] == "USAGE"]
        net = -sum(tx["amount"] for tx in ledger if tx["transaction_type"] in ("USAGE", "REFUND"))
        assert len(runs) == len(settled) and net == len(runs)  # 1 credit each (a few words used)
        final = http.get("/api/credits", headers=auth(user)).json()["credits"]
        assert final == balance - net >= 0
        assert sum(tx["amount"] for tx in ledger) == final
