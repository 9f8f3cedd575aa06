"""The MAG flow: a MAG graph's node runs planned by stratus.engine.mag (see flows.py).

Imported only when a MAG graph runs, so AutoGPT executions never load the planner or the MAG
models.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from stratus.engine import mag
from stratus.engine.dataflow import EngineState
from stratus.engine.models import ExecutionStatus as S
from stratus.engine.models import NodeExecution
from stratus.errors import BadRequest
from stratus.graphs.models import Graph
from stratus.mag.models import MAG_AGENT_BLOCK_ID, GraphConfig

START_INPUT = "start"


class MagFlow:
    def __init__(self, config: GraphConfig, subgraphs: dict[str, GraphConfig], start_text: str):
        self.config, self.subgraphs, self.start_text = config, subgraphs, start_text

    def validate(self, graph: Graph, inputs: dict[str, Any]) -> None:
        if not isinstance(inputs.get(START_INPUT), str):
            raise BadRequest(
                f'A MAG graph runs on inputs {{"{START_INPUT}": "<text>"}}: '
                f"'{START_INPUT}' is missing or not a string."
            )

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
                node_exec_id=state.new_id(),
                graph_exec_id=state.graph_exec_id,
                node_id=run.name,
                block_id=MAG_AGENT_BLOCK_ID,
                status=S.QUEUED,
                seq=len(state.node_execs),
                input_data=run.run_input(),
                add_time=now,
                queue_time=now,
            )
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
        runs.append(
            mag.NodeRun(
                name=node_exec.node_id,
                output=_last(data.get("output"), ""),
                handoff=_last(data.get("handoff"), None),
                status=node_exec.status.value,
                error=_last(data.get("error"), None),
            )
        )
    return runs


def _last(values: list[Any] | None, default: Any) -> Any:
    return values[-1] if values else default


def mag_flow(mag_config: dict[str, Any], mag_subgraphs: dict[str, Any] | None, inputs: dict[str, Any]) -> MagFlow:
    config, subgraphs = _parsed(_frozen(mag_config), _frozen(mag_subgraphs or {}))
    return MagFlow(config, subgraphs, str(inputs.get(START_INPUT) or ""))


# Graph versions are immutable: their parsed MAG configs are cached per container.
def _frozen(value: Any) -> str:
    import json

    return json.dumps(value, sort_keys=True, default=str)


@lru_cache(maxsize=32)
def _parsed(config_json: str, subgraphs_json: str) -> tuple[GraphConfig, dict[str, GraphConfig]]:
    import json

    subgraphs = {name: GraphConfig.model_validate(body) for name, body in json.loads(subgraphs_json).items()}
    return GraphConfig.model_validate(json.loads(config_json)), subgraphs
