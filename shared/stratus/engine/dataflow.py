"""AutoGPT's dataflow semantics over a graph version and the state of one execution.

- Start nodes: nodes with no inbound link, plus every input node (Note blocks never run).
- Graphs may loop (a node's output linked back to itself or to an earlier node): nothing here
  needs an order of the nodes, only the executions each node has.
- Each yield is routed at once over every link of its pin, into the oldest INCOMPLETE
  execution of the sink that lacks that pin, or a new one: N yields give N runs, and a node's
  next execution collects its inputs while an earlier one is queued or running.
- Readiness is the sink block's (AutoGPT's `validate_exec`): an execution is queued when its
  input schema's `get_missing_links(received, inbound links)` is empty (by default: every
  linked pin has a value; a default in input_default never satisfies a linked pin), and then
  `get_missing_input(defaults + received, dynamic pins merged)` is empty (by default: every
  required input has a value). Blocks may override both (SmartDecisionMaker does). A hook that
  raises fails the execution with its message (AutoGPT logs it and leaves the execution waiting).
- Static links keep their value: it fills the pin of later executions, and its arrival
  completes every waiting execution of the sink.

Every operation costs what it touches, not the length of the execution: executions are
indexed by status and, for each (node, linked pin), by the INCOMPLETE ones lacking it, so a
1,000-iteration loop does linear work in all.
"""

from __future__ import annotations

import uuid
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from stratus.blocks.dynamic_pins import fires, merge_execution_input, parse_execution_output
from stratus.blocks.registry import get_block
from stratus.blocks.sdk import BlockType
from stratus.engine.models import ExecutionStatus, NodeExecution
from stratus.graphs.models import Graph, Link, Node

Status = ExecutionStatus
# Statuses kept in an index (the others are final: nothing looks them up by status).
_INDEXED = (Status.INCOMPLETE, Status.QUEUED, Status.RUNNING)
# A node execution in one of these has run (or is running): what the node-run budget counts.
_RAN = (Status.RUNNING, Status.COMPLETED, Status.FAILED)


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
        # Executions per node, in creation order.
        self.execs_by_node: dict[str, list[NodeExecution]] = {}
        self.links_out: dict[str, list[Link]] = {}
        self.links_in: dict[str, list[Link]] = {}
        self.linked_pins: dict[str, set[str]] = {}
        self.static_pins: dict[str, set[str]] = {}
        for link in self.graph.links:
            self.links_out.setdefault(link.source_id, []).append(link)
            self.links_in.setdefault(link.sink_id, []).append(link)
            self.linked_pins.setdefault(link.sink_id, set()).add(link.sink_name)
            if link.is_static:
                self.static_pins.setdefault(link.sink_id, set()).add(link.sink_name)
        # status → {id: execution} for the statuses that change (insertion order ≈ seq order).
        self._by_status: dict[ExecutionStatus, dict[str, NodeExecution]] = {s: {} for s in _INDEXED}
        # node id → its INCOMPLETE executions, in creation order.
        self._incomplete: dict[str, dict[str, NodeExecution]] = {}
        # (node id, linked pin) → INCOMPLETE executions that lacked the pin when indexed, oldest
        # first. Entries go stale when the pin is filled or the execution leaves INCOMPLETE;
        # they are dropped when met at the front, so each costs O(1) once.
        self._lacking: dict[tuple[str, str], deque[NodeExecution]] = {}
        self.node_runs = 0  # executions that ran or run (RUNNING, COMPLETED, FAILED)

    # --- queries ------------------------------------------------------------------------
    def by_status(self, *statuses: ExecutionStatus) -> list[NodeExecution]:
        if all(s in self._by_status for s in statuses):
            found = [e for s in statuses for e in self._by_status[s].values()]
        else:
            found = [e for e in self.node_execs.values() if e.status in statuses]
        return sorted(found, key=lambda e: e.seq)

    def queued(self) -> list[NodeExecution]:
        return self.by_status(Status.QUEUED)

    def is_finished(self) -> bool:
        return not self._by_status[Status.QUEUED] and not self._by_status[Status.RUNNING]

    def add(self, node_exec: NodeExecution) -> None:
        """Take in an execution (a loaded one, or one a flow planned), indexed by its status."""
        self.node_execs[node_exec.node_exec_id] = node_exec
        self.execs_by_node.setdefault(node_exec.node_id, []).append(node_exec)
        self._index(node_exec)
        if node_exec.status in _RAN:
            self.node_runs += 1
        if node_exec.status is Status.INCOMPLETE:
            for pin in self.linked_pins.get(node_exec.node_id, ()):
                if pin not in node_exec.input_data:
                    self._lacking.setdefault((node_exec.node_id, pin), deque()).append(node_exec)

    def set_status(self, node_exec: NodeExecution, status: ExecutionStatus) -> None:
        if node_exec.status is status:
            return
        self._unindex(node_exec)
        if status in _RAN and node_exec.status not in _RAN:
            self.node_runs += 1
        node_exec.status = status
        self._index(node_exec)
        self.changed.add(node_exec.node_exec_id)

    def _index(self, node_exec: NodeExecution) -> None:
        if node_exec.status in self._by_status:
            self._by_status[node_exec.status][node_exec.node_exec_id] = node_exec
        if node_exec.status is Status.INCOMPLETE:
            self._incomplete.setdefault(node_exec.node_id, {})[node_exec.node_exec_id] = node_exec

    def _unindex(self, node_exec: NodeExecution) -> None:
        if node_exec.status in self._by_status:
            self._by_status[node_exec.status].pop(node_exec.node_exec_id, None)
        if node_exec.status is Status.INCOMPLETE:
            self._incomplete.get(node_exec.node_id, {}).pop(node_exec.node_exec_id, None)

    def waiting(self, node_id: str) -> list[NodeExecution]:
        """The node's INCOMPLETE executions, oldest first."""
        return list(self._incomplete.get(node_id, {}).values())

    def oldest_lacking(self, node_id: str, pin: str) -> NodeExecution | None:
        """The oldest INCOMPLETE execution of the node without a value for this linked pin."""
        lacking = self._lacking.get((node_id, pin))
        while lacking:
            node_exec = lacking[0]
            if node_exec.status is Status.INCOMPLETE and pin not in node_exec.input_data:
                return node_exec
            lacking.popleft()
        return None

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
        """Queue the execution if its block's readiness rule is met (static pins filled in)."""
        node = self.nodes[node_exec.node_id]
        for pin in self.static_pins.get(node.id, ()):
            if pin not in node_exec.input_data and (node.id, pin) in self.static_values:
                node_exec.input_data[pin] = self.static_values[(node.id, pin)]
        block = get_block(node.block_id)
        links = self.links_in.get(node.id, [])
        if block is None:  # it fails when it runs, like any unknown block
            ready = {link.sink_name for link in links} <= set(node_exec.input_data)
        else:
            schema = block.input_schema
            try:
                ready = not schema.get_missing_links(node_exec.input_data, links) and not schema.get_missing_input(
                    merge_execution_input({**node.input_default, **node_exec.input_data})
                )
            except Exception as exc:  # a hook refusing the node's wiring or inputs
                _fail_unrun(self, node_exec, f"{block.name}: {exc}")
                return False
        if not ready:
            return False
        self.set_status(node_exec, Status.QUEUED)
        node_exec.queue_time = self.now()
        return True


def _fail_unrun(state: EngineState, node_exec: NodeExecution, error: str) -> None:
    node_exec.output_data.setdefault("error", []).append(error)
    state.set_status(node_exec, Status.FAILED)
    node_exec.end_time = state.now()


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
    state.set_status(node_exec, Status.RUNNING)
    node_exec.start_time = state.now()


def complete(
    state: EngineState, node_exec: NodeExecution, outputs: Iterable[tuple[str, Any]], failed: bool = False
) -> list[NodeExecution]:
    """Record a node's outputs in yield order and route each one; returns touched sink executions."""
    touched: list[NodeExecution] = []
    for name, value in outputs:
        node_exec.output_data.setdefault(name, []).append(value)
        failed = failed or name == "error"
        touched.extend(route(state, node_exec.node_id, name, value))
    state.set_status(node_exec, Status.FAILED if failed else Status.COMPLETED)
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
        pin = link.sink_name
        if link.is_static:
            state.static_values[(sink.id, pin)] = data
            state.changed_static.add((sink.id, pin))
        target = state.oldest_lacking(sink.id, pin)
        if target is None:
            target = state._new_exec(sink, {pin: data})
        else:
            target.input_data[pin] = data
            state.changed.add(target.node_exec_id)
        state._try_queue(target)
        touched.append(target)
        if link.is_static:
            # A static value completes every execution of the sink still waiting for it.
            while (waiting := state.oldest_lacking(sink.id, pin)) is not None:
                waiting.input_data[pin] = data
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
        state.set_status(node_exec, Status.TERMINATED)
        node_exec.end_time = state.now()
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
