"""MAG progress on the WebSocket: node_start / node_end for agent node runs, from the stream."""

from __future__ import annotations

from stratus.db.executions_table import executions_table, node_key
from stratus.mag.models import MAG_AGENT_BLOCK_ID
from tests.functional.test_realtime import EXEC, _connect, _node, _notify, _send, stream  # noqa: F401


def test_mag_node_runs_send_node_start_and_node_end(api, management, stream):  # noqa: F811
    _connect(api, management, "watch", "alice")
    _send(api, "watch", "subscribe_graph_execution", {"graph_exec_id": EXEC})
    _connect(api, management, "other", "bob")
    _send(api, "other", "subscribe_graph_execution", {"graph_exec_id": EXEC})
    management.posted.clear()

    table = executions_table()
    run_input = {"node_name": "sub/critic", "level": 1, "user_prompt": "Review"}
    table.put(_node("QUEUED", block_id=MAG_AGENT_BLOCK_ID, node_id="sub/critic", input_data=run_input))
    table.update(node_key(EXEC, "n1"), "SET #s = :s", names={"#s": "status"}, values={":s": "RUNNING"})
    table.update(
        node_key(EXEC, "n1"),
        "SET #s = :s, output_data = :o",
        names={"#s": "status"},
        values={":s": "COMPLETED", ":o": {"output": ["fine"], "handoff": ["writer"]}},
    )
    table.put(_node("RUNNING", node_exec_id="n2", SK="NODE#n2"))  # an AutoGPT block: no MAG events
    _notify(api, stream.records())

    messages = management.messages("watch")
    assert [(m["method"], m["data"].get("status")) for m in messages] == [
        ("node_execution_event", "QUEUED"),
        ("node_execution_event", "RUNNING"),
        ("node_start", None),
        ("node_execution_event", "COMPLETED"),
        ("node_end", "COMPLETED"),
        ("node_execution_event", "RUNNING"),
    ]
    assert messages[2] == {
        "method": "node_start",
        "channel": f"alice|graph_exec#{EXEC}",
        "data": {"graph_exec_id": EXEC, "node_exec_id": "n1", "node_name": "sub/critic", "level": 1},
    }
    assert messages[4]["data"] == {
        "graph_exec_id": EXEC,
        "node_exec_id": "n1",
        "node_name": "sub/critic",
        "status": "COMPLETED",
    }
    assert management.messages("other") == []  # bob's channel is his own executions'
