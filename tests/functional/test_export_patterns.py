"""Patterns found running AutoGPT's shipped agent exports (localcloud.run_exports), each on a
small graph of our own, driven through the orchestrator's steps on moto."""

from __future__ import annotations

from stratus.db import executions_table as repository
from stratus.executions import launcher
from tests.functional.test_orchestrator import OUT, drive, upload, user  # noqa: F401 (fixture)

FIND = "0e50422c-6dee-4145-83d6-3a5a392f65de"


def test_a_static_link_carrying_none_survives_the_steps(user):  # noqa: F811
    # A dictionary value that is None, sent over a static link: the stored static value has no
    # `value` attribute (DynamoDB items hold no nulls at the top level), and the next load of
    # the execution (finalize) must read it back as None.
    graph = {
        "name": "static none",
        "nodes": [
            {"id": "find", "block_id": FIND, "input_default": {"input": {"k": None}, "key": "k"}},
            {"id": "out", "block_id": OUT, "input_default": {"name": "found"}},
        ],
        "links": [
            {"source_id": "find", "source_name": "output", "sink_id": "out", "sink_name": "value", "is_static": True}
        ],
    }
    execution = launcher.start_execution(user, upload(user, graph), 1, {})
    drive(execution.id)
    meta = repository.get_meta(execution.id)
    assert meta["status"] == "COMPLETED", meta
    assert meta["outputs"] == {"found": [None]}
