"""How an execution's node runs are planned, by graph kind.

* AutoGPT graphs (no `kind`): dataflow over links (stratus.engine.scheduler).
* MAG graphs (`kind: "mag"`): levels, handoffs and subgraphs (stratus.engine.mag). Each planned
  run is a node execution with `node_id` = the MAG node's (qualified) name, the agent node block
  and the rendered run as its input; it runs in the ai block Lambda through the state machine's
  Map, like any other Lambda-run node. The next batch is planned when the graph is idle, from
  the finished node executions alone (replayed), so a retried step plans the same batch.

The launcher and the orchestrator call the same five operations on either kind.
"""

from __future__ import annotations

from typing import Any, Protocol

from stratus.engine import scheduler
from stratus.engine.scheduler import EngineState
from stratus.executions.models import NodeExecution
from stratus.graphs.models import MAG, Graph, kind_of


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


class Dataflow:
    """AutoGPT's semantics, unchanged."""

    def validate(self, graph: Graph, inputs: dict[str, Any]) -> None:
        from stratus.executions.launcher import validate_for_run

        validate_for_run(graph, inputs)

    def start(self, state: EngineState, inputs: dict[str, Any]) -> None:
        scheduler.start(state, inputs)

    def run_input(self, state: EngineState, node_exec: NodeExecution) -> dict[str, Any]:
        return scheduler.run_input(state, node_exec)

    def plan_next(self, state: EngineState) -> bool:
        return False  # routing queues nodes as outputs arrive

    def outputs(self, state: EngineState) -> dict[str, list[Any]]:
        return scheduler.graph_outputs(state)

    def failure(self, state: EngineState) -> str | None:
        return None


DATAFLOW = Dataflow()


def for_graph(graph: Any, inputs: dict[str, Any]) -> Flow:
    """The flow of a graph model (the launcher's GraphModel / MagGraphModel)."""
    if getattr(graph, "kind", None) == MAG:
        from stratus.executions.mag_flow import mag_flow  # only MAG runs pay for its imports

        return mag_flow(graph.mag_config, graph.mag_subgraphs, inputs)
    return DATAFLOW


def for_execution(meta: dict[str, Any]) -> Flow:
    """The flow of an execution (its META item): the stored graph version says which."""
    from stratus.executions.store import version_item

    item = version_item(meta["graph_id"], int(meta["graph_version"]))
    if kind_of(item) == MAG:
        from stratus.executions.mag_flow import mag_flow
        from stratus.executions.values import resolve_map

        return mag_flow(item["mag_config"], item.get("mag_subgraphs"), resolve_map(meta.get("inputs") or {}))
    return DATAFLOW
