"""MAG (mcp-agent-graph) execution semantics: levels, prompt placeholders and the planner.

Pure Python, no AWS. The planner is a pure function of the graph config, the start text and
the history of finished node runs: it replays that history and answers with the next batch of
node runs (one level at a time), or with the final result. Nothing else is remembered between
steps, so a retried orchestrator step gets the same answer.

- Levels: B depends on A when A is in B's `input_nodes`, or when A (without handoffs) lists B
  in its `output_nodes` and B does not list A back. Level = max(dependency levels) + 1; nodes
  depending only on `start` are level 0. A dependency cycle is broken deterministically (the
  first node of the cycle in config order is levelled from its already levelled dependencies).
- Handoffs: a node with `handoffs: k` is offered `transfer_to_<node>` for each of its
  `output_nodes` (except `end`) while it has routed fewer than k times. A handoff jumps to the
  target, which runs alone; execution then continues with the levels after the target's level.
  When several nodes of one batch hand off, the first in config order is followed (all count).
- Subgraphs: a subgraph node runs its graph inside the parent's batches. Its nested runs are
  named `<subgraph node>/<inner node>` (nested further the same way); inside, `start` is the
  subgraph node's rendered user prompt and its output (for the parent) is the subgraph's result.
  Each run of a subgraph node starts the inner graph afresh.
- Batches: every node of a level runs in one batch; subgraph nodes of that level contribute their
  own inner batches, merged with their siblings' (so a batch may hold runs of several levels of
  different graphs). `execution_chain` lists the names of each batch, in the order they ran.
- A failed node run stops the execution. At most MAX_NODE_RUNS node runs per execution.
"""

from __future__ import annotations

import re
from collections.abc import Generator, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from stratus.mag.models import END, START, AgentNode, GraphConfig

SEPARATOR = "\n\n---\n\n"
PATH_SEPARATOR = "/"
MAX_NODE_RUNS = 200
MAX_SUBGRAPH_DEPTH = 8
HANDOFF_TOOL_PREFIX = "transfer_to_"
COMPLETED = "COMPLETED"

# {{name}}, {{name:3}}, {{name:all}}; names may hold spaces but no braces or colons.
_PLACEHOLDER = re.compile(r"\{\{\s*([^{}:]+?)\s*(?::\s*(all|\d+)\s*)?\}\}")


class MagPlanError(ValueError):
    """The graph cannot go on (a missing subgraph, a history that does not fit the graph...)."""


@dataclass(frozen=True)
class NodeRun:
    """A finished node run, as the planner needs it."""

    name: str  # qualified: "<subgraph node>/<inner node>" inside subgraphs
    output: str = ""
    handoff: str | None = None  # the chosen transfer target (an unqualified sibling name)
    status: str = COMPLETED
    error: str | None = None


@dataclass(frozen=True)
class PlannedRun:
    """One agent node run to execute: the node's config with its prompts rendered."""

    name: str
    node: AgentNode
    level: int
    system_prompt: str
    user_prompt: str
    handoff_targets: tuple[str, ...] = ()

    def run_input(self) -> dict[str, Any]:
        """The agent node block's input."""
        return {
            "node_name": self.name,
            "level": self.level,
            "model_name": self.node.model_name or "",
            "system_prompt": self.system_prompt,
            "user_prompt": self.user_prompt,
            "mcp_servers": list(self.node.mcp_servers),
            "handoff_targets": list(self.handoff_targets),
            "max_iterations": self.node.max_iterations,
            "output_enabled": self.node.output_enabled,
        }


@dataclass
class Plan:
    batch: list[PlannedRun] = field(default_factory=list)  # the next runs; empty when done
    done: bool = False
    final_result: str | None = None  # set when done without error
    execution_chain: list[list[str]] = field(default_factory=list)
    error: str | None = None


# --- levels -----------------------------------------------------------------------------
def dependencies(config: GraphConfig) -> dict[str, list[str]]:
    """Each node's dependencies (node names, config order), per the level rules."""
    names = [node.name for node in config.nodes]
    by_name = {node.name: node for node in config.nodes}
    deps: dict[str, list[str]] = {name: [] for name in names}
    for node in config.nodes:
        for source in node.input_nodes:
            if source in by_name and source not in deps[node.name]:
                deps[node.name].append(source)
        if node.handoffs is not None:
            continue
        for target in node.output_nodes:
            if target in by_name and node.name not in by_name[target].output_nodes and node.name not in deps[target]:
                deps[target].append(node.name)
    return {name: [d for d in names if d in deps[name] and d != name] for name in names}


def levels(config: GraphConfig) -> dict[str, int]:
    deps = dependencies(config)
    level: dict[str, int] = {}
    pending = [node.name for node in config.nodes]
    while pending:
        ready = [name for name in pending if all(d in level for d in deps[name])]
        if not ready:  # a cycle: level its first node from what is levelled already
            ready = pending[:1]
        for name in ready:
            level[name] = max((level[d] + 1 for d in deps[name] if d in level), default=0)
        pending = [name for name in pending if name not in level]
    return level


# --- placeholders -----------------------------------------------------------------------
def render(template: str, outputs: Mapping[str, Sequence[str]], start_text: str) -> str:
    """Replace {{node}}, {{node:N}}, {{node:all}} and {{start}}; unknown names stay as written."""

    def replace(match: re.Match[str]) -> str:
        name, count = match.group(1), match.group(2)
        if name == START:
            return start_text
        if name not in outputs:
            return match.group(0)
        history = list(outputs[name])
        if count is None:
            return history[-1] if history else ""
        chosen = history if count == "all" else (history[-int(count) :] if int(count) else [])
        return SEPARATOR.join(chosen)

    return _PLACEHOLDER.sub(replace, template or "")


def referenced(*templates: str) -> set[str]:
    return {match.group(1) for template in templates for match in _PLACEHOLDER.finditer(template or "")}


def node_prompts(node: AgentNode, outputs: Mapping[str, Sequence[str]], start_text: str) -> tuple[str, str]:
    """(system prompt, user prompt) of a node run. Input nodes that no placeholder names have
    their latest output appended to the user prompt (MAG's older behaviour)."""
    system = render(node.system_prompt, outputs, start_text)
    user = render(node.user_prompt, outputs, start_text)
    named = referenced(node.system_prompt, node.user_prompt)
    appended = []
    for source in node.input_nodes:
        if source in named or source == END:
            continue
        latest = start_text if source == START else (list(outputs.get(source, ())) or [""])[-1]
        if latest:
            appended.append(latest)
    return system, "\n\n".join(part for part in [user, *appended] if part)


def handoff_tool_name(target: str) -> str:
    """OpenAI tool names allow [A-Za-z0-9_-]{1,64}."""
    return (HANDOFF_TOOL_PREFIX + re.sub(r"[^A-Za-z0-9_-]", "_", target))[:64]


# --- the planner ------------------------------------------------------------------------
Batch = list[PlannedRun]
Results = dict[str, NodeRun]
Process = Generator[Batch, Results, Any]


@dataclass(frozen=True)
class _Context:
    subgraphs: Mapping[str, GraphConfig]


def _agent(run: PlannedRun) -> Process:
    results = yield [run]
    return results[run.name]


def _parallel(processes: dict[str, Process]) -> Generator[Batch, Results, dict[str, Any]]:
    """Run processes side by side: each step's batch is the union of their requests."""
    done: dict[str, Any] = {}
    waiting: dict[str, Batch] = {}
    for name, process in processes.items():
        try:
            waiting[name] = next(process)
        except StopIteration as stop:
            done[name] = stop.value
    while waiting:
        results = yield [run for batch in waiting.values() for run in batch]
        for name in list(waiting):
            try:
                waiting[name] = processes[name].send({run.name: results[run.name] for run in waiting[name]})
            except StopIteration as stop:
                done[name] = stop.value
                del waiting[name]
    return done


def _graph(context: _Context, config: GraphConfig, prefix: str, start_text: str, depth: int) -> Process:
    """One run of a graph; returns its result text."""
    level = levels(config)
    order = sorted(set(level.values()))
    by_name = {node.name: node for node in config.nodes}
    outputs: dict[str, list[str]] = {node.name: [] for node in config.nodes}
    routed: dict[str, int] = {node.name: 0 for node in config.nodes}
    last_output = ""
    position, jump = 0, None
    while True:
        if jump is not None:
            members, current = [by_name[jump]], level[jump]
        elif position < len(order):
            current = order[position]
            members = [node for node in config.nodes if level[node.name] == current]
        else:
            break
        processes: dict[str, Process] = {}
        offered: dict[str, tuple[str, ...]] = {}
        for node in members:
            system, user = node_prompts(node, outputs, start_text)
            if node.is_subgraph:
                processes[node.name] = _subgraph(context, node, prefix, user, depth)
                continue
            targets = (
                tuple(t for t in node.output_nodes if t != END and t in by_name)
                if node.handoffs is not None and routed[node.name] < node.handoffs
                else ()
            )
            offered[node.name] = targets
            processes[node.name] = _agent(PlannedRun(prefix + node.name, node, current, system, user, targets))
        results = yield from _parallel(processes)
        jump = None
        for node in members:
            result = results[node.name]
            output = result if isinstance(result, str) else result.output
            outputs[node.name].append(output)
            last_output = output
            handoff = None if isinstance(result, str) else result.handoff
            if handoff and handoff in offered.get(node.name, ()):
                routed[node.name] += 1
                jump = handoff if jump is None else jump
        if jump is None:
            position = next((i for i, value in enumerate(order) if value > current), len(order))
    if config.end_template:
        return render(config.end_template, outputs, start_text)
    return last_output


def _subgraph(context: _Context, node: AgentNode, prefix: str, start_text: str, depth: int) -> Process:
    if depth >= MAX_SUBGRAPH_DEPTH:
        raise MagPlanError(f"Subgraphs nest deeper than {MAX_SUBGRAPH_DEPTH} levels at {prefix + node.name!r}.")
    config = context.subgraphs.get(node.subgraph_name or "")
    if config is None:
        raise MagPlanError(f"Subgraph {node.subgraph_name!r} of node {prefix + node.name!r} is not available.")
    return (yield from _graph(context, config, f"{prefix}{node.name}{PATH_SEPARATOR}", start_text, depth + 1))


def plan(
    config: GraphConfig,
    subgraphs: Mapping[str, GraphConfig],
    start_text: str,
    history: Sequence[NodeRun],
    max_runs: int = MAX_NODE_RUNS,
) -> Plan:
    """The next batch after `history` (finished runs in the order they were planned), or done."""
    process = _graph(_Context(subgraphs), config, "", start_text, 0)
    chain: list[list[str]] = []
    position = 0
    try:
        batch = next(process)
        while True:
            runs = list(history[position : position + len(batch)])
            if not runs:
                if position + len(batch) > max_runs:
                    return Plan(
                        done=True,
                        execution_chain=chain,
                        error=f"The graph stopped after {position} node runs (the limit is {max_runs}).",
                    )
                return Plan(batch=batch, execution_chain=chain)
            _check_batch(batch, runs)
            chain.append([run.name for run in batch])
            position += len(batch)
            failed = next((run for run in runs if run.status != COMPLETED), None)
            if failed is not None:
                return Plan(
                    done=True,
                    execution_chain=chain,
                    error=f"Node {failed.name} {failed.status.lower()}: {failed.error or 'no output'}",
                )
            batch = process.send({run.name: run for run in runs})
    except StopIteration as stop:
        if position != len(history):
            return Plan(
                done=True,
                execution_chain=chain,
                error=f"{len(history) - position} recorded node runs do not belong to this graph's plan.",
            )
        return Plan(done=True, final_result=stop.value, execution_chain=chain)
    except MagPlanError as exc:  # no retry can fix it: the execution ends with the error
        return Plan(done=True, execution_chain=chain, error=str(exc))


def _check_batch(batch: Iterable[PlannedRun], runs: Sequence[NodeRun]) -> None:
    planned = sorted(run.name for run in batch)
    found = sorted(run.name for run in runs)
    if planned != found:
        raise MagPlanError(f"The recorded node runs {found} do not match the planned batch {planned}.")
