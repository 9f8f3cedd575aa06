"""AutoGPT's dataflow semantics over a graph version and the state of one execution.

- Start nodes: nodes with no inbound link, plus every input node (Note blocks never run).
- A node execution is queued when every pin with an inbound link has a value; a default
  in input_default does not satisfy a linked pin.
- Each yield is routed at once over every link of its pin, into the oldest incomplete
  execution of the sink that lacks that pin, or a new one: N yields give N runs.
- Static links keep their value: it fills the pin of later executions, and its arrival
  completes every waiting execution of the sink.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from stratus.blocks.dynamic_pins import fires, merge_execution_input, parse_execution_output
from stratus.blocks.registry import get_block
from stratus.blocks.sdk import BlockType
from stratus.engine.models import ExecutionStatus, NodeExecution
from stratus.graphs.models import Graph, Link, Node

Status = ExecutionStatus


@dataclass
class EngineState:
    graph_exec_id: str
    graph: Graph
    node_execs: dict[str, NodeExecution] = field(default_factory=dict)
    # (sink node id, sink pin) → the latest value that arrived over a static link
    static_values: dict[tuple[str, str], Any] = field(default_factory=dict)
    new_id: Callable[[], str] = field(default=lambda: str(uuid.uuid4()))
    now: Callable[[], str | None] = field(default=lambda: None)
    # Ids of node executions and static pins changed since the last `take_changes`.
    changed: set[str] = field(default_factory=set)
    changed_static: set[tuple[str, str]] = field(default_factory=set)
    # Finished outside the engine (a block Lambda) and not yet routed.
    unrouted: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.nodes: dict[str, Node] = {node.id: node for node in self.graph.nodes}
        # Executions per node, in creation order: routing looks only at the sink's own.
        self.execs_by_node: dict[str, list[NodeExecution]] = {}
        self.links_out: dict[str, list[Link]] = {}
        self.linked_pins: dict[str, set[str]] = {}
        self.static_pins: dict[str, set[str]] = {}
        for link in self.graph.links:
            self.links_out.setdefault(link.source_id, []).append(link)
            self.linked_pins.setdefault(link.sink_id, set()).add(link.sink_name)
            if link.is_static:
                self.static_pins.setdefault(link.sink_id, set()).add(link.sink_name)

    # --- queries ------------------------------------------------------------------------
    def by_status(self, *statuses: ExecutionStatus) -> list[NodeExecution]:
        return sorted((e for e in self.node_execs.values() if e.status in statuses), key=lambda e: e.seq)

    def queued(self) -> list[NodeExecution]:
        return self.by_status(Status.QUEUED)

    def is_finished(self) -> bool:
        return not self.by_status(Status.QUEUED, Status.RUNNING)

    def add(self, node_exec: NodeExecution) -> None:
        self.node_execs[node_exec.node_exec_id] = node_exec
        self.execs_by_node.setdefault(node_exec.node_id, []).append(node_exec)

    def waiting(self, node_id: str) -> list[NodeExecution]:
        return [e for e in self.execs_by_node.get(node_id, ()) if e.status is Status.INCOMPLETE]

    def take_changes(self) -> tuple[list[NodeExecution], dict[tuple[str, str], Any]]:
        execs = [self.node_execs[i] for i in sorted(self.changed, key=lambda i: self.node_execs[i].seq)]
        statics = {key: self.static_values[key] for key in self.changed_static}
        self.changed, self.changed_static = set(), set()
        return execs, statics

    # --- building blocks ------------------------------------------------------------------
    def _new_exec(self, node: Node, input_data: dict[str, Any]) -> NodeExecution:
        node_exec = NodeExecution(
            node_exec_id=self.new_id(),
            graph_exec_id=self.graph_exec_id,
            node_id=node.id,
            block_id=node.block_id,
            status=Status.INCOMPLETE,
            seq=len(self.node_execs),
            input_data=input_data,
            add_time=self.now(),
        )
        self.add(node_exec)
        self.changed.add(node_exec.node_exec_id)
        return node_exec

    def _try_queue(self, node_exec: NodeExecution) -> bool:
        """Queue the execution if every linked pin has a value (static ones filled in)."""
        node = self.nodes[node_exec.node_id]
        for pin in self.static_pins.get(node.id, ()):
            if pin not in node_exec.input_data and (node.id, pin) in self.static_values:
                node_exec.input_data[pin] = self.static_values[(node.id, pin)]
        if not self.linked_pins.get(node.id, set()) <= set(node_exec.input_data):
            return False
        node_exec.status = Status.QUEUED
        node_exec.queue_time = self.now()
        self.changed.add(node_exec.node_exec_id)
        return True


def run_input(state: EngineState, node_exec: NodeExecution) -> dict[str, Any]:
    """The block input of a queued execution: defaults, then received values, dynamic pins merged."""
    node = state.nodes[node_exec.node_id]
    return merge_execution_input({**node.input_default, **node_exec.input_data})


def start(state: EngineState, inputs: dict[str, Any]) -> list[NodeExecution]:
    """Create the first node executions: input nodes get `value` from the graph inputs."""
    started = []
    for node in state.graph.nodes:
        block = get_block(node.block_id)
        if block is None or block.block_type is BlockType.NOTE:
            continue
        if block.block_type is BlockType.INPUT:
            name = node.input_default.get("name")
            value = inputs.get(name, node.input_default.get("value")) if name else node.input_default.get("value")
            node_exec = state._new_exec(node, {"value": value})
        elif node.id not in state.linked_pins:
            node_exec = state._new_exec(node, {})
        else:
            continue
        state._try_queue(node_exec)
        started.append(node_exec)
    return started


def mark_running(state: EngineState, node_exec: NodeExecution) -> None:
    node_exec.status = Status.RUNNING
    node_exec.start_time = state.now()
    state.changed.add(node_exec.node_exec_id)


def complete(
    state: EngineState, node_exec: NodeExecution, outputs: Iterable[tuple[str, Any]], failed: bool = False
) -> list[NodeExecution]:
    """Record a node's outputs in yield order and route each one; returns touched sink executions."""
    touched: list[NodeExecution] = []
    for name, value in outputs:
        node_exec.output_data.setdefault(name, []).append(value)
        failed = failed or name == "error"
        touched.extend(route(state, node_exec.node_id, name, value))
    node_exec.status = Status.FAILED if failed else Status.COMPLETED
    node_exec.end_time = state.now()
    state.changed.add(node_exec.node_exec_id)
    return touched


def route(state: EngineState, node_id: str, output_name: str, value: Any) -> list[NodeExecution]:
    """Deliver one yield over every link it fires on."""
    touched = []
    for link in state.links_out.get(node_id, []):
        data = parse_execution_output(output_name, value, link.source_name, link.sink_id, link.sink_name)
        if not fires(data):
            continue
        sink = state.nodes.get(link.sink_id)
        if sink is None:
            continue
        if link.is_static:
            state.static_values[(sink.id, link.sink_name)] = data
            state.changed_static.add((sink.id, link.sink_name))
        target = next((e for e in state.waiting(sink.id) if link.sink_name not in e.input_data), None)
        if target is None:
            target = state._new_exec(sink, {})
        target.input_data[link.sink_name] = data
        state.changed.add(target.node_exec_id)
        state._try_queue(target)
        touched.append(target)
        if link.is_static:
            # A static value completes every execution of the sink still waiting for it.
            for waiting in state.waiting(sink.id):
                if link.sink_name not in waiting.input_data:
                    waiting.input_data[link.sink_name] = data
                    state.changed.add(waiting.node_exec_id)
                    if state._try_queue(waiting):
                        touched.append(waiting)
    return touched


def route_finished(state: EngineState, node_exec: NodeExecution) -> list[NodeExecution]:
    """Route the recorded outputs of a node that finished outside the engine."""
    touched = []
    for name, value_list in node_exec.output_data.items():
        for value in value_list:
            touched.extend(route(state, node_exec.node_id, name, value))
    state.unrouted.discard(node_exec.node_exec_id)
    state.changed.add(node_exec.node_exec_id)
    return touched


def terminate(state: EngineState) -> list[NodeExecution]:
    """Stop: queued and waiting executions will never run."""
    stopped = state.by_status(Status.QUEUED, Status.INCOMPLETE, Status.RUNNING)
    for node_exec in stopped:
        node_exec.status = Status.TERMINATED
        node_exec.end_time = state.now()
        state.changed.add(node_exec.node_exec_id)
    return stopped


def graph_outputs(state: EngineState) -> dict[str, list[Any]]:
    """outputs[name]: the values output blocks named `name` produced, in execution order."""
    outputs: dict[str, list[Any]] = {}
    for node_exec in sorted(state.node_execs.values(), key=lambda e: e.seq):
        block = get_block(node_exec.block_id)
        if block is None or block.block_type is not BlockType.OUTPUT or node_exec.status is not Status.COMPLETED:
            continue
        names = node_exec.output_data.get("name") or [state.nodes[node_exec.node_id].input_default.get("name")]
        for value in node_exec.output_data.get("output", []):
            outputs.setdefault(names[0], []).append(value)
    return outputs
