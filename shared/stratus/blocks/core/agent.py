"""AgentExecutor: run another graph as a child execution and yield its outputs by name.

The block itself only describes the node (AutoGPT's pins). Inside a graph execution the
block Lambda starts the child (stratus.executions.subagents) and returns at once; the state
machine waits on a task token that the child's finalizer completes after writing the
child's outputs onto this node. Nothing runs, and nothing is billed, while it waits.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from stratus.blocks.sdk import Block, BlockCategory, BlockOutput, BlockSchema, BlockSchemaOutput, BlockType

AGENT_EXECUTOR_BLOCK_ID = "e189baac-8c20-45a1-94a7-55177ea42565"


class AgentExecutorBlock(Block):
    id = AGENT_EXECUTOR_BLOCK_ID
    description = "Executes an existing agent inside your agent"
    categories = {BlockCategory.AGENT}
    block_type = BlockType.AGENT
    runs_inline = False
    waits_for_callback = True

    class Input(BlockSchema):
        # AutoGPT fills user_id when the graph is saved; Stratus always runs the child as the
        # parent execution's user, whatever this says.
        user_id: str = Field(default="", description="User ID")
        graph_id: str = Field(description="Graph ID")
        graph_version: int = Field(description="Graph Version")
        agent_name: str | None = Field(default=None, description="Name to display in the Builder UI")
        inputs: dict[str, Any] = Field(default_factory=dict, description="Input data for the graph")
        input_schema: dict[str, Any] = Field(default_factory=dict, description="Input schema for the graph")
        output_schema: dict[str, Any] = Field(default_factory=dict, description="Output schema for the graph")
        nodes_input_masks: dict[str, Any] | None = Field(default=None, json_schema_extra={"hidden": True})

    class Output(BlockSchemaOutput):
        pass  # one pin per output of the child graph (its output_schema)

    input_schema, output_schema = Input, Output
    test_input = {"graph_id": "00000000-0000-4000-8000-000000000000", "graph_version": 1}
    test_output = [("error", "The Agent Executor runs only inside a graph execution.")]

    def node_pins(self, input_default: dict[str, Any]) -> tuple[set[str], set[str]]:
        """Linked inputs are the child's inputs, outputs the child's outputs (AutoGPT's pins)."""
        return _properties(input_default.get("input_schema")), _properties(input_default.get("output_schema"))

    def validate_input(self, data: dict[str, Any]) -> BlockSchema:
        """Values that arrived on the child's input pins join `inputs` (linked values win)."""
        fields = self.input_schema.field_names()
        linked = {name: value for name, value in data.items() if name not in fields}
        merged = {name: value for name, value in data.items() if name in fields}
        merged["inputs"] = {**(data.get("inputs") or {}), **linked}
        return super().validate_input(merged)

    async def run(self, input_data: Any, **kwargs: Any) -> BlockOutput:
        # A child execution needs a parent node to report to: the block Lambda starts it.
        yield "error", "The Agent Executor runs only inside a graph execution."


def _properties(schema: Any) -> set[str]:
    properties = schema.get("properties") if isinstance(schema, dict) else None
    return set(properties) if isinstance(properties, dict) else set()
