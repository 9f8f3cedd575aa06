"""The ExecutionsTable repository on moto: round trips, and the item layout of docs/data-model.md."""

from __future__ import annotations

import pytest

from stratus.db import executions_table as table
from stratus.db.dynamo import TransactionCancelled

FINAL = ("COMPLETED", "FAILED", "TERMINATED")
PENDING = ("INCOMPLETE", "QUEUED", "RUNNING")


def _meta(graph_exec_id: str = "e1", user_id: str = "u1", **fields) -> dict:
    return {
        "kind": "graph",
        "id": graph_exec_id,
        "user_id": user_id,
        "graph_id": "g1",
        "graph_version": 1,
        "status": "QUEUED",
        "inputs": {},
        "created_at": f"2026-01-01T00:00:0{graph_exec_id[-1]}+00:00",
        **fields,
    }


def _node(node_exec_id: str, status: str = "QUEUED", graph_exec_id: str = "e1", **fields) -> dict:
    return {
        "kind": "node",
        "graph_exec_id": graph_exec_id,
        "node_exec_id": node_exec_id,
        "node_id": "n",
        "block_id": "b",
        "status": status,
        **fields,
    }


def test_an_execution_is_created_once_with_its_first_nodes_and_read_back_as_one_partition(aws):
    nodes = [_node(f"n{i:03d}", seq=i) for i in range(150)]  # more than one transaction
    table.create_execution(_meta(), nodes)
    meta = table.get_meta("e1")
    assert (meta["PK"], meta["SK"], meta["GSI1PK"], meta["GSI2PK"]) == (
        "GEXEC#e1",
        "META",
        "USER#u1",
        "GRAPH#g1#USER#u1",
    )
    assert meta["GSI1SK"] == meta["GSI2SK"] == meta["created_at"]
    with pytest.raises(TransactionCancelled):
        table.create_execution(_meta(), nodes[:1])
    assert table.get_node("e1", "n007")["SK"] == "NODE#n007"

    assert table.write_changes("e1", [_node("n000", "COMPLETED")], [{"node_id": "n", "pin": "p", "value": 1}]) == 2
    found = table.partition("e1")
    assert found.meta["id"] == "e1" and len(found.nodes) == 150
    assert found.statics == [{"PK": "GEXEC#e1", "SK": "STATIC#n#p", "node_id": "n", "pin": "p", "value": 1}]
    only_nodes = table.partition("e1", nodes_only=True)
    assert only_nodes.meta is None and only_nodes.statics == [] and len(only_nodes.nodes) == 150
    assert table.partition("nothing") == table.Partition()


def test_meta_updates_conditional_on_status_and_the_task_token(aws):
    table.create_execution(_meta(), [])
    assert table.set_meta_if_status("e1", "QUEUED", {"status": "RUNNING", "started_at": "t1"})
    assert not table.set_meta_if_status("e1", "QUEUED", {"status": "RUNNING", "started_at": "t2"})
    assert table.get_meta("e1")["started_at"] == "t1"
    written = table.set_meta("e1", {"status": "FAILED", "error": "out of credits"})
    assert (written["status"], written["error"], written["started_at"]) == ("FAILED", "out of credits", "t1")
    assert table.set_task_token("e1", "token-1")["task_token"] == "token-1"


def test_a_node_result_is_recorded_once_while_running(aws):
    table.create_execution(_meta(), [_node("n1", "RUNNING")])
    assert table.record_node_result("e1", "n1", "COMPLETED", {"out": [1]}, {"llm_call_count": 1}, "t1")
    assert not table.record_node_result("e1", "n1", "FAILED", {"error": ["late"]}, None, "t2")
    node = table.get_node("e1", "n1")
    assert (node["status"], node["output_data"], node["stats"], node["end_time"], node["routed"]) == (
        "COMPLETED",
        {"out": [1]},
        {"llm_call_count": 1},
        "t1",
        False,
    )
    table.set_child("e1", "n1", "child-1")
    assert table.get_node("e1", "n1")["child_graph_exec_id"] == "child-1"


def test_terminate_stops_the_owners_unfinished_execution_and_its_pending_nodes(aws):
    table.create_execution(_meta(status="RUNNING"), [_node("q"), _node("r", "RUNNING"), _node("c", "COMPLETED")])
    assert table.terminate("e1", "u2", None, PENDING, "TERMINATED", "t1") is None  # not the owner's
    assert table.terminate("e1", "u1", "other-graph", PENDING, "TERMINATED", "t1") is None
    stopped = table.terminate("e1", "u1", "g1", PENDING, "TERMINATED", "t1")
    assert (stopped["status"], stopped["ended_at"]) == ("TERMINATED", "t1") and "stop_requested" not in stopped
    assert table.terminate("e1", "u1", None, PENDING, "TERMINATED", "t2") is None  # already final
    table.terminate_nodes("e1", PENDING, "TERMINATED", "t1")
    statuses = {n["node_exec_id"]: n["status"] for n in table.partition("e1").nodes}
    assert statuses == {"q": "TERMINATED", "r": "TERMINATED", "c": "COMPLETED"}


def test_run_claims_decide_between_the_block_lambda_and_the_finalizer(aws):
    assert table.claim_run("e1", "n1", "t1") and table.claim_run("e1", "n1", "t2")  # a retry finds its own mark
    assert not table.release_run("e1", "n1", "t3")
    assert table.release_run("e1", "n2", "t1") and not table.claim_run("e1", "n2", "t2")
    assert table.executions_table().get({"PK": "GEXEC#e1", "SK": "RUN#n2"})["state"] == table.RUN_RELEASED


def test_shares_and_delete(aws):
    table.create_execution(_meta(status="COMPLETED"), [_node("n1", "COMPLETED")])
    table.create_share("tok", "e1", "u1", "t1")
    assert table.get_share("tok")["graph_exec_id"] == "e1" and table.get_meta("e1")["share_token"] == "tok"
    with pytest.raises(TransactionCancelled):  # already shared
        table.create_share("tok2", "e1", "u1", "t1")
    table.remove_share("tok", "e1")
    assert table.get_share("tok") is None and "share_token" not in table.get_meta("e1")
    table.create_share("tok3", "e1", "u1", "t1")
    with pytest.raises(TransactionCancelled):  # not the user's
        table.delete_execution("e1", "u2", FINAL, "tok3")
    table.delete_execution("e1", "u1", FINAL, "tok3")
    assert table.partition("e1") == table.Partition() and table.get_share("tok3") is None


def test_user_and_graph_indexes_newest_first_with_cursors(aws):
    for i in range(1, 4):
        table.create_execution(_meta(f"e{i}"), [])
    index = table.by_user("u1")
    assert [i["id"] for i in index.newest_first(None, 10)] == ["e3", "e2", "e1"]
    first = next(index.newest_first(None, 1))
    cursor = index.cursor(first)
    assert [i["id"] for i in index.newest_first(index.start_key(cursor), 10)] == ["e2", "e1"]
    with pytest.raises(ValueError):  # a cursor of another partition
        table.by_user("u2").start_key(cursor)
    with pytest.raises(ValueError):
        index.start_key("not a cursor")
    assert [i["id"] for i in table.by_graph("u1", "g1").newest_first(None, 2)] == ["e3", "e2"]
    assert list(table.by_graph("u1", "g2").newest_first(None, 2)) == []


def test_idempotency_items(aws):
    claim = {"status": "IN_PROGRESS", "claim_id": "c1", "in_progress_until": 100, "expires_at": 1000}
    assert table.claim_idempotency_key("u1", "key", claim, 50, "IN_PROGRESS")
    assert not table.claim_idempotency_key("u1", "key", {**claim, "claim_id": "c2"}, 50, "IN_PROGRESS")
    assert table.claim_idempotency_key("u1", "key", {**claim, "claim_id": "c3"}, 150, "IN_PROGRESS")  # a dead claim
    stored = table.get_idempotency_item("u1", "key")
    assert stored["PK"].startswith("IDEM#u1#") and stored["SK"] == "IDEM" and stored["claim_id"] == "c3"
    assert not table.complete_idempotency_key("u1", "key", "c1", "COMPLETED", b"x")  # not our claim any more
    assert table.complete_idempotency_key("u1", "key", "c3", "COMPLETED", b"packed")
    done = table.get_idempotency_item("u1", "key")
    assert done["status"] == "COMPLETED" and bytes(getattr(done["result"], "value", done["result"])) == b"packed"
    table.release_idempotency_key("u1", "key", "c1")  # not ours: kept
    assert table.get_idempotency_item("u1", "key") is not None
    table.release_idempotency_key("u1", "key", "c3")
    assert table.get_idempotency_item("u1", "key") is None

    bound = {"status": "COMPLETED", "graph_exec_id": "e1", "expires_at": 1000}
    assert table.bind_idempotency_key("u1", "graph-key", bound, 50)
    assert not table.bind_idempotency_key("u1", "graph-key", {**bound, "graph_exec_id": "e2"}, 50)
    assert table.bind_idempotency_key("u1", "graph-key", {**bound, "graph_exec_id": "e3"}, 2000)  # expired
    assert table.get_idempotency_item("u1", "graph-key")["graph_exec_id"] == "e3"
