"""AutoGPT graph JSON pieces for the tests' own small graphs (the API's request shape)."""

from __future__ import annotations

from typing import Any


def node_dict(node_id: str, block_id: str, **input_default: Any) -> dict[str, Any]:
    """A node of `block_id` with these fixed inputs."""
    return {"id": node_id, "block_id": block_id, "input_default": input_default}


def link_dict(source: str, source_name: str, sink: str, sink_name: str) -> dict[str, Any]:
    """A link from a source node's output pin to a sink node's input pin."""
    return {"source_id": source, "source_name": source_name, "sink_id": sink, "sink_name": sink_name}


AGENT_EXECUTOR = "e189baac-8c20-45a1-94a7-55177ea42565"


def agent_node_dict(child: dict[str, Any], node_id: str = "agent", **input_default: Any) -> dict[str, Any]:
    """An AgentExecutor node running the stored graph `child` (with its schema copies, as the
    builder writes them)."""
    return node_dict(
        node_id,
        AGENT_EXECUTOR,
        graph_id=child["id"],
        graph_version=child["version"],
        user_id="",
        inputs={},
        input_schema=child["input_schema"],
        output_schema=child["output_schema"],
        **input_default,
    )
