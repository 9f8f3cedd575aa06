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

from functools import lru_cache
from typing import Any, Protocol

from stratus.engine import mag, scheduler
from stratus.engine.scheduler import EngineState
from stratus.errors import BadRequest
from stratus.executions.models import ExecutionStatus as S, NodeExecution
from stratus.graphs.models import Graph
from stratus.mag.models import MAG_AGENT_BLOCK_ID, GraphConfig

MAG_KIND = "mag"
START_INPUT = "start"


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


class MagFlow:
    def __init__(self, config: GraphConfig, subgraphs: dict[str, GraphConfig], start_text: str):
        self.config, self.subgraphs, self.start_text = config, subgraphs, start_text

    def validate(self, graph: Graph, inputs: dict[str, Any]) -> None:
        if not isinstance(inputs.get(START_INPUT), str):
            raise BadRequest(f"A MAG graph runs on inputs {{\"{START_INPUT}\": \"<text>\"}}: "
                             f"'{START_INPUT}' is missing or not a string.")

    def start(self, state: EngineState, inputs: dict[str, Any]) -> None:
        self.plan_next(state)

    def run_input(self, state: EngineState, node_exec: NodeExecution) -> dict[str, Any]:
        return dict(node_exec.input_data)

    def plan(self, state: EngineState) -> mag.Plan:
        return mag.plan(self.config, self.subgraphs, self.start_text, history(state))

    def plan_next(self, state: EngineState) -> bool:
        if not state.is_finished():
            return False
        step = self.plan(state)
        for run in step.batch:
            now = state.now()
            node_exec = NodeExecution(
                node_exec_id=state.new_id(), graph_exec_id=state.graph_exec_id, node_id=run.name,
                block_id=MAG_AGENT_BLOCK_ID, status=S.QUEUED, seq=len(state.node_execs),
                input_data=run.run_input(), add_time=now, queue_time=now)
            state.add(node_exec)
            state.changed.add(node_exec.node_exec_id)
        return bool(step.batch)

    def outputs(self, state: EngineState) -> dict[str, list[Any]]:
        step = self.plan(state)
        outputs: dict[str, list[Any]] = {"execution_chain": [step.execution_chain]}
        if step.done and step.error is None:
            outputs["final_result"] = [step.final_result or ""]
        return outputs

    def failure(self, state: EngineState) -> str | None:
        step = self.plan(state)
        return step.error if step.done else None


def history(state: EngineState) -> list[mag.NodeRun]:
    """The node executions as the planner's history, in the order they were planned."""
    runs = []
    for node_exec in sorted(state.node_execs.values(), key=lambda e: e.seq):
        data = node_exec.output_data
        runs.append(mag.NodeRun(
            name=node_exec.node_id, output=_last(data.get("output"), ""), handoff=_last(data.get("handoff"), None),
            status=node_exec.status.value, error=_last(data.get("error"), None)))
    return runs


def _last(values: list[Any] | None, default: Any) -> Any:
    return values[-1] if values else default


def mag_flow(mag_config: dict[str, Any], mag_subgraphs: dict[str, Any] | None, inputs: dict[str, Any]) -> MagFlow:
    config, subgraphs = _parsed(_frozen(mag_config), _frozen(mag_subgraphs or {}))
    return MagFlow(config, subgraphs, str(inputs.get(START_INPUT) or ""))


def for_graph(graph: Any, inputs: dict[str, Any]) -> Flow:
    """The flow of a graph model (the launcher's GraphModel / MagGraphModel)."""
    if getattr(graph, "kind", None) == MAG_KIND:
        return mag_flow(graph.mag_config, graph.mag_subgraphs, inputs)
    return DATAFLOW


def for_execution(meta: dict[str, Any]) -> Flow:
    """The flow of an execution (its META item): the stored graph version says which."""
    from stratus.executions.store import version_item

    item = version_item(meta["graph_id"], int(meta["graph_version"]))
    if item.get("kind") == MAG_KIND:
        return mag_flow(item["mag_config"], item.get("mag_subgraphs"), meta.get("inputs") or {})
    return DATAFLOW


# Graph versions are immutable: their parsed MAG configs are cached per container.
def _frozen(value: Any) -> str:
    import json

    return json.dumps(value, sort_keys=True, default=str)


@lru_cache(maxsize=32)
def _parsed(config_json: str, subgraphs_json: str) -> tuple[GraphConfig, dict[str, GraphConfig]]:
    import json

    subgraphs = {name: GraphConfig.model_validate(body) for name, body in json.loads(subgraphs_json).items()}
    return GraphConfig.model_validate(json.loads(config_json)), subgraphs

