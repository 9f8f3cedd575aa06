"""How an execution's node runs are planned, by graph kind.

* AutoGPT graphs (no `kind`): dataflow over links (stratus.engine.dataflow).
* MAG graphs (`kind: "mag"`): levels, handoffs and subgraphs (stratus.engine.mag). Each planned
  run is a node execution with `node_id` = the MAG node's (qualified) name, the agent node block
  and the rendered run as its input; it runs in the ai block Lambda through the state machine's
  Map, like any other Lambda-run node. The next batch is planned when the graph is idle, from
  the finished node executions alone (replayed), so a retried step plans the same batch.

The launcher (and the schedules, which check a run before it is due) and the orchestrator call
the same operations on either kind: a graph is checked for a run in one place, `validate`.
"""

from __future__ import annotations

from typing import Any, Protocol

from stratus.blocks.registry import get_block
from stratus.blocks.sdk import BlockType
from stratus.engine import dataflow
from stratus.engine.dataflow import EngineState
from stratus.engine.models import NodeExecution
from stratus.executions.graph_versions import version_item
from stratus.executions.models import ExecutionMeta
from stratus.executions.values import resolve_map
from stratus.graphs.models import MAG, Graph, kind_of
from stratus.graphs.validation import GraphValidationError, validate_graph


class Flow(Protocol):
    def validate(self, graph: Graph, inputs: dict[str, Any]) -> None:
        """Raise a 4xx error when the graph cannot run on these inputs."""

    def start(self, state: EngineState, inputs: dict[str, Any]) -> None:
        """Create the first node executions."""

    def run_input(self, state: EngineState, node_exec: NodeExecution) -> dict[str, Any]:
        """The block input of a queued node execution."""

    def plan_next(self, state: EngineState) -> bool:
        """Queue more node executions once nothing is queued; False when there are none."""

    def outputs(self, state: EngineState) -> dict[str, list[Any]]:
        """The execution's outputs at finalize."""

    def failure(self, state: EngineState) -> str | None:
        """Why the execution failed as a whole, if it did."""


def missing_inputs(graph: Graph, inputs: dict[str, Any]) -> dict[str, dict[str, str]]:
    """node_errors for required graph inputs (input nodes without a default) not given."""
    from stratus.graphs.schemas import input_node_value

    errors: dict[str, dict[str, str]] = {}
    for node in graph.nodes:
        block = get_block(node.block_id)
        if block is None or block.block_type is not BlockType.INPUT:
            continue
        name = node.input_default.get("name")
        if name and inputs.get(name) is None and input_node_value(block, node.input_default) is None:
            errors[node.id] = {"value": f"Missing required graph input {name!r}."}
    return errors


def validate_dataflow(graph: Graph, inputs: dict[str, Any]) -> None:
    """AutoGPT's run check: a valid graph, every required input given (400 with node_errors)."""
    node_errors: dict[str, dict[str, str]] = {}
    try:
        validate_graph(graph, for_run=True)
    except GraphValidationError as exc:
        node_errors = exc.node_errors
    for node_id, pins in missing_inputs(graph, inputs).items():
        node_errors.setdefault(node_id, {}).update(pins)
    if node_errors:
        count = sum(len(p) for p in node_errors.values())
        raise GraphValidationError(f"Graph cannot run: {count} problem(s).", node_errors)


class Dataflow:
    """AutoGPT's semantics, unchanged."""

    def validate(self, graph: Graph, inputs: dict[str, Any]) -> None:
        validate_dataflow(graph, inputs)

    def start(self, state: EngineState, inputs: dict[str, Any]) -> None:
        dataflow.start(state, inputs)

    def run_input(self, state: EngineState, node_exec: NodeExecution) -> dict[str, Any]:
        return dataflow.run_input(state, node_exec)

    def plan_next(self, state: EngineState) -> bool:
        return False  # routing queues nodes as outputs arrive

    def outputs(self, state: EngineState) -> dict[str, list[Any]]:
        return dataflow.graph_outputs(state)

    def failure(self, state: EngineState) -> str | None:
        return None


DATAFLOW = Dataflow()


def for_graph(graph: Any, inputs: dict[str, Any]) -> Flow:
    """The flow of a graph model (the graphs service's GraphModel / MagGraphModel)."""
    if getattr(graph, "kind", None) == MAG:
        from stratus.executions.mag_flow import mag_flow  # only MAG runs pay for its imports

        return mag_flow(graph.mag_config, graph.mag_subgraphs, inputs)
    return DATAFLOW


def validate(model: Any, graph: Graph, inputs: dict[str, Any]) -> Flow:
    """Check that a graph model (as `graph`) can run on these (coerced) inputs, by its kind's
    rules; a 4xx error when it cannot. Returns its flow."""
    flow = for_graph(model, inputs)
    flow.validate(graph, inputs)
    return flow


def for_execution(meta: ExecutionMeta) -> Flow:
    """The flow of an execution: the stored graph version says which."""
    item = version_item(meta.graph_id, meta.graph_version)
    if kind_of(item) == MAG:
        from stratus.executions.mag_flow import mag_flow

        return mag_flow(item["mag_config"], item.get("mag_subgraphs"), resolve_map(meta.inputs))
    return DATAFLOW
