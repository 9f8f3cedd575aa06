"""Prepaid TOKEN usage: an LLM block's bounded token estimate is reserved before it runs and
settled after it. The blocks API through GraphsFunction → BlockAiFunction (moto's Lambda invoke,
in-process) and a graph on the real ASL, both against a loopback FakeOpenAI."""

from __future__ import annotations

import asyncio
import json
import math
from concurrent.futures import ThreadPoolExecutor

from stratus.blocks.ai.llm import AIStructuredResponseGeneratorBlock
from stratus.blocks.registry import get_block
from stratus.executions.billing import settle_usage
from stratus.executions.models import RunContext
from stratus.executions.node_runner import UsageRecorder
from stratus.users import credits
from stratus.users.credits import TransactionType
from tests.functional.test_ai_executions import EXAMPLES, ai_api  # noqa: F401 - the fixture
from tests.functional.test_blocks_api import _key
from tests.functional.test_state_machine import _wait, sfn_api  # noqa: F401 - the fixture

TEXT_GENERATOR = "1f292d4a-41a4-4977-9684-7c8d560b9f91"
PATH = f"/api/blocks/{TEXT_GENERATOR}/execute"
PROMPT = {"prompt": "Hello {{name}}", "prompt_values": {"name": "Ada"}, "model": "gpt-4o-mini"}


def _set_balance(user: str, balance: int) -> None:
    current = credits.get_balance(user)
    if current > balance:
        credits.charge(user, current - balance, f"test-drain-{current}-{balance}")


def _ledger(user: str = "alice") -> list:
    history, found = credits.list_transactions(user, limit=100), []
    found += history.transactions
    while history.next_cursor:
        history = credits.list_transactions(user, limit=100, cursor=history.next_cursor)
        found += history.transactions
    return found


def _reservation(data: dict) -> int:
    return math.ceil(get_block(TEXT_GENERATOR).token_limit(data) / 1000)  # gpt-4o-mini: 1 per 1,000


def test_at_balance_zero_the_blocks_api_is_402_and_the_model_gets_no_request(ai_api, model_server):
    _set_balance("alice", 0)
    status, error = ai_api.request("POST", PATH, user="alice", json_body=PROMPT)
    assert status == 402 and "Insufficient balance" in error["detail"]
    status, _ = ai_api.request(
        "POST",
        f"/external-api/v1/blocks/{TEXT_GENERATOR}/execute",
        json_body=PROMPT,
        headers={"x-api-key": _key(ai_api, "alice", ["EXECUTE_BLOCK"])},
    )
    assert status == 402
    # A positive balance below the reservation is refused too.
    credits.record("alice", TransactionType.GRANT, _reservation(PROMPT) - 1, "small-grant")
    status, _ = ai_api.request("POST", PATH, user="alice", json_body=PROMPT)
    assert status == 402
    assert model_server.requests == []
    assert credits.get_balance("alice") == _reservation(PROMPT) - 1
    assert sum(tx.amount for tx in _ledger()) == credits.get_balance("alice")


def test_a_graph_llm_node_the_balance_cannot_reserve_for_fails_the_graph(ai_api, model_server):
    graph = json.loads((EXAMPLES / "ai_blog_writer.json").read_text())
    _, created = ai_api.request("POST", "/api/graphs", user="alice", json_body={"graph": graph})
    _set_balance("alice", 5)  # > 0: the launcher accepts the run; < any LLM node's reservation
    status, execution = ai_api.request(
        "POST",
        f"/api/graphs/{created['id']}/execute/{created['version']}",
        user="alice",
        json_body={"inputs": {"topic": "unpaid"}},
    )
    assert status == 200, execution
    assert _wait(execution["id"])["status"] == "SUCCEEDED"
    _, result = ai_api.request("GET", f"/api/graphs/{created['id']}/executions/{execution['id']}", user="alice")
    assert result["status"] == "FAILED" and "Insufficient balance" in result["stats"]["error"]
    llm_nodes = [n for n in result["node_executions"] if get_block(n["block_id"]).group == "ai"]
    assert all(n["status"] != "COMPLETED" for n in llm_nodes)
    assert model_server.requests == [] and result["stats"]["cost"] == 0
    assert credits.get_balance("alice") == 5 == sum(tx.amount for tx in _ledger())


def test_concurrent_paid_block_calls_on_a_small_balance_are_all_charged(ai_api, model_server):
    calls, balance = 60, 40
    body = {**PROMPT, "max_tokens": 700}  # reservation 3 credits, real usage 1 (a few words)
    reserved = _reservation(body)
    assert reserved == 3
    _set_balance("alice", balance)

    def call(n: int) -> int:
        return ai_api.request("POST", PATH, user="alice", json_body={**body, "sys_prompt": f"call {n}"})[0]

    with ThreadPoolExecutor(max_workers=30) as pool:
        statuses = list(pool.map(call, range(calls)))
    runs = len(model_server.requests)
    assert statuses.count(200) == runs and statuses.count(402) == calls - runs, statuses
    assert runs >= balance // reserved  # at least what the balance reserves at once ran
    ledger = _ledger()
    charged = -sum(
        tx.amount
        for tx in ledger
        if tx.transaction_type in (TransactionType.USAGE, TransactionType.REFUND)
        and not tx.transaction_key.startswith("test-drain")
    )
    tokens = [tx.metadata["tokens"] for tx in ledger if tx.transaction_key.endswith("#settle")]
    assert len(tokens) == runs and all(0 < t < 1000 for t in tokens)  # each run used 1 credit's worth
    assert charged == runs  # every run that happened is charged what it used: uncharged = 0
    assert not [tx for tx in ledger if (tx.metadata or {}).get("uncharged")]
    assert credits.get_balance("alice") == balance - runs >= 0
    assert sum(tx.amount for tx in ledger) == credits.get_balance("alice")
    assert all(tx.running_balance >= 0 for tx in ledger)


def test_settle_refunds_the_unused_reservation_and_charges_an_excess_up_to_the_balance(aws):
    block, data = get_block(TEXT_GENERATOR), {**PROMPT, "credentials": {}}  # 1 credit per 1,000 tokens
    meta = RunContext("u", "g", "graph")
    credits.record("u", TransactionType.GRANT, 20, "grant")
    credits.charge("u", 5, "n1")  # the reservation
    assert settle_usage(meta, "n1", block, data, 1_200) == -3  # 2 credits used: 3 back
    assert settle_usage(meta, "n1", block, data, 1_200) == -3 and credits.get_balance("u") == 18  # once only
    refund = credits.get_transaction("u", "n1#settle")
    assert refund.transaction_type is TransactionType.REFUND and refund.amount == 3
    # An endpoint that reports more than the bound: the excess is charged...
    credits.charge("u", 2, "n2")
    assert settle_usage(meta, "n2", block, data, 7_500) == 6
    extra = credits.get_transaction("u", "n2#settle")
    assert extra.amount == -6 and extra.metadata["uncharged"] == 0 and extra.metadata["reserved"] == 2
    # ...up to what the balance holds, the rest recorded as uncharged; never below zero.
    credits.charge("u", 1, "n3")
    assert credits.get_balance("u") == 9
    assert settle_usage(meta, "n3", block, data, 20_000) == 9
    short = credits.get_transaction("u", "n3#settle")
    assert short.amount == -9 and short.metadata["uncharged"] == 10
    assert credits.get_balance("u") == 0 == sum(tx.amount for tx in _ledger("u"))


def test_a_run_is_capped_to_its_token_limit(model_server):
    model_server.reset()
    block = AIStructuredResponseGeneratorBlock()
    data = {
        "prompt": "Describe Paris",
        "expected_format": {"city": "The city"},
        "model": "wrong-keys-always",
        "retry": 5,
    }
    limit = 400  # far below what five attempts would use
    usage = UsageRecorder()
    outputs = asyncio.run(
        _collect(block, data, llm_base_url=model_server.url, llm_api_key="k", record_usage=usage, token_limit=limit)
    )
    assert "prepaid token limit" in dict(outputs)["error"]
    assert 0 < usage.total_tokens <= limit and 1 <= usage.calls < 5
    assert all(r["max_tokens"] <= limit for r in model_server.requests)


async def _collect(block, data, **kwargs):
    return [(name, value) async for name, value in block.execute(data, **kwargs)]


def test_a_failed_run_settles_its_whole_reservation_back(ai_api, model_server):
    model_server.fail_next(3)  # every attempt of the block's retry=3 gets an HTTP 500
    status, outputs = ai_api.request("POST", PATH, user="alice", json_body=PROMPT)
    assert status == 200 and "Error calling LLM" in outputs["error"][0]
    assert len(model_server.requests) == 3  # the failed attempts are not recorded as usage
    [reserved] = [tx for tx in _ledger() if tx.transaction_type is TransactionType.USAGE]
    refund = credits.get_transaction("alice", f"{reserved.transaction_key}#settle")
    assert refund.amount == -reserved.amount == _reservation(PROMPT) and refund.metadata["tokens"] == 0
    assert credits.get_balance("alice") == 1000


def test_a_retried_block_lambda_invocation_neither_reserves_nor_runs_again(ai_api, model_server):
    from stratus.executions import block_runner

    graph = json.loads((EXAMPLES / "ai_blog_writer.json").read_text())
    _, created = ai_api.request("POST", "/api/graphs", user="alice", json_body={"graph": graph})
    _, execution = ai_api.request(
        "POST",
        f"/api/graphs/{created['id']}/execute/{created['version']}",
        user="alice",
        json_body={"inputs": {"topic": "retries"}},
    )
    assert _wait(execution["id"])["status"] == "SUCCEEDED"
    _, result = ai_api.request("GET", f"/api/graphs/{created['id']}/executions/{execution['id']}", user="alice")
    ledger, calls = _ledger(), len(model_server.requests)
    for node in result["node_executions"]:
        if get_block(node["block_id"]).group == "ai":
            assert block_runner.run(execution["id"], node["node_exec_id"])["status"] == "COMPLETED"
    assert _ledger() == ledger and len(model_server.requests) == calls
    assert credits.get_balance("alice") == 1000 - result["stats"]["cost"] == sum(tx.amount for tx in ledger)


def test_concurrent_graph_runs_on_a_small_balance_never_run_an_llm_node_unpaid(ai_api, model_server):
    graph = {
        "name": "one LLM node",
        "nodes": [
            {
                "id": "llm",
                "block_id": TEXT_GENERATOR,
                "input_default": {"prompt": "Hi there", "model": "gpt-4o-mini", "max_tokens": 700},
            }
        ],
        "links": [],
    }
    _, created = ai_api.request("POST", "/api/graphs", user="alice", json_body={"graph": graph})
    runs, balance = 12, 14  # each node reserves 3 credits and uses 1
    _set_balance("alice", balance)
    path = f"/api/graphs/{created['id']}/execute/{created['version']}"
    with ThreadPoolExecutor(max_workers=runs) as pool:
        started = list(
            pool.map(lambda _: ai_api.request("POST", path, user="alice", json_body={"inputs": {}}), range(runs))
        )
    ids = [body["id"] for status, body in started if status == 200]
    assert len(ids) == runs, started  # the balance was > 0 at every launch
    results = []
    for graph_exec_id in ids:
        assert _wait(graph_exec_id, timeout=60)["status"] == "SUCCEEDED"
        results.append(
            ai_api.request("GET", f"/api/graphs/{created['id']}/executions/{graph_exec_id}", user="alice")[1]
        )
    completed = [r for r in results if r["status"] == "COMPLETED"]
    failed = [r for r in results if r["status"] == "FAILED"]
    assert len(completed) + len(failed) == runs and completed
    assert all("Insufficient balance" in r["stats"]["error"] for r in failed)
    assert len(model_server.requests) == len(completed)  # only paid nodes called the model
    assert all(r["stats"]["cost"] == 1 for r in completed) and all(r["stats"]["cost"] == 0 for r in failed)
    ledger = _ledger()
    assert not [tx for tx in ledger if (tx.metadata or {}).get("uncharged")]
    assert credits.get_balance("alice") == balance - len(completed) >= 0
    assert sum(tx.amount for tx in ledger) == credits.get_balance("alice")


def test_a_stop_before_the_block_lambda_starts_refunds_the_reservation_a_started_run_keeps_it(
    api, model_server, monkeypatch
):
    from stratus.db import executions_table
    from stratus.executions import block_runner, launcher, orchestrator

    model_server.reset()
    monkeypatch.setenv("GRAPH_EXECUTION_STATE_MACHINE_ARN", "arn:aws:states:us-east-1:123456789012:stateMachine:x")
    monkeypatch.setattr(launcher, "_start_state_machine", lambda graph_exec_id: None)  # steps driven here
    monkeypatch.setenv("OPENAI_BASE_URL", model_server.url)
    monkeypatch.setenv("OPENAI_API_KEY", "platform-test-key")
    api.request("POST", "/api/auth/user", user="alice")
    graph = {
        "name": "one LLM node",
        "nodes": [
            {
                "id": "llm",
                "block_id": TEXT_GENERATOR,
                "input_default": {"prompt": "Hi there", "model": "gpt-4o-mini", "max_tokens": 700},
            }
        ],
        "links": [],
    }
    _, created = api.request("POST", "/api/graphs", user="alice", json_body={"graph": graph})

    def dispatched() -> tuple[str, str]:
        _, execution = api.request(
            "POST", f"/api/graphs/{created['id']}/execute/1", user="alice", json_body={"inputs": {}}
        )
        [item] = orchestrator.start_step(execution["id"], lambda: 900_000)["batch"]  # reserved, for the Map
        return execution["id"], item["node_exec_id"]

    graph_exec_id, node_exec_id = dispatched()
    assert credits.get_balance("alice") == 1000 - 3
    assert api.request("POST", f"/api/graphs/{created['id']}/executions/{graph_exec_id}/stop", user="alice")[0] == 200
    orchestrator.finalize_step(graph_exec_id)  # the stopped Map never invoked the block Lambda
    assert credits.get_transaction("alice", f"{node_exec_id}#settle").amount == 3
    assert credits.get_balance("alice") == 1000
    assert block_runner.run(graph_exec_id, node_exec_id)["status"] != "COMPLETED"  # a late invocation: no run
    assert model_server.requests == []

    # A Lambda that started (then died mid-run) keeps the reservation: its usage is unknown.
    graph_exec_id, node_exec_id = dispatched()
    assert executions_table.claim_run(graph_exec_id, node_exec_id, "2026-01-01T00:00:00+00:00")
    api.request("POST", f"/api/graphs/{created['id']}/executions/{graph_exec_id}/stop", user="alice")
    orchestrator.finalize_step(graph_exec_id)
    assert credits.get_transaction("alice", f"{node_exec_id}#settle") is None
    assert credits.get_balance("alice") == 1000 - 3 == sum(tx.amount for tx in _ledger())
